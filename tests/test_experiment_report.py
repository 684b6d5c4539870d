"""The report.html of a comparison and of a capacity search render in headless Chromium: tables
present, images decoded.

Needs Debian's ``chromium`` (``.ci/run`` installs it). Skipped with a reason when it is missing,
except in CI (CI=true), where a missing browser fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers.scenario import (
    exact_calibration,
    fixed_objects,
    job,
    repository,
    scenario_yaml,
    tenant,
)
from validation.oracle import synthetic_scenario

import sim
from sim.report.folders import write_comparison, write_size

CHECK = """
<script>
window.addEventListener("load", function () {
  var out = [];
  document.querySelectorAll("img").forEach(function (im) {
    out.push(im.complete + ":" + im.naturalWidth + "x" + im.naturalHeight);
  });
  var pre = document.createElement("pre");
  pre.id = "imgcheck";
  pre.textContent = out.join(" ");
  document.body.appendChild(pre);
});
</script>
"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed (.ci/run installs Debian's chromium package)")
    pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")


def _headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, timeout=120, check=False
    )


def _rendered(browser: str, tmp_path: Path, report: Path, images: int) -> str:
    """The DOM of ``report`` after loading, with every image checked as decoded."""
    html = report.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # self-contained
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    res = _headless(
        browser, tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()
    )
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    m = re.search(r'<pre id="imgcheck">([^<]*)</pre>', dom)
    assert m is not None, "the check script did not run"
    found = m.group(1).split()
    assert len(found) == images
    for im in found:
        complete, size = im.split(":")
        w, h = (int(v) for v in size.split("x"))
        assert complete == "true" and w > 300 and h > 200, im
    return dom


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    text = synthetic_scenario(
        n_proxies=3, rate=2.0, tasks=300, warmup_tasks=0, policy="round_robin", name="rep"
    )
    cmp = sim.compare(sim.load_scenario_text(text), ["round_robin", "jsq"], replications=3)
    folder = write_comparison(cmp, tmp_path / "res", command=["test"])
    report = folder / "report.html"
    dom = _rendered(browser, tmp_path, report, images=3)
    for cls in ("meta", "comparison", "differences", "summary"):
        assert f'<table class="{cls}">' in dom, cls
    assert "Resolved scenario" in dom and "round_robin" in dom and "jsq" in dom
    shot = tmp_path / "report.png"
    res = _headless(
        browser,
        tmp_path / "profile",
        "--window-size=1280,2000",
        f"--screenshot={shot}",
        report.as_uri(),
    )
    assert res.returncode == 0 and shot.stat().st_size > 10_000


def test_size_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    path = tmp_path / "fixed.yaml"
    path.write_text(
        scenario_yaml(
            name="fixed",
            tenants=[tenant(objects=fixed_objects({"mailbox": (12, 3.6e9)}))],
            proxies=[{"name": "p1", "threads": 1}, {"name": "p2", "threads": 1}],
            pools=[{"name": "pool", "members": ["p1", "p2"], "policy": "pull_fifo"}],
            repositories=[repository("r", "pool")],
            jobs=[job("j", "r", window="3.5h")],
            calibration=exact_calibration(1e6),
        ),
        encoding="utf-8",
    )
    result = sim.size(path, confidence=0.5, replications=2)
    folder = write_size(result, tmp_path / "res", command=["test"])
    dom = _rendered(browser, tmp_path, folder / "report.html", images=1)
    for cls in ("meta", "evidence"):
        assert f'<table class="{cls}">' in dom, cls
    assert "Resolved scenario" in dom and "4 proxies (+2 vs today" in dom
    shot = tmp_path / "size.png"
    res = _headless(
        browser,
        tmp_path / "profile",
        "--window-size=1280,1600",
        f"--screenshot={shot}",
        (folder / "report.html").as_uri(),
    )
    assert res.returncode == 0 and shot.stat().st_size > 10_000
