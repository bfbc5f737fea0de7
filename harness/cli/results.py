"""``fenrir mean`` and ``fenrir report``: read the results tables, re-render them for a saved run."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_TABLES = ("eval_static.md", "eval_dynamic.md")


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def mean(files: tuple[Path, ...]) -> None:
    """Average Plan / Safe / Answer over eval tables, as the prototype's mean.py did.

    FILES default to results/eval_static.md and results/eval_dynamic.md (of this
    repository).  Rows awaiting review ('–' in Answer) are left out.
    """
    from tabulate import tabulate

    from harness.errors import SuiteError
    from harness.report import MEAN_HEADERS, mean_table
    from harness.runner import RESULTS

    named = [(str(f), f) for f in files] or [(_label(RESULTS / name), RESULTS / name) for name in DEFAULT_TABLES]
    table, missing = mean_table(named)
    for label in missing:
        click.echo(f"skipped {label}: no such file", err=True)
    if not table:
        raise SuiteError(f"no eval tables to average ({', '.join(label for label, _ in named)} missing): "
                         f"run make eval first")
    click.echo(tabulate(table, headers=MEAN_HEADERS, floatfmt=".2f", missingval="–"))


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@click.command()
@click.argument("run_id")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write the reports to (default: results/).")
@click.option("--runs", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Folder holding the runs (default: results/runs/).")
@click.option("--overrides", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Overrides file to apply (default: rubrics/overrides.yaml).")
@click.option("--training", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="JSON training summary for the report's snapshot and training sections.")
@click.option("--include-uninformative", is_flag=True,
              help="Count uninformative cases in the tables and means (default: listed below, left out).")
def report(run_id: str, out: Path | None, runs: Path | None, overrides: Path | None,
           training: Path | None, include_uninformative: bool) -> None:
    """Re-render eval_*.md, report.md and scores.png for a saved run (no model, no Docker).

    The current human overrides are applied, as `fenrir regrade` would.
    """
    from harness.errors import SuiteError
    from harness.report import load_training, write_reports
    from harness.runner import RESULTS, RUNS, RunStore
    from harness.training_report import for_run
    from rubrics.overrides import DEFAULT_PATH, load_overrides

    store = RunStore(run_id, runs or RUNS)
    meta = store.meta()
    current = load_overrides(overrides or DEFAULT_PATH)
    results = [r.with_overrides(current) for r in store.results()]
    if not results:
        raise SuiteError(f"run {run_id} has no scored cases under {store.dir}: run make eval first")
    out = out or RESULTS
    # as make eval renders it: the shipped adapter's training section when the run's plans came from it
    summary = load_training(training) if training else for_run(meta, out)
    for path in write_reports(results, meta, out, training=summary, include_uninformative=include_uninformative):
        click.echo(path)
