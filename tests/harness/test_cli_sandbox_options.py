"""Every numeric option of ``fenrir sandbox ...`` refuses bad values at parse time: one usage error, exit 2.

No Docker here: the values are refused before anything runs.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from harness.cli import main

RANGES = {
    "--timeout": "more than 0 and at most 3600 seconds",
    "--tree-size": "at least 1 MiB and at most 1 TiB",
    "--memory": "at least 64 MiB and at most 1 TiB",
}


def sandbox_run(*options: str):
    return CliRunner().invoke(main, ["sandbox", "run", "--fixture", "mini", *options, "--", "true"])


@pytest.mark.parametrize("option, value, why", [
    ("--timeout", "0", "out of range"),
    ("--timeout", "-1", "out of range"),
    ("--timeout", "3601", "out of range"),
    ("--timeout", "nan", "not a finite number"),
    ("--timeout", "inf", "not a finite number"),
    ("--timeout", "-inf", "not a finite number"),
    ("--timeout", "ten", "not a number of seconds"),
    ("--tree-size", "1", "out of range"),
    ("--tree-size", "0", "out of range"),
    ("--tree-size", "-1", "not a number of bytes or a size such as 256MiB"),
    ("--tree-size", "nan", "not a number of bytes or a size such as 256MiB"),
    ("--tree-size", "inf", "not a number of bytes or a size such as 256MiB"),
    ("--tree-size", "2TiB", "out of range"),
    ("--memory", "63MiB", "out of range"),
    ("--memory", "0", "out of range"),
    ("--memory", "nan", "not a number of bytes or a size such as 256MiB"),
    ("--memory", "lots", "not a number of bytes or a size such as 256MiB"),
])
def test_a_bad_value_is_one_usage_error_naming_the_option_and_its_range(option, value, why):
    done = sandbox_run(option, value)
    assert done.exit_code == 2
    fix = "it must be" if why == "out of range" else "give one"
    errors = [line for line in done.output.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: Invalid value for '{option}': {value!r} is {why}; {fix} {RANGES[option]}"]
    assert "Traceback" not in done.output and "pydantic" not in done.output


def test_every_numeric_option_of_every_sandbox_command_is_checked():
    from harness.cli.sandbox import LimitValue, sandbox

    numeric = {(name, p.opts[0]) for name, command in sandbox.commands.items() for p in command.params
               if p.type.name in ("integer", "float", "size", "seconds") or isinstance(p.type, LimitValue)}
    assert numeric == {("run", "--timeout"), ("run", "--tree-size"), ("run", "--memory")}
    assert all(isinstance(p.type, LimitValue) for command in sandbox.commands.values() for p in command.params
               if (command.name, p.opts[0]) in numeric)  # none of them a plain click INT or FLOAT


@pytest.mark.parametrize("option, value, parsed", [
    ("--timeout", "0.5", 0.5), ("--timeout", "3600", 3600.0),
    ("--tree-size", "1MiB", 2**20), ("--tree-size", "300000000", 300_000_000), ("--memory", "1.5GiB", 3 * 2**29),
])
def test_good_values_and_sizes_with_units_pass(option, value, parsed):
    from harness.cli.sandbox import run

    param = next(p for p in run.params if option in p.opts)
    assert param.type.convert(value, param, None) == parsed


def test_a_fixture_too_large_for_the_memory_ends_at_once_naming_it_the_limit_and_the_fix(tmp_path):
    spec = tmp_path / "roomy.yaml"
    spec.write_text("name: roomy\nfiles:\n  - path: big.bin\n    generate: {kind: bytes, size: 24MiB, seed: 3}\n")
    done = CliRunner().invoke(main, ["sandbox", "run", "--fixture", str(spec), "--memory", "64MiB", "--", "ls"])
    assert done.exit_code == 1
    (line,) = done.output.splitlines()
    assert line.startswith("Error: fixture roomy needs about 78.0 MiB of container memory")
    assert "Limits.memory is 64.0 MiB; raise Limits.memory (--memory 98MiB) or shrink the fixture" in line


def test_a_bad_engines_list_is_one_usage_error_naming_the_option_or_the_variable(monkeypatch):
    done = CliRunner().invoke(main, ["sandbox", "build", "--engines", "unix:///var/run/docker.sock,tcp://build-3"])
    assert done.exit_code == 2
    assert ("Error: --engines: 'tcp://build-3' is not a Docker endpoint Fenrir can use (a tcp endpoint needs a host "
            "and a port: tcp://host:2376); give a comma-separated list of unix:///path/to/docker.sock") in done.output
    monkeypatch.setenv("FENRIR_ENGINES", "docker.example:2376")
    done = CliRunner().invoke(main, ["sandbox", "cleanup"])
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert done.output.startswith("Error: FENRIR_ENGINES: 'docker.example:2376' is not a Docker endpoint")
