"""The calibration targets (``TARGETS``): what poolsim must agree with, and the evidence.

Each measure function runs what it needs with a fixed seed and returns one number; its docstring
says what is measured, why the band is what it is and why the tolerance holds (it is printed in
docs/calibration.md). Runs shared by several targets are cached (``_run``), so the whole suite
runs each scenario once. Topics add their own ``targets_<topic>.py`` (in this package) with a
list ``TARGETS`` of ``Target``; ``topic_targets`` appends them to ``TARGETS`` below.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 6: https://helpcenter.veeam.com/docs/vbo365/guide/maintenance_mode.html
vb365 fact 10: https://bp.veeam.com/vb365/guide/buildconfig/proxy
vb365 fact 13: https://bp.veeam.com/vb365/guide/design/sizing/proxy.html
vb365 fact 15: https://bp.veeam.com/vb365/guide/design/sizing
vb365 fact 16: https://bp.veeam.com/vb365/guide/design/sizing
vb365 fact 17: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html
vb365 fact 21: https://bp.veeam.com/vb365/guide/design/sizing/diskrepo.html
vb365 fact 25: https://learn.microsoft.com/graph/throttling-limits
vb365 fact 26: https://learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online
vb365 fact 27: https://bp.veeam.com/vb365/guide/operate/orgconfig
vb365 fact 30: https://bp.veeam.com/vbo/guide/design/sizing/objectstorage.html
VCSP blueprint, fact 15's figures per 1,000 users:
https://veeamvcsp.github.io/docs/vbo/blueprint/3_sizing_assumptions.html
vb365 fact 12: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sim.bench.calibration import Outcome, Target, inferred_defaults, markdown

if TYPE_CHECKING:
    from sim.experiment.run import RunResult
    from sim.workload import ObjectTable

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
"""The shipped scenarios (the repository's ``scenarios/``), whatever the working directory."""

BLUEPRINT_URL = "https://veeamvcsp.github.io/docs/vbo/blueprint/3_sizing_assumptions.html"
SIZING_PROXY_URL = "https://bp.veeam.com/vb365/guide/design/sizing/proxy.html"
SIZING_URL = "https://bp.veeam.com/vb365/guide/design/sizing"
DISKREPO_URL = "https://bp.veeam.com/vb365/guide/design/sizing/diskrepo.html"
THROTTLING_URL = "https://bp.veeam.com/vb365/guide/operate/throttling"
MAINTENANCE_URL = "https://helpcenter.veeam.com/docs/vbo365/powershell/set-vboproxymaintenance.html"

SEED = 17
"""The seed of every generated inventory and run of this module."""

WINDOW_S = 8 * 3600.0
"""The 8-hour nightly window of the sizing rule's scenario."""

SIZING_SCENARIO = """
name: calibration-sizing-{cores}c-{os}
description: One {os} proxy, {cores} cores / 32 GB, default threads; {users} users protected.
seed: {seed}
tenants:
  - name: contoso
    users: {users}
proxies:
  - {{name: proxy, os: {os}, cores: {cores}, ram: 32 GB}}
repositories:
  - {{name: s3, kind: s3, owner: proxy, write_bandwidth: 5 Gbps}}
jobs:
  - {{name: exchange, tenant: contoso, workloads: [exchange], repository: s3,
     schedule: {{daily: "22:00", window: 8h}}}}
  - {{name: onedrive, tenant: contoso, workloads: [onedrive], repository: s3,
     schedule: {{daily: "22:00", window: 8h}}}}
  - {{name: sharepoint-teams, tenant: contoso, workloads: [sharepoint, teams], repository: s3,
     schedule: {{daily: "22:00", window: 8h}}}}
simulation:
  days: 1
  initial_state: protected
"""
"""The sizing rule's scenario: a generated tenant in protected state (the night
is an incremental), one proxy (Windows unless said) with 32 GB and default threads, three jobs
(Exchange; OneDrive; SharePoint and Teams) from 22:00 with an 8-hour window."""


@cache
def _run(name: str) -> RunResult:
    """One run, cached by name: each scenario of the suite runs once per process."""
    from sim.experiment.run import simulate
    from sim.scenario import load_scenario_text

    if name == "sizing-rule-night":
        return simulate(SCENARIOS / "sizing-rule.yaml", overrides=["simulation.days=1"], seed=SEED)
    if name.startswith("sizing-"):  # sizing-<cores>c-<users>u[-linux]
        cores, users, *os_ = name.removeprefix("sizing-").split("-")
        text = SIZING_SCENARIO.format(
            cores=int(cores.removesuffix("c")),
            users=int(users.removesuffix("u")),
            os=os_[0] if os_ else "windows",
            seed=SEED,
        )
        return simulate(load_scenario_text(text, name=f"<calibration {name}>"))
    if name == "enterprise-20k-incremental":
        return simulate(
            SCENARIOS / "enterprise-20k.yaml",
            overrides=["simulation.initial_state=protected", "simulation.days=1"],
        )
    if name == "enterprise-20k-full":
        return simulate(
            SCENARIOS / "enterprise-20k.yaml",
            overrides=["simulation.initial_state=empty", "simulation.days=1"],
        )
    if name == "maintenance-drill":
        return simulate(SCENARIOS / "maintenance-drill.yaml")
    raise KeyError(name)


def _objects_done_within(result: RunResult, seconds: float) -> int:
    """Objects whose task ended ``done`` within ``seconds`` of the first task's start."""
    tasks = result.tasks
    first = float(tasks["start"].min())
    done = (tasks["status"] == "done") & (tasks["end"] <= first + seconds)
    return int(done.sum())


def _generated(users: int) -> ObjectTable:
    import numpy as np

    from sim.scenario.schema import TenantSpec
    from sim.workload import generate_objects

    return generate_objects(
        TenantSpec(name="calibration", users=users), np.random.default_rng(SEED)
    )


# -- inventory (vb365 fact 15) ---------------------------------------------------------------


def objects_per_1000_users() -> float:
    """Objects (teams counted twice, as Veeam counts them) of a generated 1,000-user tenant with
    the default mix.

    The VCSP blueprint's sizing assumptions give 1,000 users = 1,000 mailboxes, 500 archives, 75
    shared mailboxes, 1,000 OneDrives and 15 sites = 2,590 objects. Counts are users x ratio,
    rounded per type, with no random draw, so the band is the blueprint's figure exactly: a
    change of the default mix that moves it by one object fails. (Veeam's best-practice worked
    example, 500 users = 3,410 objects, assumes a richer mix, 6.8 objects per user, vb365 fact
    15; a tenant like it sets ``tenants[].objects``.)"""
    return float(_generated(1000).licence_units)


def objects_per_50000_users() -> float:
    """Objects of a generated 50,000-user tenant with the default mix.

    The same blueprint scales its assumption to 50,000 users = 129,500 objects (2.59 per user).
    Exact for the same reason as the 1,000-user target; this one also catches a rounding that
    drifts with the tenant's size."""
    return float(_generated(50_000).licence_units)


def gb_per_user() -> float:
    """Source bytes per user (GB, decimal) of a generated 10,000-user tenant, seed 17.

    The blueprint assumes 5-10 GB per user. The default mean sizes (``MEAN_SIZE_BYTES_OF_TYPE``,
    INFERRED) give 6.7 GB per user in expectation. Sizes are lognormal; the heaviest tails are
    OneDrive (sigma 1.4, coefficient of variation 2.5) and sites (sigma 1.6, CV 3.4), so the
    total's standard error over 10,000 users is about 1.2 % of its mean (0.08 GB per user): the
    sample lies inside the band with a margin of over 15 standard errors on each side, whatever
    the seed."""
    objs = _generated(10_000)
    return float(objs.size_bytes.sum()) / 1e9 / 10_000


# -- change rate (vb365 fact 21) -------------------------------------------------------------


def exchange_incremental_change_fraction() -> float:
    """Exchange bytes read on one incremental night over the Exchange bytes protected, on the
    40,000-user tenant of the sizing rule (8 cores, seed 17).

    Veeam's disk-repository sizing says Exchange's daily change is typically 0.2-1 %. The
    defaults (0.5 % for mailboxes and shared mailboxes, 0.2 % for archives, vb365 fact 21) blend
    to about 0.43 % of the bytes; over 63,000 Exchange objects the sampling error of the ratio
    is a few percent of its value, far from either edge. A model change that transfers whole
    objects, or nothing, on an incremental moves it out of band."""
    from sim.workload import WORKLOAD_INDEX, build_workload

    result = _run("sizing-8c-40000u")
    objs = build_workload(result.scenario, seed=result.seed).tenants[0].objects
    protected = float(objs.size_bytes[objs.workload == WORKLOAD_INDEX["exchange"]].sum())
    tasks = result.tasks
    read = float(tasks.loc[tasks["workload"] == "exchange", "bytes_read"].sum())
    return read / protected


# -- the sizing rule (vb365 facts 13, 16) ----------------------------------------------------


def sizing_rule_tenant_done_fraction() -> float:
    """Fraction of the objects of ``scenarios/sizing-rule.yaml`` (7,700 users, about 20,000
    objects, one Windows proxy with 8 cores and 32 GB) done within the 8-hour window on an
    incremental night (seed 17, one day).

    "A proxy with 8 cores and 32 GB RAM should be able to handle 20.000 objects": every object
    of such a tenant must be done within the window, so the band is exactly 1. This is the
    lower side of the rule; ``sizing.objects_in_8h`` checks that the proxy does not do many
    times more."""
    result = _run("sizing-rule-night")
    return _objects_done_within(result, WINDOW_S) / len(result.tasks)


def sizing_objects_in_8h() -> float:
    """Objects done within 8 hours of the first start by one Windows proxy with 8 cores, 32 GB
    and default threads, on a generated 40,000-user tenant (103,600 objects) in protected state,
    three jobs (Exchange; OneDrive; SharePoint and Teams) from 22:00 in an 8-hour window, seed
    17.

    The rule says such a proxy "should be able to handle 20.000 objects", and Veeam's sizing
    advice is to design to 50-75 % of the recommended maximums (vb365 fact 16): the proxy's real
    capacity in one night is then 20,000 / 0.75 = 26,700 to 20,000 / 0.5 = 40,000 objects. The
    band [20,000, 40,000] takes the rule's figure as the floor and the 50 % margin as the
    ceiling. The count is a sum over tens of thousands of tasks of one seeded run; its
    run-to-run spread across seeds is far below the band's width (20,000 objects)."""
    return float(_objects_done_within(_run("sizing-8c-40000u"), WINDOW_S))


def sizing_fewer_with_4_cores() -> float:
    """Objects done within 8 hours by the 8-core proxy minus those done by the same proxy with 4
    cores, on the sizing rule's 40,000-user scenario (seed 17).

    The rule ties 20,000 objects to 8 cores; with half the cores the proxy must do fewer objects
    in the same night. Counts are integers, so "fewer" is a difference of at
    least one object: the band is >= 1."""
    eight = _objects_done_within(_run("sizing-8c-40000u"), WINDOW_S)
    four = _objects_done_within(_run("sizing-4c-40000u"), WINDOW_S)
    return float(eight - four)


def linux_over_windows_object_rate() -> float:
    """Object rate (objects per hour over the night) of a Linux proxy over that of the same
    Windows proxy, both with 4 cores, on the sizing rule's 40,000-user scenario (seed 17), where
    the proxy is the bottleneck of most of the transfer time.

    Veeam's QA found Linux proxies "up to 20 % more resource-efficient" than Windows ones (vb365
    fact 10): on a proxy-bound night the Linux proxy is at most 20 % faster and never slower,
    band [1.0, 1.2]. Where the source or the target binds instead the ratio tends to 1, so the
    band holds for any share of proxy-bound time; both runs see the same objects (one seed). The
    ratio is rounded to 6 decimals: a wholly proxy-bound night gives 1.2 exactly, which floating
    point may otherwise put a hair above the band."""
    windows = _run("sizing-4c-40000u").metric("object_rate")
    linux = _run("sizing-4c-40000u-linux").metric("object_rate")
    return round(linux / windows, 6)


# -- storage (vb365 fact 30) -----------------------------------------------------------------


def _stored_over_source(workload: str) -> float:
    tasks = _run("sizing-8c-40000u").tasks
    rows = tasks[tasks["workload"] == workload]
    return float(rows["bytes_written"].sum() / rows["bytes_read"].sum())


def exchange_stored_fraction() -> float:
    """Exchange bytes written to the repository over bytes read from Microsoft 365, on the
    sizing rule's incremental night (40,000 users, seed 17).

    Veeam's object-storage sizing says compression saves 40-50 % on Exchange data: stored bytes
    are 0.5-0.6 of the source (vb365 fact 30). Metadata objects are not in these bytes. The
    ratio is a property of the model's write path, the same for every object, so no sampling
    margin is needed."""
    return _stored_over_source("exchange")


def onedrive_stored_fraction() -> float:
    """OneDrive bytes written over bytes read on the same night.

    Compression saves 10-30 % on SharePoint and OneDrive data: stored bytes are 0.7-0.9 of the
    source (vb365 fact 30)."""
    return _stored_over_source("onedrive")


def sharepoint_ru_per_min_40k() -> float:
    """The tenant's SharePoint/OneDrive budget (resource units per minute) poolsim applies to the
    40,000-user tenant of the sizing scenario (its limits table).

    Microsoft's table gives 4,800 RU per minute to a tenant of 15,001-50,000 licences (vb365
    fact 26). A lookup, exact: a shifted tier edge or a budget in the wrong unit fails."""
    limits = _run("sizing-8c-40000u").limits
    row = limits[(limits["owner"] == "tenant") & (limits["limit"] == "sharepoint_ru")]
    return float(row["capacity_per_s"].iloc[0]) * 60.0


# -- maintenance (vb365 fact 6) --------------------------------------------------------------


def maintenance_resume_delay_max_s() -> float:
    """Longest resume delay of a handed-off object in ``scenarios/maintenance-drill.yaml``
    (seed 7): the time from the maintenance event to the object's first transfer on its new proxy
    (lifecycle frame column ``resume_delay_max_s``, largest over the maintenance events).

    The product says the tasks of a proxy put into maintenance "will be continued smoothly by
    another". Smoothly is not a number; poolsim reads it as within 10 minutes, the smallest
    delay a planner would notice against an 8-hour window (before the handoff was built as
    documented, the drill's objects resumed 3.9 hours later, behind the queue). The drill is
    deterministic (fixed seed), so the band needs no statistical margin."""
    lifecycle = _run("maintenance-drill").lifecycle
    # Handed-off objects are those of maintenance events; a failure's crashed objects are not
    # handed off (they fail and wait for the job's retry), so they are not part of this target.
    handed_off = lifecycle[lifecycle["event"] == "maintenance_on"]
    return float(handed_off["resume_delay_max_s"].max())


# -- throttling (vb365 facts 21, 27) ---------------------------------------------------------


def incremental_throttled_request_share() -> float:
    """``throttled_request_share`` (throttled Microsoft 365 requests over all requests issued,
    retries included) of one incremental night of ``scenarios/enterprise-20k.yaml`` (protected
    state, one day, seed 2026).

    Veeam's throttling page shows proxy log lines ``requests N, throttled M`` with about
    1.2-1.4 % throttled, and says throttling is rare on incrementals. The band [0.2 %, 5 %]
    brackets the example by a factor of about 4 on each side: one log example is one tenant on
    one night, and a share inside the band reads as "rare" while still being present."""
    return _run("enterprise-20k-incremental").metric("throttled_request_share")


def incremental_throttled_fraction() -> float:
    """``throttled_fraction`` (share of transfer time spent throttled) on the same incremental
    night of ``enterprise-20k``.

    Throttling is rare on incrementals (vb365 fact 21): the time spent throttled must stay under
    15 % of transfer time (before request-level throttling was modelled per thread with
    Retry-After, the model spent 29-63 %)."""
    return _run("enterprise-20k-incremental").metric("throttled_fraction")


def full_over_incremental_request_share() -> float:
    """``throttled_request_share`` of the initial full of ``enterprise-20k`` (empty state, the
    first night and what follows until the horizon) over that of an incremental night.

    "Most throttling happens on the initial full backup, rarely on incrementals": the full's
    share must be higher, a ratio of at least 1. Both shares come from deterministic runs of
    tens of thousands of requests; a ratio of exactly 1 would need both to agree to every
    request."""
    full = _run("enterprise-20k-full").metric("throttled_request_share")
    incremental = _run("enterprise-20k-incremental").metric("throttled_request_share")
    return full / incremental if incremental > 0 else float("nan")


LINUX_URL = "https://bp.veeam.com/vb365/guide/buildconfig/proxy"
OBJECT_STORAGE_URL = "https://bp.veeam.com/vbo/guide/design/sizing/objectstorage.html"
SHAREPOINT_LIMITS_URL = (
    "https://learn.microsoft.com/sharepoint/dev/general-development/"
    "how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online"
)


TARGETS: list[Target] = [
    Target(
        name="inventory.objects_per_1000_users",
        quantity="Objects of a generated 1,000-user tenant (default mix, teams count 2)",
        low=2590,
        high=2590,
        unit="objects",
        source=BLUEPRINT_URL,
        measure=objects_per_1000_users,
    ),
    Target(
        name="inventory.objects_per_50000_users",
        quantity="Objects of a generated 50,000-user tenant (default mix, teams count 2)",
        low=129_500,
        high=129_500,
        unit="objects",
        source=BLUEPRINT_URL,
        measure=objects_per_50000_users,
    ),
    Target(
        name="inventory.gb_per_user",
        quantity="Source data per user of a generated 10,000-user tenant (default sizes)",
        low=5.0,
        high=10.0,
        unit="GB",
        source=BLUEPRINT_URL,
        measure=gb_per_user,
    ),
    Target(
        name="change.exchange_incremental_fraction",
        quantity="Exchange bytes read on an incremental night over Exchange bytes protected "
        "(40,000-user sizing tenant)",
        low=0.002,
        high=0.01,
        unit="fraction",
        source=DISKREPO_URL,
        measure=exchange_incremental_change_fraction,
    ),
    Target(
        name="sizing.rule_tenant_done_fraction",
        quantity="Share of the ~20,000 objects of sizing-rule.yaml done in the 8-hour window by "
        "one 8-core/32 GB proxy (incremental night)",
        low=1.0,
        high=1.0,
        unit="fraction",
        source=SIZING_PROXY_URL,
        measure=sizing_rule_tenant_done_fraction,
    ),
    Target(
        name="sizing.objects_in_8h",
        quantity="Objects done within 8 h of the first start by one Windows 8-core/32 GB proxy, "
        "40,000-user protected tenant, three jobs from 22:00",
        low=20_000,
        high=40_000,
        unit="objects",
        source=SIZING_PROXY_URL,
        measure=sizing_objects_in_8h,
    ),
    Target(
        name="sizing.fewer_with_4_cores",
        quantity="Objects done within 8 h with 8 cores minus with 4 cores (same scenario)",
        low=1,
        high=None,
        unit="objects",
        source=SIZING_PROXY_URL,
        measure=sizing_fewer_with_4_cores,
    ),
    Target(
        name="proxy.linux_over_windows_object_rate",
        quantity="Object rate of a 4-core Linux proxy over the same Windows proxy "
        "(40,000-user sizing tenant, proxy-bound)",
        low=1.0,
        high=1.2,
        unit="ratio",
        source=LINUX_URL,
        measure=linux_over_windows_object_rate,
    ),
    Target(
        name="storage.exchange_stored_fraction",
        quantity="Exchange bytes written over bytes read (40,000-user sizing tenant)",
        low=0.5,
        high=0.6,
        unit="fraction",
        source=OBJECT_STORAGE_URL,
        measure=exchange_stored_fraction,
    ),
    Target(
        name="storage.onedrive_stored_fraction",
        quantity="OneDrive bytes written over bytes read (40,000-user sizing tenant)",
        low=0.7,
        high=0.9,
        unit="fraction",
        source=OBJECT_STORAGE_URL,
        measure=onedrive_stored_fraction,
    ),
    Target(
        name="throttling.sharepoint_ru_per_min_40k",
        quantity="SharePoint/OneDrive budget applied to a 40,000-licence tenant",
        low=4800,
        high=4800,
        unit="RU/min",
        source=SHAREPOINT_LIMITS_URL,
        measure=sharepoint_ru_per_min_40k,
    ),
    Target(
        name="maintenance.resume_delay_max_s",
        quantity="Longest resume delay of a handed-off object in maintenance-drill.yaml",
        low=0.0,
        high=600.0,
        unit="s",
        source=MAINTENANCE_URL,
        measure=maintenance_resume_delay_max_s,
    ),
    Target(
        name="throttling.incremental_request_share",
        quantity="throttled_request_share on an incremental night of enterprise-20k.yaml",
        low=0.002,
        high=0.05,
        unit="fraction",
        source=THROTTLING_URL,
        measure=incremental_throttled_request_share,
    ),
    Target(
        name="throttling.incremental_throttled_fraction",
        quantity="throttled_fraction (of transfer time) on an incremental night of "
        "enterprise-20k.yaml",
        low=0.0,
        high=0.15,
        unit="fraction",
        source=THROTTLING_URL,
        measure=incremental_throttled_fraction,
    ),
    Target(
        name="throttling.full_over_incremental_request_share",
        quantity="throttled_request_share of enterprise-20k's initial full over its "
        "incremental night's",
        low=1.0,
        high=None,
        unit="ratio",
        source=THROTTLING_URL,
        measure=full_over_incremental_request_share,
    ),
]


def topic_targets() -> list[Target]:
    """The ``TARGETS`` lists of the package's ``targets_<topic>.py`` modules, by module name:
    feature work adds its targets there without editing this file."""
    import importlib
    import pkgutil

    import sim.bench.calibration as package

    found: list[Target] = []
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module.name.startswith("targets_"):
            found += importlib.import_module(f"{package.__name__}.{module.name}").TARGETS
    return found


TARGETS += topic_targets()
"""Every calibration target, in the order the suite runs and reports them: this module's, then
those of each ``targets_<topic>.py`` (tests/test_calibration_suite.py checks names are unique)."""


INFERRED_CHECKS: dict[str, tuple[tuple[str, ...], str]] = {
    "MEAN_SIZE_BYTES_OF_TYPE": (("inventory.gb_per_user",), "the mean per user"),
    "DAILY_CHANGE_RATE_OF_TYPE": (
        ("change.exchange_incremental_fraction",),
        "Exchange only; the SharePoint/OneDrive 0.5 % has no published evidence",
    ),
    "CHANGE_PROBABILITY_OF_TYPE": (
        ("change.exchange_incremental_fraction",),
        "with the daily change rate, the bytes an incremental reads; Exchange only",
    ),
    "CPU_PER_OBJECT_S_OF_WORKLOAD": (
        (
            "sizing.rule_tenant_done_fraction",
            "sizing.objects_in_8h",
            "sizing.fewer_with_4_cores",
            "proxy.linux_over_windows_object_rate",
        ),
        "fitted: the scans bind the sizing night",
    ),
    **{
        name: (
            (
                "sizing.rule_tenant_done_fraction",
                "sizing.objects_in_8h",
                "sizing.fewer_with_4_cores",
            ),
            "the night's object count bounds their sum",
        )
        for name in (
            "THREAD_BPS_OF_WORKLOAD",
            "ITEMS_PER_S_OF_WORKLOAD",
            "OBJECT_OVERHEAD_S_OF_WORKLOAD",
            "PROXY_BPS_PER_CORE",
        )
    },
    **{
        name: (
            ("sizing.rule_tenant_done_fraction", "sizing.objects_in_8h"),
            "indirectly: part of the night the sizing targets count",
        )
        for name in (
            "RESOLVE_PER_OBJECT_S",
            "RESOLVE_CPU_PER_OBJECT_S",
            "METADATA_IOS_PER_OBJECT",
        )
    },
    **{
        name: (
            (
                "throttling.incremental_request_share",
                "throttling.incremental_throttled_fraction",
                "throttling.full_over_incremental_request_share",
            ),
            "the request-throttling targets",
        )
        for name in ("RETRY_AFTER_S", "REQUEST_BUDGET_BURST_S")
    },
    **{
        name: (
            (
                "throttling.incremental_request_share",
                "throttling.incremental_throttled_fraction",
                "throttling.full_over_incremental_request_share",
            ),
            "fitted to the incremental night's throttled request share",
        )
        for name in ("EWS_ACCOUNTS", "EWS_SERVER_MS_PER_REQUEST")
    },
}
"""INFERRED defaults of ``sim/defaults.py`` -> (the targets that check them, a note). A default
not listed has "no published evidence to check against" in docs/calibration.md."""


INTRO = """\
Each target is a quantity poolsim measures (fixed seeds) that must lie in a band a public source
gives. Run them with:

```bash
.venv/bin/poolsim bench calibration                    # every target; exit 5 if one is out of band
.venv/bin/poolsim bench calibration --only inventory.gb_per_user --json -   # one target, JSON
.venv/bin/poolsim bench calibration --measure-pending  # also measure PENDING targets (no gating)
make calibration                                       # regenerate this page
```

Exit status: 0 when every non-pending target is in band, 5 when one is out of band, 1 when a
measure raised (a bug), 2 for an unknown `--only` name. CI runs the suite (`CI=true make test`).
A target is `sim.bench.calibration.Target` (name, quantity, band, unit, source URL, measure,
pending); the list is `TARGETS` in `sim/bench/calibration/targets.py`, joined by the `TARGETS` of
each `targets_<topic>.py` beside it; a target's measure function's docstring, printed under each
target below, reasons the band and its tolerance."""


NOTES = """\
## The "8 cores, 32 GB, 20,000 objects" sizing rule, in detail

Veeam's best-practice guide says a proxy with 8 cores and 32 GB RAM "should be able to handle
20.000 objects" ([fact 13](https://bp.veeam.com/vb365/guide/design/sizing/proxy.html)).
`scenarios/sizing-rule.yaml` asks poolsim what that means: one such Windows proxy (64 threads),
standalone with its own S3 bucket, and a tenant of 7,700 users (about 20,000 objects: 7,700
mailboxes, 3,850 archives, 578 shared mailboxes, 7,700 OneDrives, 116 sites;
[VCSP blueprint](https://veeamvcsp.github.io/docs/vbo/blueprint/3_sizing_assumptions.html)), in
three jobs from 22:00 with an 8-hour window, for a week.

```bash
.venv/bin/poolsim run scenarios/sizing-rule.yaml                                  # steady state
.venv/bin/poolsim run scenarios/sizing-rule.yaml --set simulation.initial_state=empty   # from zero
```

**What makes the rule bind**: the proxy's CPU per object.
`calibration.cpu_per_object` = 7 CPU seconds of one Windows core per object in scope, changed or
not (INFERRED, chosen for the band of `sizing.objects_in_8h` above; no public per-object figure
exists). An 8-core proxy therefore clears about 8 / 7, 1.1 objects/s (about 4,100 per hour) on
incrementals, where it cleared about 21,700 per hour before. About half the objects of a night
are unchanged (`calibration.change_probability`, INFERRED) and move nothing, but they still cost
their scan. A Linux proxy does about 20 % more
([fact 10](https://bp.veeam.com/vb365/guide/buildconfig/proxy)).
`scenarios/sizing-rule-night.yaml` is the 40,000-user night of that target as a scenario file.

**Steady state** (`initial_state: protected`, 7,700 users, about 20,000 objects, every night an
incremental): every session meets the 8-hour window, the three jobs sharing the one proxy's
cores; about half the objects changed on a given night
(`sizing.rule_tenant_done_fraction` above).

**From zero** (`initial_state: empty`): the initial full of 51.8 TB is source-bound and takes
days. Every nightly run that falls while a job's full is still running is skipped.

Reading it honestly:

- The rule now binds where Veeam says it does: about 20,000 objects use most of the eight hours,
  inside the 50-75 % design margin ([fact 16](https://bp.veeam.com/vb365/guide/design/sizing)).
  The cost that makes it bind is INFERRED (per-object CPU); if your session logs show a different
  objects-per-hour figure for your proxies, set `calibration.cpu_per_object` from it.
- Memory: a proxy runs at most `(ram - ram_base) / ram_per_thread` threads (INFERRED 4 GiB and
  0.4 GiB): 32 GB holds the default 64 threads, so RAM does not bind here; the 16 GB minimum
  ([fact 12](https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html)) holds
  30. No public figure gives RAM per object or per thread.
- The rule says nothing about the **initial full**, which is limited by Microsoft 365 rather
  than the proxy: adding proxies shortens it only until the tenant budget binds."""


def document(outcomes: list[Outcome], wall_s: float | None = None) -> str:
    """docs/calibration.md: the outcomes, the INFERRED defaults table and the sizing notes."""
    return markdown(
        outcomes,
        inferred_defaults(),
        INFERRED_CHECKS,
        intro=INTRO,
        notes=NOTES,
        wall_s=wall_s,
    )
