"""``fenrir mean`` and ``fenrir report``: read the results tables, re-render them for a saved run."""

from __future__ import annotations

from pathlib import Path

import click
from tabulate import tabulate

from harness.errors import SuiteError
from harness.paths import results_dir, runs_dir
from harness.report import MEAN_HEADERS, load_training, mean_table, render_run
from harness.runner import RunStore

DEFAULT_TABLES = ("eval_static.md", "eval_dynamic.md")


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def mean(files: tuple[Path, ...]) -> None:
    """Average Plan / Safe / Answer over eval tables, as the prototype's mean.py did.

    FILES default to results/eval_static.md and results/eval_dynamic.md (of this
    repository).  Rows awaiting review ('–' in Answer) are left out.
    """
    results = results_dir()
    named = [(str(f), f) for f in files] or [(_label(results / name), results / name) for name in DEFAULT_TABLES]
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
    store = RunStore(run_id, runs or runs_dir())
    rendered = render_run(store, out, overrides=overrides, training=load_training(training) if training else None,
                          include_uninformative=include_uninformative)
    if not rendered.files:
        raise SuiteError(f"run {run_id} has no scored cases under {store.dir}: run make eval first")
    for path in rendered.write():
        click.echo(path)
