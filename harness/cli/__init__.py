"""The ``fenrir`` command line.

``fenrir "REQUEST"`` is the default command (the agent); the other commands
are grouped by package: ``fenrir sandbox ...``, ``fenrir fixtures ...``,
``fenrir eval``, ``fenrir override``, ``fenrir train`` ...  Each lives in its
own module here, which imports what it calls at its top, and is named in
:data:`COMMANDS`.  A command's module is imported only when that command runs
(click's lazy-loading pattern), so ``fenrir --help`` imports none of them and
``fenrir "REQUEST"`` only the agent's; heavy libraries (docker, torch) are
imported inside the functions that use them.
"""

from __future__ import annotations

import atexit
import gc
import importlib
from typing import NamedTuple

import click
from click_default_group import DefaultGroup

from harness.errors import FenrirError


def _exit_without_final_collection() -> None:
    """Skip the interpreter's last garbage collection over every object when the process exits.

    With torch imported (training, the transformers path) that collection is
    most of the exit: 0.8 s from the last line of ``fenrir`` to the shell
    prompt, 0.2 s with ``gc.freeze()`` run at exit (measured on the 2-core
    machine).  Objects are still freed by
    reference counting and every atexit handler still runs (the sandbox pool's
    cleanup among them); only ``__del__`` of objects caught in reference
    cycles is skipped, which Python never promises at exit anyway.
    """
    atexit.unregister(gc.freeze)  # once, however often commands run in this process
    atexit.register(gc.freeze)


class Entry(NamedTuple):
    """Where a command is defined, and its one-line summary for ``fenrir --help``."""

    module: str
    """The module defining it (imported when the command runs)."""
    attribute: str
    """The click command's name in that module."""
    summary: str
    """The first paragraph of its help, as ``fenrir --help`` lists it (a test keeps the two equal)."""


COMMANDS: dict[str, Entry] = {
    "ask": Entry("harness.cli.agent", "ask", "Turn REQUEST into a safe, dry-run POSIX shell plan."),
    "data": Entry("harness.cli.data", "data", "Training rows: generate them, and verify them in the sandbox."),
    "fixtures": Entry("harness.cli.fixtures", "fixtures", "Fixture file systems that plans run against."),
    "judge": Entry("harness.cli.judge", "judge",
                   "Run CMD_A and CMD_B on the same fixture and say whether B answers as A does."),
    "mean": Entry("harness.cli.results", "mean",
                  "Average Plan / Safe / Answer over eval tables, as the prototype's mean.py did."),
    "override": Entry("harness.cli.evaluate", "override",
                      "Override one automatic score of CASE_ID with a recorded reason."),
    "regrade": Entry("harness.cli.evaluate", "regrade_cmd", "Re-score a saved run from its stored executions "
                     "(no model, no Docker) and re-render its reports."),
    "report": Entry("harness.cli.results", "report",
                    "Re-render eval_*.md, report.md and scores.png for a saved run (no model, no Docker)."),
    "sandbox": Entry("harness.cli.sandbox", "sandbox",
                     "Build the sandbox image, run plans in it, clean up containers, check the engine's runtimes."),
    "suite": Entry("harness.cli.suite", "suite", "Eval suites: import external task sets."),
    "train": Entry("harness.cli.train", "train",
                   "Fine-tune a LoRA adapter for the agent on prompt/completion JSONL rows."),
    "ui": Entry("harness.cli.ui", "ui", "Open the web front-end: ask, copy, preview, browse runs, review and "
                "override, read the report."),
}
"""Every ``fenrir`` command by name."""


def load_command(name: str) -> click.Command:
    """Import the module of command ``name`` and return the command."""
    entry = COMMANDS[name]
    return getattr(importlib.import_module(entry.module), entry.attribute)


class _Root(DefaultGroup):
    """Loads a command when it runs; turns every :class:`FenrirError` into one clean message and exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        wanted = cmd_name if cmd_name in COMMANDS else self.default_cmd_name  # a request, not a command: ask
        if wanted not in self.commands:
            self.add_command(load_command(wanted), wanted)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from :data:`COMMANDS`, without importing any command (the default first, marked)."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        names = sorted(COMMANDS, key=lambda name: (name != self.default_cmd_name, name))
        rows = [(name + ("*" if name == self.default_cmd_name else ""),
                 click.Command(name, help=COMMANDS[name].summary).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
