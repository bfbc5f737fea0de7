"""Re-scoring and human review of saved runs: regrade, file an override, the review queue, stale overrides.

``fenrir regrade`` calls :func:`regrade_run`; ``fenrir override`` and the web
UI's Review page call :func:`file_override`: the entry is keyed to the case and
the sha256 of the plan the run scored, appended to ``rubrics/overrides.yaml``,
the run is re-scored from its saved executions and its reports are re-rendered.

Both read, score and render everything first and write only then, so a run
that cannot be read (or an override that cannot be filed) leaves every file
as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import SuiteError
from harness.paths import overrides_path, results_dir
from harness.report import Rendered, render_run
from harness.runner import RunStore, latest_run_with, rescore
from rubrics.dimensions import Dimension
from rubrics.overrides import Override, append_override, load_overrides, make_override
from rubrics.result import CaseResult


@dataclass(frozen=True)
class Regraded:
    """A run scored again, and the reports rendered from it."""

    results: list[CaseResult]
    """The new results, as saved."""
    reports: list[Path]
    """The reports written."""


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


def _rescored(store: RunStore, overrides: list[Override], out_dir: Path | None) -> tuple[list[CaseResult], Rendered]:
    """The run scored again with ``overrides``, and its reports rendered in memory: nothing written yet."""
    results = rescore(store, overrides)
    return results, render_run(store, out_dir or results_dir(), results=results)


def _save(store: RunStore, results: list[CaseResult], rendered: Rendered) -> list[Path]:
    """Write the new results, then the reports; return the reports written."""
    for result in results:
        store.save_result(result)
    return rendered.write()


def regrade_run(run_id: str, *, runs: Path | None = None, overrides: Path | None = None,
                results: Path | None = None) -> Regraded:
    """Re-score a saved run with the current overrides, and re-render its reports into ``results``."""
    store = RunStore(run_id, runs)
    new, rendered = _rescored(store, load_overrides(overrides or overrides_path()), results)
    return Regraded(results=new, reports=_save(store, new, rendered))


def file_override(case_id: str, dimension: Dimension, score: int, reason: str, reviewer: str,
                  run_id: str | None = None, *, runs: Path | None = None, overrides: Path | None = None,
                  results: Path | None = None) -> Filed:
    """Override one automatic score of ``case_id`` in ``run_id`` (default: the latest run that scored it)."""
    overrides = overrides or overrides_path()
    store = RunStore(run_id, runs) if run_id else latest_run_with(case_id, runs)
    store.meta()  # a run that does not exist says so, and where runs are looked for
    result = store.result(case_id)
    if result is None:
        cases = store.case_ids()
        shown = ", ".join(cases[:10]) + (f" and {len(cases) - 10} more" if len(cases) > 10 else "")
        raise SuiteError(f"run {store.run_id} has no result for case {case_id!r}; "
                         + (f"its cases: {shown}" if cases else "it has no scored cases"))
    entry = make_override(case_id, result.plan_sha256, dimension, score, getattr(result.automatic, dimension),
                          reason, reviewer)
    new, rendered = _rescored(store, [*load_overrides(overrides), entry], results)
    append_override(entry, overrides)
    return Filed(override=entry, run_id=store.run_id, path=overrides, reports=_save(store, new, rendered))


def current_results(run_id: str, runs: Path | None = None, overrides: Path | None = None) -> list[CaseResult]:
    """A run's results with the overrides file as it is now (stale entries listed, not applied)."""
    current = load_overrides(overrides or overrides_path())
    return [r.with_overrides(current) for r in RunStore(run_id, runs).results()]


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
