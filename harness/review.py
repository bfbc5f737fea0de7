"""Human review of saved runs: filing an override, the queue awaiting a human Answer, stale overrides.

``fenrir override`` and the web UI's Review page both call
:func:`file_override`: the entry is keyed to the case and the sha256 of the
plan the run scored, appended to ``rubrics/overrides.yaml``, the run is
re-scored from its saved executions and its reports are re-rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import SuiteError
from harness.paths import overrides_path, results_dir, runs_dir
from harness.report import write_reports
from harness.runner import RunStore, latest_run_with, regrade
from rubrics.overrides import Dimension, Override, append_override, load_overrides, make_override
from rubrics.result import CaseResult


@dataclass(frozen=True)
class Filed:
    """An override as recorded, and what was redone for it."""

    override: Override
    """The entry appended."""
    run_id: str
    """The run whose plan was reviewed."""
    path: Path
    """The overrides file it went to."""
    reports: list[Path]
    """The reports re-rendered."""


def file_override(case_id: str, dimension: Dimension, score: int, reason: str, reviewer: str,
                  run_id: str | None = None, *, runs: Path | None = None, overrides: Path | None = None,
                  results: Path | None = None) -> Filed:
    """Override one automatic score of ``case_id`` in ``run_id`` (default: the latest run that scored it).

    ``runs``, ``overrides`` and ``results`` default to :mod:`harness.paths`' folders, read now."""
    runs = runs if runs is not None else runs_dir()
    overrides = overrides if overrides is not None else overrides_path()
    results = results if results is not None else results_dir()
    store = RunStore(run_id, runs) if run_id else latest_run_with(case_id, runs)
    result = store.result(case_id)
    if result is None:
        raise SuiteError(f"run {store.run_id} has no result for case {case_id!r}; pick one of its cases")
    entry = make_override(case_id, result.plan_sha256, dimension, score, getattr(result.automatic, dimension),
                          reason, reviewer)
    append_override(entry, overrides)
    regrade(store.run_id, overrides, runs)
    written = write_reports(store.results(), store.meta(), results)
    return Filed(override=entry, run_id=store.run_id, path=overrides, reports=written)


def current_results(run_id: str, runs: Path | None = None, overrides: Path | None = None) -> list[CaseResult]:
    """A run's results with the overrides file as it is now (stale entries listed, not applied)."""
    current = load_overrides(overrides if overrides is not None else overrides_path())
    return [r.with_overrides(current) for r in RunStore(run_id, runs if runs is not None else runs_dir()).results()]


def awaiting(results: list[CaseResult]) -> list[CaseResult]:
    """Rows only a human can score: an Answer of None (trace runs matching no case)."""
    return [r for r in results if r.scores.answer is None]


@dataclass(frozen=True)
class StaleOverride:
    """An override whose plan is no longer the one a run scored."""

    override: Override
    """The entry."""
    plan_sha256: str
    """The plan the run scores now."""


def stale_overrides(results: list[CaseResult]) -> list[StaleOverride]:
    """Every override listed as stale against these results (the plan changed since review)."""
    return [StaleOverride(o, r.plan_sha256) for r in results for o in r.stale]
