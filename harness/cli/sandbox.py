"""``fenrir sandbox build|run|cleanup``."""

from __future__ import annotations

import sys

import click

from sandbox.records import Limits


@click.group()
def sandbox() -> None:
    """Build the sandbox image, run plans in it, clean up containers."""


@sandbox.command()
@click.option("--rebuild", is_flag=True, help="Build even if an image for this context exists.")
def build(rebuild: bool) -> None:
    """Build the sandbox image (only when its content changed)."""
    from sandbox.engine import ensure_image

    image = ensure_image(log=lambda m: click.echo(m, err=True), rebuild=rebuild)
    click.echo(f"{image.tag} {image.digest} (base {image.base})")


@sandbox.command(context_settings={"ignore_unknown_options": False})
@click.option("--fixture", "fixture_ref", required=True, metavar="NAME|FILE.yaml",
              help="Fixture to run against (see 'fenrir fixtures list').")
@click.option("--json", "as_json", is_flag=True, help="Print the Execution record as JSON.")
@click.option("--timeout", type=float, default=Limits().timeout, show_default=True, help="Seconds before the plan is killed.")
@click.option("--tree-size", type=int, default=Limits().tree_size, show_default=True, help="Bytes of tmpfs for the work tree.")
@click.option("--workdir", default=None, metavar="DIR", help="Run the plan here instead of the fixture's workdir.")
@click.argument("plan")
def run(fixture_ref: str, as_json: bool, timeout: float, tree_size: int, workdir: str | None, plan: str) -> None:
    """Run PLAN (a shell script; '-' reads it from stdin) against a pristine fixture.

    \b
      fenrir sandbox run --fixture seed -- 'find . -name "*.jpg" -size +5M'

    Prints the plan's stdout and stderr, then its exit status and every change
    it made to the fixture.  Exits with the plan's exit status.
    """
    import sandbox as sb
    from harness.preview import describe_changes

    if plan == "-":
        plan = sys.stdin.buffer.read()
    execution = sb.run(plan, fixture_ref, Limits(timeout=timeout, tree_size=tree_size), workdir=workdir,
                       run="sandbox-run")
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
               f"({execution.fixture_hash[:12]}) · image {execution.image_digest[7:19]}", err=True)
    changes = describe_changes(execution)
    click.echo("--- changes:" if changes else "--- no changes", err=True)
    for line in changes:
        click.echo(line, err=True)
    sys.exit(execution.exit_code)


@sandbox.command()
@click.option("--all", "everything", is_flag=True, help="Also remove containers of live Fenrir processes.")
def cleanup(everything: bool) -> None:
    """Remove sandbox containers left behind (by label)."""
    from sandbox.owners import cleanup as do_cleanup

    removed = do_cleanup(everything=everything)
    click.echo(f"removed {len(removed)} container(s)" + (": " + ", ".join(removed) if removed else ""))
