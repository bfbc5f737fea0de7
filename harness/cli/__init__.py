"""The ``fenrir`` command line.

``fenrir "REQUEST"`` is the default command (the agent); the other commands
are grouped by package: ``fenrir sandbox ...``, ``fenrir fixtures ...``, and
later ``fenrir eval``, ``fenrir override``, ``fenrir train``.  Each group lives
in its own module here and is registered below, so a new group slots in
without touching the others.  Heavy imports (docker, torch) happen inside the
commands, never at import time, so ``fenrir --help`` stays instant.
"""

from __future__ import annotations

import atexit
import gc

import click
from click_default_group import DefaultGroup

from harness.errors import FenrirError


def _exit_without_final_collection() -> None:
    """Skip the interpreter's last garbage collection over every object when the process exits.

    With torch imported that collection is most of the exit: 0.8 s from the
    last line of ``fenrir`` to the shell prompt, 0.2 s with ``gc.freeze()``
    run at exit (measured on the 2-core machine).  Objects are still freed by
    reference counting and every atexit handler still runs (the sandbox pool's
    cleanup among them); only ``__del__`` of objects caught in reference
    cycles is skipped, which Python never promises at exit anyway.
    """
    atexit.unregister(gc.freeze)  # once, however often commands run in this process
    atexit.register(gc.freeze)


class _Root(DefaultGroup):
    """Turns every :class:`FenrirError` into one clean message and exit code 1."""

    def invoke(self, ctx: click.Context):
        _exit_without_final_collection()
        try:
            return super().invoke(ctx)
        except FenrirError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Root, default="ask", default_if_no_args=False)
@click.version_option(package_name="fenrir")
def main() -> None:
    """Fenrir: safe dry-run shell plans, and a sandboxed autograder for them.

    \b
      fenrir "Find all JPEGs larger than 5 MB"     # ask the agent for a plan
      fenrir sandbox run --fixture seed -- 'ls'    # run a plan in the sandbox
    """


def _register() -> None:
    from harness.cli import agent as agent_cli
    from harness.cli import fixtures as fixtures_cli
    from harness.cli import sandbox as sandbox_cli

    main.add_command(agent_cli.ask)
    main.add_command(sandbox_cli.sandbox)
    main.add_command(fixtures_cli.fixtures)
    from harness.cli import results as results_cli; main.add_command(results_cli.mean); main.add_command(results_cli.report)  # noqa: E702
    from harness.cli import suite as suite_cli; main.add_command(suite_cli.suite)  # noqa: E702
    from harness.cli import data as data_cli; main.add_command(data_cli.data)  # noqa: E702
    from harness.cli import train as train_cli; main.add_command(train_cli.train)  # noqa: E702
    from harness.cli import judge as judge_cli; main.add_command(judge_cli.judge)  # noqa: E702
    from harness.cli import ui as ui_cli; main.add_command(ui_cli.ui)  # noqa: E702

    from harness.cli import evaluate as evaluate_cli

    main.add_command(evaluate_cli.override)
    main.add_command(evaluate_cli.regrade_cmd)


_register()
