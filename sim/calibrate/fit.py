"""Fitting a scenario's INFERRED ``calibration:`` parameters to observed job sessions by
simulation (``poolsim calibrate``; docs/calibrate.md, "Calibrate").

**Residuals.** Each observed night (a used session of a scenario job on a simulated day, matched
as ``poolsim history`` matches them) gives one residual per metric: ``log((sim + eps) /
(obs + eps))`` for its duration, processed objects, transferred bytes and read rate (``eps``
keeps a zero finite: 60 s, 1 object, 1 MB, 1 kB/s), and, when the observed bottleneck is
``Source``, ``Target`` or ``Proxy``, ``BOTTLENECK_WEIGHT x (1 - the simulated session's share of
time limited by that class)`` (a smooth stand-in for "same bottleneck"). A night the simulation
did not run or did not finish gets ``MISSING`` for each. The loss is the mean of the squared
residuals over the training nights; its square root, the RMS log error, is what is reported.

**Optimiser.** ``scipy.optimize.least_squares`` (trust region reflective, bounded) on the
coordinates ``x = log(value / start)``, bounded to a factor ``params.BOUND`` either way, with
forward differences of an absolute step ``DIFF_STEP`` in ``x`` (5 %: wide enough to step over
the small jumps a discrete-event run makes when an event moves past another). Every candidate
runs the same seed (common random numbers), so two candidates differ only by their parameters.
Each distinct candidate is one simulation of the ``budget``; the optimiser stops when it
converges or when the budget is spent, keeping the best candidate seen.

**Uncertainty.** At the best candidate, one more simulation per parameter (step ``JAC_STEP``,
10 %) gives the Jacobian ``J`` of the training residuals. The linearised (Gauss-Newton)
covariance of ``x`` is ``s2 (J'J)^-1`` with ``s2`` the residual variance (sum of squares over
residuals minus parameters, never below ``NOISE_FLOOR**2``); the range shown is
``value x exp(+-1.96 se)``, an approximate 95 % interval. A parameter is **not identifiable**
when its direction is flat (``J'J`` singular along it: the data do not move when it moves, or
another parameter compensates exactly), when its range spans more than a factor
``IDENT_FACTOR`` either way, or when its fit ends on a bound. A parameter whose 10 % step moves
the residuals by less than ``NO_EFFECT`` (RMS) has no effect on these nights: it keeps its
starting value in the written scenario, and one more simulation evaluates the written values.

**Hold-out.** With at least ``HOLDOUT_MIN_NIGHTS`` observed nights, the last ``HOLDOUT_NIGHTS``
are held out: the fit sees only the earlier ones, and the report shows its error on the held-out
ones (the same simulation runs every day; only the loss ignores them). With fewer nights it fits
on all and says there is no hold-out.

**Journal.** Every evaluated candidate is appended (one JSON line, flushed) to
``<results>/<scenario>/calibrate-journal-<key>.jsonl``, ``key`` a digest of the scenario, the
observed sessions, the fitted names, the seed and the model. The optimiser is deterministic, so
rerunning the same command replays the journal's candidates without simulating them and goes on
from where it stopped (a larger ``--budget`` continues a fit that spent its budget).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.calibrate.params import BOUND, FitParam, resolve
from sim.errors import Problem, ScenarioError
from sim.estate.sessions import Observed, SessionsRead
from sim.report.history import match_observed, simulated_rows
from sim.report.jobsessions import job_sessions
from sim.scenario.schema import start_instant

if TYPE_CHECKING:
    from sim.scenario import LoadedScenario

METRICS = ("duration", "objects", "bytes", "read_rate")
"""The numeric metrics of a night, each one residual."""
EPS = {"duration": 60.0, "objects": 1.0, "bytes": 1e6, "read_rate": 1e3}
MISSING = 3.0
"""Residual of each metric of a night the simulation did not run or did not finish (a factor of
e^3 = 20 off)."""
BOTTLENECK_WEIGHT = 0.5
CLASSES = {"Source": "source", "Proxy": "proxy", "Target": "target"}
DIFF_STEP = 0.05
JAC_STEP = 0.1
NOISE_FLOOR = 0.01
"""Residuals are never taken as more precise than 1 % (a perfect fit still has a range)."""
IDENT_FACTOR = 2.0
NO_EFFECT = 1e-3
"""A parameter whose 10 % step moves the RMS of the residuals by less than this has no effect."""
HOLDOUT_MIN_NIGHTS = 4
HOLDOUT_NIGHTS = 3
DEFAULT_BUDGET = 200
"""Default ``--budget`` (simulations): a quickstart calibration takes well under 10 minutes on
this project's 2-core machines (docs/calibrate.md, "Budget")."""


class BudgetSpent(Exception):
    """The optimiser asked for a simulation beyond its budget."""


@dataclass(frozen=True)
class Night:
    """One observed session matched to a scenario job and day."""

    job: str
    day: int
    nth: int
    date: str
    observed: Observed
    holdout: bool

    @property
    def key(self) -> str:
        return f"{self.job}|{self.day}|{self.nth}"


SimRow = dict[str, Any]
"""A simulated night: status, duration, objects, bytes, read_rate, bottleneck, shares."""


def observed_value(obs: Observed, metric: str) -> float:
    return {
        "duration": obs.duration_s,
        "objects": float(obs.processed_objects),
        "bytes": obs.transferred_bytes,
        "read_rate": obs.read_bps,
    }[metric]


def sim_value(row: SimRow | None, metric: str) -> float:
    if row is None:
        return math.nan
    v = row.get(metric)
    return float(v) if v is not None else math.nan


def night_residuals(night: Night, row: SimRow | None) -> list[float]:
    """The residuals of one night (module docstring)."""
    out = []
    finished = row is not None and math.isfinite(sim_value(row, "duration"))
    for m in METRICS:
        s, o = sim_value(row, m), observed_value(night.observed, m)
        if not finished or not math.isfinite(s):
            out.append(MISSING)
        else:
            out.append(math.log((max(s, 0.0) + EPS[m]) / (max(o, 0.0) + EPS[m])))
    cls = CLASSES.get(night.observed.bottleneck)
    if cls is not None:
        share = (row or {}).get("shares", {}).get(cls) if finished else None
        out.append(BOTTLENECK_WEIGHT * (1.0 - (float(share) if share is not None else 0.0)))
    return out


def residuals(nights: Sequence[Night], rows: dict[str, SimRow]) -> np.ndarray:
    """The residual vector of the nights (fixed length for a fixed set of observed nights)."""
    return np.asarray([r for n in nights for r in night_residuals(n, rows.get(n.key))], float)


def rms(r: np.ndarray) -> float:
    return float(math.sqrt(np.mean(r**2))) if len(r) else math.nan


def run_rows(
    loaded: LoadedScenario, nights: Sequence[Night], seed: int | None
) -> dict[str, SimRow]:
    """Simulate the scenario once; its sessions on the observed nights' keys."""
    from sim.experiment.run import simulate

    result = simulate(loaded, seed=seed)
    sim, raws = simulated_rows(job_sessions(result), start_instant(loaded.spec.simulation))
    out: dict[str, SimRow] = {}
    for n in nights:
        got = sim.get((n.job, n.day, n.nth))
        if got is None:
            continue
        s = got[1]
        extra = raws[n.key].get("poolsim", {})
        out[n.key] = {
            "status": s.status,
            "duration": s.duration_s if math.isfinite(s.duration_s) else None,
            "objects": s.processed_objects,
            "bytes": s.transferred_bytes,
            "read_rate": s.read_bps,
            "bottleneck": s.bottleneck,
            "own_bottleneck": extra.get("bottleneck"),
            "shares": {k: v for k, v in (extra.get("bottleneckShares") or {}).items() if v},
        }
    return out


class Journal:
    """Evaluated candidates, one JSON line each (module docstring, "Journal")."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.header = header
        self.points: dict[tuple[str, ...], dict[str, SimRow]] = {}
        self.resumed = 0
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            try:
                ok = bool(lines) and json.loads(lines[0]).get("header") == header
            except json.JSONDecodeError:
                ok = False
            if ok:
                for line in lines[1:]:
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        break  # a line cut short by a kill: the rest is redone
                    self.points[tuple(rec["x"])] = rec["rows"]
                self.resumed = len(self.points)
            else:
                path.unlink()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"header": header}) + "\n", encoding="utf-8")

    @staticmethod
    def key(x: Sequence[float] | np.ndarray) -> tuple[str, ...]:
        return tuple(float(v).hex() for v in x)

    def get(self, x: Sequence[float] | np.ndarray) -> dict[str, SimRow] | None:
        return self.points.get(self.key(x))

    def add(self, x: Sequence[float] | np.ndarray, rows: dict[str, SimRow]) -> None:
        k = self.key(x)
        self.points[k] = rows
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"x": list(k), "rows": rows}, allow_nan=False) + "\n")
            f.flush()


@dataclass
class Progress:
    """What the progress callback sees after each candidate."""

    used: int
    budget: int
    simulated: int
    replayed: int
    phase: str
    loss: float
    best: float
    sim_wall_s: float
    """Mean wall time of one simulation so far (0 before the first)."""


@dataclass
class ParamResult:
    param: FitParam
    start: dict[str, float]
    x: float
    se: float
    """Standard error of x (log scale); inf when the direction is flat, nan when not estimated."""
    effect: float
    """RMS change of the residuals for a 10 % step (nan when not estimated)."""
    written_x: float
    identifiable: bool
    why: str

    def value(self, x: float | None = None) -> dict[str, float]:
        m = math.exp(self.x if x is None else x)
        return {k: v * m for k, v in self.start.items()}

    def factor_range(self) -> tuple[float, float]:
        if not math.isfinite(self.se) or 1.96 * self.se > 50:
            return (math.nan, math.nan)  # no range worth the name (e^50)
        return (math.exp(self.x - 1.96 * self.se), math.exp(self.x + 1.96 * self.se))


@dataclass
class Calibration:
    """The outcome of a fit (what the report and the written scenario say)."""

    loaded: LoadedScenario
    params: list[ParamResult]
    nights: list[Night]
    left_out: dict[str, int]
    seed: int
    budget: int
    used: int
    simulated: int
    replayed: int
    converged: bool
    stop: str
    before: dict[str, SimRow]
    after: dict[str, SimRow]
    journal: Path
    wall_s: float
    sessions_digest: str
    holdout_days: tuple[int, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def train(self) -> list[Night]:
        return [n for n in self.nights if not n.holdout]

    @property
    def holdout(self) -> list[Night]:
        return [n for n in self.nights if n.holdout]

    @property
    def x(self) -> list[float]:
        return [p.written_x for p in self.params]


def nights_of(loaded: LoadedScenario, sessions: SessionsRead) -> tuple[list[Night], dict[str, int]]:
    """The observed nights (hold-out marked) and the left-out counts."""
    obs, left = match_observed(loaded, sessions)
    days = sorted({day for (_, day, _) in obs})
    held = set(days[-HOLDOUT_NIGHTS:]) if len(days) >= HOLDOUT_MIN_NIGHTS else set()
    nights = [
        Night(job, day, nth, date, s, day in held)
        for (job, day, nth), (date, s) in sorted(obs.items(), key=lambda kv: (kv[0][1], kv[0]))
    ]
    return nights, dict(left)


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def journal_path(root: Path, loaded: LoadedScenario, header: dict[str, Any]) -> Path:
    return root / loaded.spec.name / f"calibrate-journal-{_digest(header)[:12]}.jsonl"


def _uncertainty(
    jac: np.ndarray, r0: np.ndarray, n_params: int
) -> tuple[np.ndarray, list[list[int]]]:
    """(standard errors of x, for each flat direction the parameters it involves)."""
    jtj = jac.T @ jac
    dof = max(len(r0) - n_params, 1)
    s2 = max(float(r0 @ r0) / dof, NOISE_FLOOR**2)
    lam, vec = np.linalg.eigh(jtj)
    top = float(lam.max()) if len(lam) else 0.0
    flat = lam <= max(top * 1e-9, 1e-12)
    se = np.zeros(n_params)
    groups: list[list[int]] = []
    for j in range(n_params):
        if flat[j]:
            groups.append([i for i in range(n_params) if abs(vec[i, j]) > 0.3])
        else:
            se += s2 * vec[:, j] ** 2 / lam[j]
    se = np.sqrt(se)
    for g in groups:
        for i in g:
            se[i] = math.inf
    return se, groups


def calibrate(
    loaded: LoadedScenario,
    sessions: SessionsRead,
    fit: Sequence[str] | None = None,
    budget: int = DEFAULT_BUDGET,
    seed: int | None = None,
    root: Path | str = "results",
    progress: Callable[[Progress], None] | None = None,
) -> Calibration:
    """Fit the parameters ``fit`` (None: ``params.DEFAULT_FIT``) to the observed sessions.

    ScenarioError (exit 2) for bad input: an unknown parameter, a budget below 1, no observed
    night of the scenario's jobs in the simulated days."""
    from scipy.optimize import least_squares

    if budget < 1:
        raise ScenarioError([Problem("--budget", None, None, str(budget), "at least 1 simulation")])
    t0 = time.perf_counter()
    spec = loaded.spec
    params = resolve(spec, fit)
    nights, left = nights_of(loaded, sessions)
    train = [n for n in nights if not n.holdout]
    seed = spec.seed if seed is None else seed
    from sim.provenance import __version__, model_fingerprint

    sessions_digest = _digest(
        [
            (
                n.key,
                n.observed.status,
                repr(n.observed.creation),
                repr(n.observed.end),
                n.observed.processed_objects,
                n.observed.transferred_bytes,
                n.observed.read_bps,
                n.observed.bottleneck,
            )
            for n in nights
        ]
    )
    header = {
        "scenario_sha256": loaded.digest,
        "sessions_sha256": sessions_digest,
        "fit": [p.name for p in params],
        "seed": seed,
        "model_sha256": model_fingerprint(),
        "poolsim_version": __version__,
    }
    journal = Journal(journal_path(Path(root), loaded, header), header)
    k = len(params)
    reserve = k + 1 if budget >= k + 3 else 0
    state = {"used": 0, "simulated": 0}
    wall = {"sim": 0.0}
    seen: dict[tuple[str, ...], dict[str, SimRow]] = {}
    best: dict[str, Any] = {"x": np.zeros(k), "loss": math.inf}

    def evaluate(x: Sequence[float] | np.ndarray, limit: int, phase: str) -> dict[str, SimRow]:
        key = Journal.key(x)
        if key in seen:
            return seen[key]
        if state["used"] >= limit:
            raise BudgetSpent
        rows = journal.get(x)
        if rows is None:
            t = time.perf_counter()
            candidate = replace(loaded, spec=_apply(params, x))
            rows = run_rows(candidate, nights, seed)
            wall["sim"] += time.perf_counter() - t
            state["simulated"] += 1
            journal.add(x, rows)
        state["used"] += 1
        seen[key] = rows
        loss = rms(residuals(train, rows))
        if phase == "fit" and loss < best["loss"]:
            best["x"], best["loss"] = np.asarray(x, float).copy(), loss
        if progress is not None:
            progress(
                Progress(
                    state["used"],
                    budget,
                    state["simulated"],
                    state["used"] - state["simulated"],
                    phase,
                    loss,
                    best["loss"],
                    wall["sim"] / state["simulated"] if state["simulated"] else 0.0,
                )
            )
        return rows

    def _apply(ps: Sequence[FitParam], x: Sequence[float] | np.ndarray) -> Any:
        from sim.calibrate.params import apply

        return apply(spec, ps, [float(v) for v in x])

    x0 = np.zeros(k)
    before = evaluate(x0, budget, "fit")
    bound = math.log(BOUND)
    converged, stop = False, "budget spent"

    def fun(x: np.ndarray) -> np.ndarray:
        return residuals(train, evaluate(x, budget - reserve, "fit"))

    def jac(x: np.ndarray, step: float = DIFF_STEP, phase: str = "fit") -> np.ndarray:
        """Forward differences with an absolute step in log space (a step relative to x, as
        scipy's own, would be zero at the starting point x = 0)."""
        limit = budget - reserve if phase == "fit" else budget
        r = residuals(train, evaluate(x, limit, phase))
        out = np.zeros((len(r), k))
        for i in range(k):
            h = step if x[i] + step <= bound else -step
            xi = np.array(x, float)
            xi[i] += h
            out[:, i] = (residuals(train, evaluate(xi, limit, phase)) - r) / h
        return out

    try:
        res = least_squares(
            fun,
            x0,
            jac=jac,
            bounds=(-bound, bound),
            method="trf",
            x_scale=1.0,
            ftol=1e-4,
            xtol=1e-3,
            gtol=1e-6,
        )
        converged, stop = bool(res.success), str(res.message)
    except BudgetSpent:
        pass
    bx = best["x"]
    r0 = residuals(train, evaluate(bx, budget, "fit"))
    se = np.full(k, math.nan)
    effect = np.full(k, math.nan)
    groups: list[list[int]] = []
    notes: list[str] = []
    if reserve:
        jacobian = jac(bx, JAC_STEP, "uncertainty")
        effect = np.sqrt(np.mean((jacobian * JAC_STEP) ** 2, axis=0))
        se, groups = _uncertainty(jacobian, r0, k)
    else:
        notes.append(
            f"no uncertainty ranges: the budget ({budget}) leaves no room for the "
            f"{k + 1} simulations they need beyond the fit"
        )
    results: list[ParamResult] = []
    for i, p in enumerate(params):
        at_bound = abs(bx[i]) >= bound - 1e-3
        reasons = []
        no_effect = math.isfinite(effect[i]) and effect[i] < NO_EFFECT
        if no_effect:
            reasons.append("no effect on these sessions (kept at its starting value)")
        elif math.isinf(se[i]):
            partners = sorted({params[j].name for g in groups if i in g for j in g if j != i})
            reasons.append(
                "flat direction" + (f": trades off with {', '.join(partners)}" if partners else "")
            )
        elif math.isfinite(se[i]) and 1.96 * se[i] > math.log(IDENT_FACTOR):
            reasons.append(f"range wider than a factor {IDENT_FACTOR:g} either way")
        if at_bound and not no_effect:
            reasons.append(f"fit ends on its bound (a factor {BOUND:g} from the start)")
        results.append(
            ParamResult(
                p,
                p.start(spec),
                float(bx[i]),
                float(se[i]),
                float(effect[i]),
                0.0 if no_effect else float(bx[i]),
                not reasons and math.isfinite(se[i]),
                "; ".join(reasons)
                if reasons
                else ("" if math.isfinite(se[i]) else "not estimated"),
            )
        )
    written = [r.written_x for r in results]
    after = evaluate(written, budget, "final")  # the written values (reserved in the budget)
    held = tuple(sorted({n.day for n in nights if n.holdout}))
    return Calibration(
        loaded=loaded,
        params=results,
        nights=nights,
        left_out=left,
        seed=seed,
        budget=budget,
        used=state["used"],
        simulated=state["simulated"],
        replayed=state["used"] - state["simulated"],
        converged=converged,
        stop=stop,
        before=before,
        after=after,
        journal=journal.path,
        wall_s=time.perf_counter() - t0,
        sessions_digest=sessions_digest,
        holdout_days=held,
        notes=notes,
    )
