"""``fenrir sandbox build|run|cleanup|doctor``."""

from __future__ import annotations

import math
import operator
import os
import sys

import click
from annotated_types import Ge, Gt, Le, Lt

import sandbox as sb
from harness.errors import EngineConfigError
from harness.preview import describe_changes
from sandbox.distribute import sandbox_image
from sandbox.doctor import PLAN, diagnose
from sandbox.endpoints import VARIABLE, configured, parse_engines
from sandbox.engine import ensure_image
from sandbox.owners import cleanup as remove_leftovers
from sandbox.records import RUNTIMES, MiB, Limits
from sandbox.units import parse_size


def _amount(n: float, unit: str) -> str:
    if unit != "bytes":
        return f"{n:g}"
    for size, name in ((1024**4, "TiB"), (1024**3, "GiB"), (MiB, "MiB")):
        if n >= size and n % size == 0:
            return f"{n // size:g} {name}"
    return f"{n:g} bytes"


class LimitValue(click.ParamType):
    """A :class:`Limits` field as an option value: parsed, then held to the field's own bounds.

    Bad values end in click's usage error (exit 2) naming the option and the allowed range, never in a
    pydantic traceback.  Sizes take bytes or units (``256MiB``, ``2GiB``); times take seconds.
    """

    def __init__(self, field: str, unit: str):
        self.field, self.unit = field, unit
        self.name = "size" if unit == "bytes" else "seconds"
        self.bounds = [m for m in Limits.model_fields[field].metadata if isinstance(m, (Gt, Ge, Lt, Le))]

    @staticmethod
    def _bound(b) -> float:
        return b.gt if isinstance(b, Gt) else b.ge if isinstance(b, Ge) else b.lt if isinstance(b, Lt) else b.le

    def allowed(self) -> str:
        words = {Gt: "more than", Ge: "at least", Lt: "less than", Le: "at most"}
        text = " and ".join(f"{words[type(b)]} {_amount(self._bound(b), self.unit)}" for b in self.bounds)
        return text if self.unit == "bytes" else f"{text} {self.unit}"

    def convert(self, value, param, ctx):
        try:
            number = parse_size(value) if self.unit == "bytes" else float(value)
        except (TypeError, ValueError):
            example = "a number of bytes or a size such as 256MiB" if self.unit == "bytes" else "a number of seconds"
            self.fail(f"{value!r} is not {example}; give one {self.allowed()}", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; give one {self.allowed()}", param, ctx)
        checks = {Gt: operator.gt, Ge: operator.ge, Lt: operator.lt, Le: operator.le}
        if not all(checks[type(b)](number, self._bound(b)) for b in self.bounds):
            self.fail(f"{value!r} is out of range; it must be {self.allowed()}", param, ctx)
        return number


def _use_engines(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--engines becomes FENRIR_ENGINES for the command; a bad list is a usage error naming it."""
    if value is not None:
        try:
            parse_engines(value, "--engines")
        except EngineConfigError as exc:
            raise click.UsageError(str(exc), ctx) from None
        os.environ[VARIABLE] = value
    return value


engines_option = click.option(
    "--engines", default=None, metavar="URL[,URL...]", expose_value=False, callback=_use_engines,
    help=f"Docker engines, home first (default: ${VARIABLE}, else DOCKER_HOST or the default socket): "
         f"unix:///path, tcp://host:port or ssh://user@host.")


@click.group()
def sandbox() -> None:
    """Build the sandbox image, run plans in it, clean up containers, check the engine's runtimes."""


@sandbox.command()
@click.option("--rebuild", is_flag=True, help="Build even if an image for this context exists.")
@engines_option
def build(rebuild: bool) -> None:
    """Build the sandbox image (only when its content changed) on the home engine; stream it to the others."""
    def log(message: str) -> None:
        click.echo(message, err=True)

    image = ensure_image(log=log, rebuild=rebuild)
    click.echo(f"{image.tag} {image.digest} (base {image.base})")
    for engine in configured()[1:]:  # the other engines get the home engine's image, streamed
        there = sandbox_image(engine, log=log)
        click.echo(f"{engine}: {there.tag} {there.digest}")


@sandbox.command(context_settings={"ignore_unknown_options": False})
@click.option("--fixture", "fixture_ref", required=True, metavar="NAME|FILE.yaml",
              help="Fixture to run against (see 'fenrir fixtures list').")
@click.option("--json", "as_json", is_flag=True, help="Print the Execution record as JSON.")
@click.option("--timeout", type=LimitValue("timeout", "seconds"), default=Limits().timeout, show_default=True,
              help="Seconds before the plan is killed.")
@click.option("--tree-size", type=LimitValue("tree_size", "bytes"), default=f"{Limits().tree_size // MiB}MiB",
              show_default=True, help="Tmpfs for the work tree (bytes, or e.g. 512MiB).")
@click.option("--memory", type=LimitValue("memory", "bytes"), default=f"{Limits().memory // MiB}MiB",
              show_default=True,
              help="Container memory (bytes, or e.g. 2GiB); a fixture needs about three times its size.")
@click.option("--workdir", default=None, metavar="DIR", help="Run the plan here instead of the fixture's workdir.")
@click.option("--runtime", type=click.Choice(RUNTIMES), default=Limits().runtime, show_default=True,
              envvar="FENRIR_RUNTIME", show_envvar=True,
              help="OCI runtime of the container: runsc is gVisor (see 'fenrir sandbox doctor').")
@click.argument("plan")
def run(fixture_ref: str, as_json: bool, timeout: float, tree_size: int, memory: int, workdir: str | None,
        runtime: str, plan: str) -> None:
    """Run PLAN (a shell script; '-' reads it from stdin) against a pristine fixture.

    \b
      fenrir sandbox run --fixture seed -- 'find . -name "*.jpg" -size +5M'

    Prints the plan's stdout and stderr, then its exit status and every change
    it made to the fixture.  Exits with the plan's exit status.
    """
    if plan == "-":
        plan = sys.stdin.buffer.read()
    limits = Limits(timeout=timeout, tree_size=tree_size, memory=memory, runtime=runtime)
    execution = sb.run(plan, fixture_ref, limits, workdir=workdir, run="sandbox-run")
    if as_json:
        click.echo(execution.model_dump_json(indent=2))
        sys.exit(execution.exit_code)
    click.echo(execution.stdout, nl=False)
    if execution.stdout_truncated:
        click.echo(f"\n[stdout truncated: {execution.stdout_bytes} bytes written, "
                   f"{execution.limits.output_limit} kept]")
    click.echo(execution.stderr, nl=False, err=True)
    status = f"exit {execution.exit_code}"
    if execution.timed_out:
        status += f" (timed out after {execution.limits.timeout:g} s)"
    click.echo(f"--- {status} · {execution.wall_time:.3f} s · fixture {execution.fixture} "
               f"({execution.fixture_hash[:12]}) · image {execution.image_digest[7:19]} · {execution.limits.runtime}",
               err=True)
    changes = describe_changes(execution)
    click.echo("--- changes:" if changes else "--- no changes", err=True)
    for line in changes:
        click.echo(line, err=True)
    sys.exit(execution.exit_code)


@sandbox.command()
@click.option("--all", "everything", is_flag=True, help="Also remove containers of live Fenrir processes.")
@engines_option
def cleanup(everything: bool) -> None:
    """Remove sandbox containers left behind by Fenrir processes that died (by label), on every engine."""
    removed = [name for engine in configured() for name in remove_leftovers(everything, engine)]
    click.echo(f"removed {len(removed)} container(s)" + (": " + ", ".join(removed) if removed else ""))


@sandbox.command()
def doctor() -> None:
    """Which runtimes run sandbox plans on this engine (DOCKER_HOST), and why the others do not.

    For runc and runsc: registered with the engine? does a container start and run `true`? does a plan
    run in the sandbox and look at paths (ls, stat) as under runc?  Exits 1 when none works.
    """
    found = diagnose()
    click.echo(f"engine {found.engine}: runtimes {', '.join(found.runtimes)}; image {found.image.tag}")
    for report in found.reports:
        check = report.check
        if report.works:
            line = "works: a container ran `true`, and a plan ls'd and stat'ed paths"
        elif not check.registered:
            line = f"not registered: {check.error}"
        elif not check.starts:
            line = f"registered, but a container does not start: {check.error}"
        else:
            line = f"a container starts, but a plan that looks at paths ({PLAN}) fails: {report.plan_error}"
        click.echo(f"{check.runtime:6} {line}")
    if not any(r.works for r in found.reports):
        sys.exit(1)
