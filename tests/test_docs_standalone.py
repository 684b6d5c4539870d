"""The documentation stands on its own.

Every product fact the docs cite links to its public source, no document or module points at a
file outside the repository, and docs/validation.md has no unfilled placeholder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.sources import FACT_SOURCES, link_facts

ROOT = Path(__file__).resolve().parent.parent
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
CODE = sorted((ROOT / "sim").rglob("*.py"))
# Everything else a reader of the repository opens: tests, scripts, notebooks, the Makefile and the
# shipped scenarios. This file is left out: it has to spell the names it looks for.
OTHER = sorted(
    p
    for p in [
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "scripts").rglob("*"),
        *(ROOT / "notebooks").glob("*.py"),
        ROOT / "Makefile",
        *(ROOT / "scenarios").glob("*.yaml"),
    ]
    if p.is_file() and p.resolve() != Path(__file__).resolve() and "__pycache__" not in p.parts
)
# Files that live beside the repository (the authors' notes), never in it: a reference to one is a
# dead end for a reader of the repository.
OUTSIDE = re.compile(
    r"shared/|vb365\.md|vb365-exports\.md|oracles\.md|domain/|DESIGN\.md|RENOVATION\.md"
    r"|proxy-pools-seed"
)
LINK = re.compile(r"\[[^\]]*\]\(https?://[^)]+\)")
BARE_CITATION = re.compile(r"\bfacts? \d")


@pytest.mark.parametrize("path", DOCS + CODE + OTHER, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reference_outside_the_repository(path: Path) -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not bad, "refers to a file outside the repository:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_cited_fact_links_its_source(path: Path) -> None:
    if path.name == "sources.md":
        return
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert not BARE_CITATION.search(LINK.sub("", line)), f"{path.name}:{n}: {line.strip()}"


def test_every_fact_has_a_public_url_in_sources_md() -> None:
    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    for n, urls in FACT_SOURCES.items():
        assert urls and all(u.startswith("https://") for u in urls), n
        assert f'id="fact-{n}"' in text and urls[0] in text
    cited = {
        int(m)
        for p in CODE
        for c in re.findall(r"\bfacts? (\d+(?:(?:, |-|–| and )\d+)*)", p.read_text())
        for m in re.findall(r"\d+", c)
    }
    assert cited <= set(FACT_SOURCES), sorted(cited - set(FACT_SOURCES))


def test_link_facts() -> None:
    out = link_facts("rules (vb365 facts 2, 6-8); budget (fact 26)")
    assert out.count("](https://") == 4
    assert BARE_CITATION.search(LINK.sub("", out)) is None


def test_validation_md_is_filled() -> None:
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    assert "RESULTS_TABLE" not in text
    part = text.split("validation-results:begin", 1)[1].split("validation-results:end", 1)[0]
    assert len([ln for ln in part.splitlines() if ln.startswith("| T")]) >= 15


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_fact_cited_in_code_has_its_url_in_the_module(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.name == "sources.py":
        return
    for c in re.findall(r"\bfacts? (\d+(?:(?:, |-|–| and )\d+)*)", text):
        for n in map(int, re.findall(r"\d+", c)):
            assert f"vb365 fact {n}: {FACT_SOURCES[n][0]}" in text, (path.name, n)
