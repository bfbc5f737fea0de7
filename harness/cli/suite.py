"""``fenrir suite import-intercode``: external task sets as a fixture and a suite."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import click


@dataclass
class _GoldRuns:
    """What running each gold once in the sandbox showed (for the summary)."""

    effects: int = 0
    failed: list[tuple[str, int, str]] = field(default_factory=list)
    """(gold, exit code, last stderr line) of golds that exit non-zero."""
    silent: list[str] = field(default_factory=list)
    """Golds that print nothing and change nothing: any silent candidate matches them."""

    def kind_for(self, spec):
        """A kind_of that runs the gold against ``spec``: effect iff it changed the tree."""
        from harness.runner import day_epoch
        from rubrics.compare import change_signature
        from rubrics.intercode import as_plan
        from rubrics.score import script_of
        from rubrics.suite import Kind
        from sandbox import load_fixture, run

        fixture = load_fixture(spec)  # a setup script that fails stops the import here, before any file is written
        epoch = day_epoch()

        def kind_of(gold: str) -> Kind:
            ex = run(script_of(as_plan(gold)), fixture, epoch=epoch)
            if ex.exit_code != 0:
                last = (ex.stderr.strip().splitlines() or [""])[-1]
                self.failed.append((gold, ex.exit_code, last))
            if not ex.stdout.strip() and not change_signature(ex.changes):
                self.silent.append(gold)
            if change_signature(ex.changes):
                self.effects += 1
                return Kind.EFFECT
            return Kind.OUTPUT

        return kind_of


@click.group()
def suite() -> None:
    """Eval suites: import external task sets."""


@suite.command("import-intercode")
@click.argument("tasks", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--setup", "setup_sh", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Shell script that builds the tasks' file system (runs as root, like a Dockerfile RUN).")
@click.option("--root", default="/testbed", show_default=True,
              help="Absolute path of the tree the script builds; the plans' working directory.")
@click.option("--name", help="Suite and fixture name (default: from the tasks file name).")
@click.option("--suite-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Suite YAML to write [default: rubrics/imported/NAME.yaml].")
@click.option("--fixture-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Fixture YAML to write [default: fixtures/NAME.yaml].")
@click.option("--kind-from", type=click.Choice(["sandbox", "static"]), default="sandbox", show_default=True,
              help="sandbox: run each gold once, effect iff it changes the tree; static: guess from its shell AST.")
@click.option("--copy-setup/--no-copy-setup", default=True, show_default=True,
              help="Leave a copy of the setup script in ROOT under its own name (InterCode images have it "
                   "in the working directory, and tasks read it).")
@click.option("--force", is_flag=True, help="Overwrite files a previous import wrote.")
def import_intercode(tasks: Path, setup_sh: Path, root: str, name: str | None, suite_out: Path | None,
                     fixture_out: Path | None, kind_from: str, copy_setup: bool, force: bool) -> None:
    """Import InterCode / NL2SH tasks (JSON list of {query, gold, gold2?, difficulty?}).

    \b
      fenrir suite import-intercode nl2bash_fs_1.json --setup setup_nl2b_fs_1.sh --name icalfa-fs1
    """
    from rubrics.intercode import import_intercode as run_import

    runs = _GoldRuns()
    done = run_import(tasks, setup_sh, root, name, suite_out=suite_out, fixture_out=fixture_out, force=force,
                      copy_setup=copy_setup, kind_for=runs.kind_for if kind_from == "sandbox" else None)
    cases = done.suite.cases
    effects = sum(c.kind.value == "effect" for c in cases)
    click.echo(f"wrote fixture {done.fixture_path} (root {done.fixture.root})")
    click.echo(f"wrote suite   {done.suite_path} ({len(cases)} cases: {len(cases) - effects} output, "
               f"{effects} effect; kinds from the {kind_from})")
    if done.alternatives_path:
        click.echo(f"wrote gold2   {done.alternatives_path} ({len(done.alternatives.alternatives)} alternatives)")
    if runs.failed:
        click.echo(f"note: {len(runs.failed)} gold(s) exit non-zero in the sandbox (missing tools, no network, "
                   f"files outside the tree); their cases still score, reference against candidate:")
        for gold, code, last in runs.failed[:5]:
            click.echo(f"  exit {code}: {gold[:50]!r}  {last[:70]}")
    if runs.silent:
        click.echo(f"note: {len(runs.silent)} gold(s) print nothing and change nothing in the sandbox, so any "
                   f"candidate that does the same matches them: {', '.join(repr(g[:30]) for g in runs.silent[:6])}"
                   f"{' ...' if len(runs.silent) > 6 else ''}")
    shown = os.path.relpath(done.suite_path) if done.suite_path.resolve().is_relative_to(Path.cwd()) \
        else done.suite_path
    click.echo(f"run it: pytest tests/eval --suite {shown}")
