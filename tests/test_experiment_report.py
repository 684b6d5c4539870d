"""The comparison's report.html renders in headless Chromium: tables present, images decoded.

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
from validation.oracle import synthetic_scenario

import sim
from sim.report.experiment import write_comparison

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


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    text = synthetic_scenario(
        n_proxies=3, rate=2.0, tasks=300, warmup_tasks=0, policy="round_robin", name="rep"
    )
    cmp = sim.compare(sim.load_scenario_text(text), ["round_robin", "jsq"], replications=3)
    folder = write_comparison(cmp, tmp_path / "res", command=["test"])
    report = folder / "report.html"
    html = report.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # self-contained
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    res = _headless(
        browser, tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()
    )
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    for cls in ("meta", "comparison", "differences", "summary"):
        assert f'<table class="{cls}">' in dom, cls
    assert "Resolved scenario" in dom and "round_robin" in dom and "jsq" in dom
    m = re.search(r'<pre id="imgcheck">([^<]*)</pre>', dom)
    assert m is not None, "the check script did not run"
    images = m.group(1).split()
    assert len(images) == 3
    for im in images:
        complete, size = im.split(":")
        w, h = (int(v) for v in size.split("x"))
        assert complete == "true" and w > 300 and h > 200, im
    shot = tmp_path / "report.png"
    res = _headless(
        browser,
        tmp_path / "profile",
        "--window-size=1280,2000",
        f"--screenshot={shot}",
        report.as_uri(),
    )
    assert res.returncode == 0 and shot.stat().st_size > 10_000
