"""``fenrir override`` and ``fenrir regrade``: human scores and offline re-scoring."""

from __future__ import annotations

import getpass

import click
from tabulate import tabulate

from harness.review import file_override, regrade_run
from rubrics.dimensions import DIMENSIONS


@click.command()
@click.argument("case_id")
@click.option("--dimension", type=click.Choice(DIMENSIONS), required=True)
@click.option("--score", type=click.IntRange(0, 2), required=True)
@click.option("--reason", required=True, help="Why; kept with the override and shown in reports.")
@click.option("--reviewer", default=None, help="Who decides (default: the current user).")
@click.option("--run", "run_id", default=None, help="Run whose plan was reviewed (default: the latest run that scored CASE_ID).")
def override(case_id: str, dimension: str, score: int, reason: str, reviewer: str | None, run_id: str | None) -> None:
    """Override one automatic score of CASE_ID with a recorded reason.

    The override is keyed to the sha256 of the plan that run scored: if the plan
    changes later, the override is reported stale and not applied.  The run's
    reports are re-rendered at once.
    """
    filed = file_override(case_id, dimension, score, reason, reviewer or getpass.getuser(), run_id)
    entry = filed.override
    click.echo(f"{case_id}: {dimension} {entry.automatic} -> {score} (plan {entry.plan_sha256[:12]}, "
               f"run {filed.run_id}) recorded in {filed.path}")
    for path in filed.reports:
        click.echo(f"wrote {path}", err=True)


@click.command("regrade")
@click.argument("run_id")
def regrade_cmd(run_id: str) -> None:
    """Re-score a saved run from its stored executions (no model, no Docker) and re-render its reports.

    Every file of the run is read and re-scored, and the reports rendered, before anything
    is written: a run that cannot be read is left exactly as it was.
    """
    done = regrade_run(run_id)
    rows = [(r.suite, r.case_id, *("-" if v is None else v for v in (getattr(r.scores, d) for d in DIMENSIONS)),
             ", ".join(r.overridden)) for r in done.results]
    click.echo(tabulate(rows, headers=("suite", "case", *DIMENSIONS, "overridden")))
    for path in done.reports:
        click.echo(f"wrote {path}", err=True)
