"""``fenrir``'s command table: ``--help`` lists what each command says of itself, and a command's module is
imported only when that command runs."""

import ast
import inspect
import subprocess
import sys

import click
import pytest

from harness.cli import COMMANDS, load_command

LOADED = ("import sys\nfrom harness.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
          "print(sorted(m for m in sys.modules if m.startswith('harness.cli.')))\n")


def _run(args: list[str]) -> tuple[str, list[str]]:
    """``fenrir ARGS`` in a new process: (its output, the command modules it imported)."""
    done = subprocess.run([sys.executable, "-c", LOADED.format(args=args)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    *output, modules = done.stdout.strip().splitlines()
    return "\n".join(output), ast.literal_eval(modules)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_summary_is_the_commands_own(name):
    command = load_command(name)
    assert isinstance(command, click.Command) and command.name == name
    assert COMMANDS[name].summary == " ".join(inspect.cleandoc(command.help).split("\n\n")[0].split())


def test_help_lists_every_command_and_imports_none():
    output, modules = _run(["--help"])
    assert modules == []
    listed = [line.split()[0] for line in output.split("Commands:\n")[1].splitlines()]
    assert listed == ["ask*"] + sorted(set(COMMANDS) - {"ask"})


def test_a_command_imports_only_its_own_module():
    assert _run(["fixtures", "--help"])[1] == ["harness.cli.fixtures"]
    output, modules = _run(["list the python files", "--help"])  # a request: the default command, ask
    assert modules == ["harness.cli.agent"] and "Turn REQUEST into a safe" in output
