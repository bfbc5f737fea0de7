"""The regression gate: per-case scores per plan source in results/baseline.json.

Conventions follow pytest-regressions: a missing baseline is written and the
run fails once; a regression writes ``baseline.obtained.json`` beside it;
``--update-baseline`` rewrites the entries of the run.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import SuiteError
from rubrics.score import Scores

DIMENSIONS = ("plan", "safe", "answer")


class Baseline(BaseModel):
    """source -> case id -> scores."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    """File format version."""
    sources: dict[str, dict[str, Scores]] = Field(default_factory=dict)
    """Per plan source (reference, noop, model, plans:FILE), per case: the scores to hold."""


def load_baseline(path: Path) -> Baseline | None:
    if not path.exists():
        return None
    try:
        return Baseline.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise SuiteError(f"baseline {path} is malformed ({exc.__class__.__name__}: {str(exc)[:200]}); "
                         f"fix it or regenerate it with --update-baseline") from None


def save_baseline(baseline: Baseline, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"version": baseline.version,
            "sources": {src: {cid: s.model_dump() for cid, s in sorted(cases.items())}
                        for src, cases in sorted(baseline.sources.items())}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def changes(old: Scores, new: Scores) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """(regressions, improvements) as (dimension, baseline, now); unscored (None) sides are skipped."""
    worse, better = [], []
    for dim in DIMENSIONS:
        a, b = getattr(old, dim), getattr(new, dim)
        if a is None or b is None:
            continue
        if b < a:
            worse.append((dim, a, b))
        elif b > a:
            better.append((dim, a, b))
    return worse, better
