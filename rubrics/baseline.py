"""The regression gate: per-case scores per plan source in results/baseline.json.

Conventions follow pytest-regressions: a missing baseline is written and the
run fails once; a regression writes ``baseline.obtained.json`` beside it;
``--update-baseline`` rewrites the entries of the run.

Each case is compared to the baseline once, by :func:`verdict`: a test fails on
its own verdict (:func:`case_failure`), and the run's outcome (:func:`settle`),
which says what to write and whether the run fails once, is made of the same
verdicts.  Uninformative cases and trace rows are not gated (:func:`gated`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.atomic import write_text
from harness.errors import SuiteError
from rubrics.dimensions import DIMENSIONS, Dimension
from rubrics.means import counted
from rubrics.result import CaseResult
from rubrics.score import Scores

UNGATED_SOURCE = "trace"
"""Rows of logs/trace.jsonl: scored and reported, never held to a baseline (their ids hash the plan)."""


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
    data = {"version": baseline.version,
            "sources": {src: {cid: s.model_dump() for cid, s in sorted(cases.items())}
                        for src, cases in sorted(baseline.sources.items())}}
    write_text(path, json.dumps(data, indent=2) + "\n")


class Change(NamedTuple):
    """One dimension whose score moved."""

    dimension: Dimension
    """plan, safe or answer."""
    baseline: int
    """The score the baseline holds."""
    now: int
    """The score of this run."""


def changes(old: Scores, new: Scores) -> tuple[list[Change], list[Change]]:
    """(regressions, improvements) from ``old`` to ``new``; unscored (None) sides are skipped."""
    worse, better = [], []
    for dim in DIMENSIONS:
        a, b = getattr(old, dim), getattr(new, dim)
        if a is None or b is None:
            continue
        if b < a:
            worse.append(Change(dim, a, b))
        elif b > a:
            better.append(Change(dim, a, b))
    return worse, better


@dataclass(frozen=True)
class Verdict:
    """One case of a run against the baseline of its plan source."""

    result: CaseResult
    """The case as scored."""
    known: bool
    """The baseline holds this case (False: it is written now, and its test fails)."""
    worse: tuple[Change, ...] = ()
    """Dimensions below the baseline."""
    better: tuple[Change, ...] = ()
    """Dimensions above it."""

    @property
    def regressed(self) -> bool:
        return bool(self.worse)


def gated(results: list[CaseResult], include_uninformative: bool = False) -> list[CaseResult]:
    """The results the gate holds: counted ones (see rubrics.means.counted), trace rows left out."""
    return [r for r in counted(results, include_uninformative) if r.source != UNGATED_SOURCE]


def verdict(entries: dict[str, Scores], result: CaseResult) -> Verdict:
    """``result`` against the baseline entries of its source."""
    held = entries.get(result.case_id)
    if held is None:
        return Verdict(result, known=False)
    worse, better = changes(held, result.scores)
    return Verdict(result, known=True, worse=tuple(worse), better=tuple(better))


def case_failure(baseline: Baseline | None, result: CaseResult, *, update: bool,
                 include_uninformative: bool) -> Verdict | None:
    """The verdict a case's test fails on (not in the baseline, or below it), else None.

    Nothing fails while the baseline is being rewritten, without a baseline file, or
    when the baseline has no entry at all for the source (the run then fails once,
    see :class:`Outcome`)."""
    if update or baseline is None or not gated([result], include_uninformative):
        return None
    entries = baseline.sources.get(result.source)
    if not entries:
        return None
    found = verdict(entries, result)
    return found if not found.known or found.regressed else None


@dataclass(frozen=True)
class Outcome:
    """A whole run against the baseline: decided once, at the end of the run."""

    source: str
    """The run's plan source."""
    verdicts: tuple[Verdict, ...]
    """One per gated case, in the order given."""
    source_missing: bool
    """The baseline had no entry for the source: every case is written and the run fails once."""
    baseline: Baseline
    """The baseline as it is to be saved."""
    changed: bool
    """Whether :attr:`baseline` differs from the file (missing cases added, or the run's entries rewritten)."""
    obtained: Baseline | None
    """The run's scores, saved beside the baseline when a case regressed (None: nothing regressed or updating)."""
    update: bool
    """The run rewrites the baseline (--update-baseline)."""

    @property
    def fails_once(self) -> bool:
        """The run fails because its source had no baseline yet (written now)."""
        return self.source_missing and not self.update

    def save(self, path: Path) -> list[Path]:
        """Write the baseline (when changed) and the obtained scores (when something regressed)."""
        written = []
        if self.changed:
            save_baseline(self.baseline, path)
            written.append(path)
        if self.obtained is not None:
            obtained = obtained_path(path)
            save_baseline(self.obtained, obtained)
            written.append(obtained)
        return written


def obtained_path(path: Path) -> Path:
    """Where a regressed run's scores go: ``baseline.obtained.json`` beside ``baseline.json``."""
    return path.with_suffix(".obtained.json")


def settle(baseline: Baseline | None, results: list[CaseResult], *, update: bool,
           include_uninformative: bool) -> Outcome | None:
    """The run's outcome against ``baseline`` (None when no result is gated)."""
    held = gated(results, include_uninformative)
    if not held:
        return None
    source = held[0].source
    base = (baseline or Baseline()).model_copy(deep=True)
    entries = base.sources.setdefault(source, {})
    verdicts = tuple(verdict(entries, r) for r in held)
    written = held if update else [v.result for v in verdicts if not v.known]
    for r in written:
        entries[r.case_id] = r.scores
    regressed = any(v.regressed for v in verdicts)
    obtained = Baseline(sources={source: {r.case_id: r.scores for r in held}}) if regressed and not update else None
    return Outcome(source=source, verdicts=verdicts, source_missing=not (baseline and baseline.sources.get(source)),
                   baseline=base, changed=bool(written), obtained=obtained, update=update)
