"""``data/listings.json``: the directory listing of every training fixture, as the agent sees it.

Training rows name the fixture they were generated and checked on; at
training time their prompt starts with that fixture's listing
(:mod:`training.data`).  The listings are made by the harness from the
materialised fixture (:func:`harness.grounding.fixture_listing`, the same
code that lists a user's directory), so a fixture that changes gets a new
listing here (``fenrir data listings``; a test compares the file with the
fixtures).  Fixtures that an eval suite uses are never listed: rows checked
on them are trained without a listing, so no eval tree is shown in training.

    {"fixtures": {"train-a": {"text": "Directory /work:\\n...", "sha256": "..."}, ...}}
"""

from __future__ import annotations

import json
from pathlib import Path

from data import files
from harness.grounding import fixture_listing
from harness.paths import rubrics_dir
from rubrics.suite import load_suite
from sandbox.fixture import available


def eval_fixtures() -> set[str]:
    """Every fixture an eval suite in ``rubrics/`` (built-in or imported) runs on."""
    names: set[str] = set()
    rubrics = rubrics_dir()
    suites = [p for p in sorted(rubrics.glob("*.yaml")) if p.name != "overrides.yaml"]
    for path in suites + sorted((rubrics / "imported").glob("*.yaml")):
        for case in load_suite(path).cases:
            names.update(case.fixtures)
    return names


def training_fixtures() -> list[str]:
    """Fixtures in ``fixtures/`` that no eval suite uses, sorted."""
    used = eval_fixtures()
    return sorted(name for name in available() if name not in used)


def build(names: list[str] | None = None) -> dict:
    """The listings document for ``names`` (default: every training fixture); needs the sandbox."""
    fixtures = {}
    for name in names if names is not None else training_fixtures():
        listing = fixture_listing(name)
        fixtures[name] = {"text": listing.text, "sha256": listing.sha256}
    return {"fixtures": fixtures}


def render(document: dict) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def write(path: Path | None = None, log=print) -> dict:
    """Rewrite ``path`` (default: ``data/listings.json``) with the listings of the training fixtures."""
    path = Path(path) if path is not None else files.listings_path()
    document = build()
    path.write_text(render(document), encoding="utf-8")
    log(f"{path}: listings of {len(document['fixtures'])} training fixtures "
        f"({', '.join(document['fixtures'])})")
    return document
