"""One self-contained ``report.html`` per comparison or capacity search: tables, embedded PNGs,
the scenario.

Nothing is fetched: images are base64 data URIs and the style sheet is inline, so the file can
be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.experiment.compare import Comparison
from sim.experiment.sizing import SizeResult
from sim.report.tables import SIZE_COLUMNS, comparison_table, fmt, headline, size_evidence
from sim.scenario.loader import LoadedScenario

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef; }
td.sig { font-weight: bold; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.8em; }
.meta td { text-align: left; }
"""


def _table(df: pd.DataFrame, cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _img(path: Path, alt: str) -> str:
    if not path.is_file():  # a figure that failed to draw is named, not embedded
        return (
            f"<p><b>Plot missing</b>: {html.escape(path.name)} ({html.escape(alt)}) could not "
            "be drawn; manifest.json says why.</p>"
        )
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def comparison_html(comparison: Comparison, plots: Path, manifest: dict[str, Any]) -> str:
    """The report page of a comparison whose plots are in ``plots``."""
    sc = comparison.scenario
    n = len(comparison.seeds)
    meta = pd.DataFrame(
        [
            ("scenario", f"{sc.spec.name} ({sc.path or 'text'})"),
            ("scenario sha256", sc.digest),
            ("overrides", " ".join(sc.overrides) or "none"),
            ("policies", ", ".join(comparison.policies)),
            ("replications", f"{n} (common random numbers: the same seeds for every policy)"),
            ("seeds", ", ".join(str(s) for s in comparison.seeds)),
            (
                "intervals",
                f"{comparison.confidence:.0%} Student t over replications; bounded metrics "
                "(fractions, indices, times) use Wilson or bootstrap intervals when t would "
                "leave their domain (summary.csv, column 'interval')",
            ),
            ("created", str(manifest.get("created_utc", ""))),
            ("command", " ".join(str(c) for c in manifest.get("command") or [])),
        ],
        columns=["", "value"],
    )
    diff = comparison.differences
    heads = {(s, m) for s, m, _ in headline(comparison)}
    if not diff.empty:
        diff = diff[[(s, m) in heads for s, m in zip(diff["scope"], diff["metric"], strict=True)]]
        diff = pd.DataFrame(
            {
                "policy": diff["policy"],
                "vs": diff["baseline"],
                "metric": diff["scope"] + " " + diff["metric"],
                "mean difference": diff["mean_diff"].map(fmt),
                "interval": [
                    f"[{fmt(a)}, {fmt(b)}]"
                    for a, b in zip(diff["ci_low"], diff["ci_high"], strict=True)
                ],
                "significant": diff["significant"].map({True: "yes", False: "no"}),
            }
        )
    full = comparison.summary
    full = full[~full["scope"].str.startswith("proxy:")]
    full = pd.DataFrame(
        {
            "policy": full["policy"],
            "scope": full["scope"],
            "metric": full["metric"],
            "unit": full["unit"],
            "n": full["n"],
            "mean": full["mean"].map(fmt),
            "ci low": full["ci_low"].map(fmt),
            "ci high": full["ci_high"].map(fmt),
        }
    )
    errors = comparison.errors
    parts = [
        "<h2>Comparison</h2>",
        f"<p>Mean ± half-width of the {comparison.confidence:.0%} interval over {n} "
        "replications.</p>",
        _table(comparison_table(comparison), "comparison"),
    ]
    if not diff.empty:
        parts += [
            f"<h2>Paired differences against {html.escape(comparison.policies[0])}</h2>",
            "<p>Per-replication differences on common random numbers; 'significant' when the "
            "interval excludes zero.</p>",
            _table(diff, "differences"),
        ]
    if errors:
        items = "".join(f"<li>{html.escape(e)}</li>" for e in errors)
        parts += ["<h2>Failed runs</h2>", f"<ul>{items}</ul>"]
    parts += [
        "<h2>Plots</h2>",
        _img(plots / "metrics.png", "headline metrics with interval whiskers"),
        _img(plots / "proxy_load.png", "per-proxy load per policy"),
        _img(plots / "throughput.png", "throughput over time per policy"),
        "<h2>Every metric</h2>",
        _table(full, "summary"),
    ]
    title = f"{', '.join(comparison.policies)} on {sc.spec.name}"
    return _page(f"poolsim compare: {sc.spec.name}", title, meta, parts, sc)


def size_html(result: SizeResult, plots: Path, manifest: dict[str, Any]) -> str:
    """The report page of a capacity search whose plot is in ``plots``."""
    sc = result.scenario
    assert sc is not None
    n = len(result.seeds)
    if result.answer is None:
        verdict = (
            result.stop_reason
            or result.error
            or (
                f"no size up to {result.max_size} meets the window in {result.compliance:.0%} "
                f"of replications at {result.confidence:.0%} confidence"
            )
        )
    else:
        change = result.answer - result.current
        verdict = (
            f"{result.answer} {'proxy' if result.answer == 1 else 'proxies'} ({change:+d} vs "
            f"today's {result.current}) {'meets' if result.answer == 1 else 'meet'} the "
            f"window in at least {result.compliance:.0%} of replications at "
            f"{result.confidence:.0%} confidence ({n} replications)"
        )
    meta = pd.DataFrame(
        [
            ("scenario", f"{sc.spec.name} ({sc.path or 'text'})"),
            ("scenario sha256", sc.digest),
            ("overrides", " ".join(sc.overrides) or "none"),
            ("pool", result.pool),
            ("answer", verdict),
            ("jobs whose windows count", ", ".join(result.jobs)),
            ("added proxies", f"copies of '{result.template}'"),
            ("replications", f"{n} per size (the same seeds at every size)"),
            ("seeds", ", ".join(str(s) for s in result.seeds)),
            ("created", str(manifest.get("created_utc", ""))),
            ("command", " ".join(str(c) for c in manifest.get("command") or [])),
        ],
        columns=["", "value"],
    )
    evidence = pd.DataFrame(size_evidence(result), columns=list(SIZE_COLUMNS))
    parts = [
        "<h2>Evidence</h2>",
        "<p>Window compliance per pool size: the share of replications in which every counted "
        "session met its window. A size meets the target when the lower "
        f"{result.confidence:.0%} confidence bound of that share (Wilson) is at least "
        f"{result.compliance:.0%}: {n} replications prove no more than that bound.</p>",
        _table(evidence, "evidence"),
    ]
    if not result.monotone:
        parts.append(
            "<p><b>Compliance is not monotone in pool size</b>: more replications would "
            "settle it.</p>"
        )
    parts.append(_img(plots / "size_curve.png", "compliance against pool size"))
    title = f"size of pool {result.pool} on {sc.spec.name}"
    return _page(f"poolsim size: {sc.spec.name}", title, meta, parts, sc)


def _page(title: str, heading: str, meta: pd.DataFrame, body: list[str], sc: LoadedScenario) -> str:
    """A whole page: heading, the run's facts, ``body``, the resolved scenario."""
    resolved = yaml.safe_dump(sc.resolved(), sort_keys=False, allow_unicode=True)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>poolsim: {html.escape(heading)}</h1>",
        _table(meta, "meta"),
        *body,
        "<h2>Resolved scenario</h2>",
        f"<pre>{html.escape(resolved)}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
