"""``fenrir suite import-intercode``: external task sets as a fixture and a suite, run as their authors run them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import click

from data import intercode
from harness.runner import day_epoch
from rubrics.compare import change_signature, silent
from rubrics.score import script_of
from rubrics.suite import MEANING_KEEPING, Kind
from sandbox import load_fixture, run
from sandbox.engine import ensure_image
from sandbox.programs import programs as image_programs
from sandbox.records import SetupReport


@dataclass
class _GoldRuns:
    """What building the fixture and running each gold once in the sandbox showed (for the summary)."""

    effects: int = 0
    failed: list[tuple[str, int, str]] = field(default_factory=list)
    """(gold, exit code, last stderr line) of golds that exit non-zero."""
    silent: list[str] = field(default_factory=list)
    """Golds that print nothing and change nothing: any silent candidate matches them."""
    setup: SetupReport | None = None
    """How the fixture's setup script went: failing lines, paths left outside the roots."""
    image: str = ""
    """The image the golds ran in."""

    def observe_for(self, spec):
        """An observe(gold) that runs the gold against ``spec``: effect iff it changed the tree."""
        fixture = load_fixture(spec)  # a setup that leaves nothing stops the import here, before any file is written
        self.setup = fixture.setup
        epoch = day_epoch()

        def observe(gold: str) -> intercode.GoldRun:
            ex = run(script_of(intercode.as_plan(gold)), fixture, epoch=epoch)
            self.image = ex.image
            if ex.exit_code != 0:
                last = (ex.stderr.strip().splitlines() or [""])[-1]
                self.failed.append((gold, ex.exit_code, last))
            quiet = silent(ex)
            if quiet:
                self.silent.append(gold)
            if change_signature(ex.changes):
                self.effects += 1
                return intercode.GoldRun(Kind.EFFECT, quiet)
            return intercode.GoldRun(Kind.OUTPUT, quiet)

        return observe


@click.group()
def suite() -> None:
    """Eval suites: import external task sets."""


def _shorten(items: list[str], limit: int = 6, width: int = 30) -> str:
    shown = ", ".join(repr(g[:width]) for g in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


@suite.command("import-intercode")
@click.argument("tasks", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--setup", "setup_sh", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Shell script that builds the tasks' file system (runs as root, as a plain script).")
@click.option("--root", "roots", multiple=True, metavar="DIR",
              help="A directory the script builds (repeat for several) [default: the top-level folders its "
                   "absolute paths name, e.g. /testbed].")
@click.option("--workdir", default="/", show_default=True, help="Where the tasks' commands run (InterCode: /).")
@click.option("--name", help="Suite and fixture name (default: from the tasks file name).")
@click.option("--suite-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Suite YAML to write [default: rubrics/imported/NAME.yaml].")
@click.option("--fixture-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Fixture YAML to write [default: fixtures/NAME.yaml].")
@click.option("--kind-from", type=click.Choice(["sandbox", "static"]), default="sandbox", show_default=True,
              help="sandbox: run each gold once (kind, uninformative); static: guess the kind from its shell AST.")
@click.option("--copy-setup/--no-copy-setup", default=True, show_default=True,
              help="Leave a copy of the setup script in WORKDIR under its own name (InterCode images COPY it "
                   "there, and tasks read it).")
@click.option("--package", "packages", multiple=True, metavar="NAME", help="An extra Debian package (repeat).")
@click.option("--propose-packages/--no-propose-packages", default=True, show_default=True,
              help="Add the packages that provide programs the golds call and the sandbox image lacks.")
@click.option("--compare/--no-compare", "declare", default=True, show_default=True,
              help="Declare the meaning-keeping comparators on every case (Answer 1 for '441 a.sh' vs '441').")
@click.option("--force", is_flag=True, help="Overwrite files a previous import wrote.")
def import_intercode(tasks: Path, setup_sh: Path, roots: tuple[str, ...], workdir: str, name: str | None,
                     suite_out: Path | None, fixture_out: Path | None, kind_from: str, copy_setup: bool,
                     packages: tuple[str, ...], propose_packages: bool, declare: bool, force: bool) -> None:
    """Import InterCode / NL2SH tasks (JSON list of {query, gold, gold2?, difficulty?}).

    \b
      fenrir suite import-intercode nl2bash_fs_1.json --setup setup_nl2b_fs_1.sh --name icalfa-fs1
    """
    programs = None
    if propose_packages and kind_from == "sandbox":
        programs = image_programs(ensure_image())
    runs = _GoldRuns()
    done = intercode.import_intercode(
        tasks, setup_sh, list(roots) or None, name, workdir=workdir, suite_out=suite_out, fixture_out=fixture_out,
        force=force, copy_setup=copy_setup, packages=list(packages), programs=programs,
        comparators=list(MEANING_KEEPING) if declare else [],
        observe_for=runs.observe_for if kind_from == "sandbox" else None)
    fx = done.fixture
    layout = f"root {fx.root}" if fx.roots is None else f"roots {', '.join(fx.roots)}"
    extra = f", packages {' '.join(fx.image.packages)}" if fx.image else ""
    click.echo(f"wrote fixture {done.fixture_path} ({layout}, workdir {fx.cwd}{extra})")
    report = runs.setup
    if report is not None and report.failures:
        click.echo(f"setup: {len(report.failures)} line(s) failed; the script carried on, as a plain script does:")
        for f in report.failures:
            said = [ln.strip() for ln in f.stderr.splitlines() if ln.strip()] or [""]
            shown = said[0] if len(said) == 1 else f"{said[0][:60]} ... {said[-1][:40]}"
            click.echo(f"  line {f.line}: {f.command[:60]}  -> exit {f.status}: {shown[:110]}")
    if report is not None and report.outside:
        click.echo(f"setup: also made {', '.join(report.outside)} outside the roots; not part of the fixture "
                   f"(--root to take a folder in)")
    if done.proposed:
        click.echo("packages: the golds call programs the sandbox image lacks; added to image.packages: "
                   + ", ".join(f"{p} ({', '.join(progs)})" for p, progs in done.proposed.items()))
    if done.unprovided:
        click.echo(f"packages: no known package provides {', '.join(done.unprovided)} "
                   f"(add one with --package NAME if the tasks need it)")
    cases = done.suite.cases
    effects = sum(c.kind.value == "effect" for c in cases)
    flagged = sum(c.uninformative for c in cases)
    click.echo(f"wrote suite   {done.suite_path} ({len(cases)} cases: {len(cases) - effects} output, "
               f"{effects} effect; {flagged} uninformative; kinds from the {kind_from})")
    if done.alternatives_path:
        click.echo(f"wrote gold2   {done.alternatives_path} ({len(done.alternatives.alternatives)} alternatives)")
    if runs.failed:
        click.echo(f"note: {len(runs.failed)} gold(s) exit non-zero in the sandbox (no network, no such file, "
                   f"a tool missing); their cases still score, reference against candidate:")
        for gold, code, last in runs.failed[:5]:
            click.echo(f"  exit {code}: {gold[:50]!r}  {last[:70]}")
    if runs.silent:
        click.echo(f"note: {len(runs.silent)} gold(s) print nothing and change nothing, so any silent candidate "
                   f"matches them: marked uninformative (scored, left out of means and the gate): "
                   f"{_shorten(runs.silent)}")
    shown = os.path.relpath(done.suite_path) if done.suite_path.resolve().is_relative_to(Path.cwd()) \
        else done.suite_path
    click.echo(f"run it: pytest tests/eval --suite {shown}")
