"""``fenrir data verify|generate|listings|import-external``: the training data in ``data/``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from data.external import write as write_external
from data.files import train_path
from data.generate import write as write_rows
from data.listings import write as write_listings
from data.verify import verify_file


@click.group()
def data() -> None:
    """Training rows: generate them, and verify them in the sandbox."""


@data.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workers", default=4, show_default=True, help="Rows run at once on the warm pool.")
def verify(files: tuple[Path, ...], workers: int) -> None:
    """Run every row of FILES (default: data/cli_qa.jsonl) on its fixture; exit 1 if any fails."""
    failed = 0
    for path in files or (train_path(),):
        start = time.monotonic()
        count, failures = verify_file(path, workers=workers)
        for failure in failures:
            click.echo(f"{path}:{failure}")
        click.echo(f"{path}: {count} rows, {len(failures)} failures ({time.monotonic() - start:.1f} s)")
        failed += len(failures)
    if failed:
        sys.exit(1)


@data.command()
@click.option("--seed", default=0, show_default=True, help="Seed for slot choices and the hold-out.")
def generate(seed: int) -> None:
    """Rewrite data/cli_qa.jsonl and data/holdout.jsonl (every row verified in the sandbox)."""
    write_rows(seed, log=click.echo)


@data.command()
def listings() -> None:
    """Rewrite data/listings.json: the listing of every training fixture, as the agent is shown it."""
    write_listings(log=click.echo)


@data.command("import-external")
@click.option("--workers", default=2, show_default=True, help="Rows run at once in the sandbox.")
@click.option("--limit", type=int, default=None, help="Only the first N candidates of each source (a quick trial).")
def import_external(workers: int, limit: int | None) -> None:
    """Rewrite data/external.jsonl, data/holdout_external.jsonl and data/external_summary.json from
    NL2Bash and tldr-pages (every row screened, run in the sandbox and tagged)."""
    write_external(workers, limit, log=click.echo)
