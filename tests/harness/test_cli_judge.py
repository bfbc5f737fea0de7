"""``fenrir judge``, run as a user runs it, against the real sandbox."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from harness.cli import main

pytestmark = pytest.mark.docker

FENRIR = [sys.executable, "-c", "from harness.cli import main; main()"]
FIXTURE = """name: judge-two-roots
roots: [/workspace, /backup]
workdir: /
files:
  - {path: workspace/dir1/a.txt, text: "one two three\\n"}
  - {path: workspace/dir1/b.txt, text: "four\\n"}
  - {path: backup/old.txt, text: "old\\n"}
"""


def judge(*args: str):
    """In-process (the warm pool is shared); ``returncode``, ``stdout`` and ``stderr`` as a subprocess has them."""
    done = CliRunner().invoke(main, ["judge", *args])
    done.returncode = done.exit_code
    return done


@pytest.fixture(scope="module")
def fixture(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("judge") / "two-roots.yaml"
    path.write_text(FIXTURE)
    return str(path)


def test_equivalent_loosely_equivalent_and_different(fixture):
    same = judge("cat workspace/dir1/a.txt", "cat /workspace/dir1/a.txt", "--fixture", fixture)
    assert same.returncode == 0 and same.stdout.startswith("equivalent\n"), same.stdout + same.stderr

    loose = judge("find /workspace -name '*.txt' | sort", "find workspace -name '*.txt' | sort", "--fixture", fixture)
    assert loose.returncode == 1
    assert loose.stdout.splitlines()[:2] == [
        "loosely equivalent (relative_paths)",
        "  first difference: stdout line 1: A '/workspace/dir1/a.txt', B 'workspace/dir1/a.txt'"]

    count = judge("wc -w workspace/dir1/a.txt", "wc -w < workspace/dir1/a.txt", "--fixture", fixture)
    assert count.stdout.startswith("loosely equivalent (wc_name)\n")
    exact = judge("wc -w workspace/dir1/a.txt", "wc -w < workspace/dir1/a.txt", "--fixture", fixture, "--exact")
    assert exact.stdout.startswith("different\n") and exact.returncode == 1

    moved = judge("mv backup/old.txt backup/new.txt", "cp backup/old.txt backup/new.txt", "--fixture", fixture)
    assert moved.returncode == 1
    assert moved.stdout.splitlines()[:2] == [
        "different", "  first difference: changed path /backup/old.txt: A removed, B leaves it"]
    assert "compared as effect · workdir / · fixture judge-two-roots" in moved.stdout


def test_workdir_and_the_exit_status_of_a_silent_reference(fixture):
    here = judge("ls", "ls .", "--fixture", fixture, "--workdir", "/workspace/dir1")
    assert here.returncode == 0 and "workdir /workspace/dir1" in here.stdout
    failed = judge("test -f workspace/dir1/a.txt", "test -f workspace/nope", "--fixture", fixture)
    assert failed.stdout.splitlines()[:3] == [
        "different",
        "  first difference: exit status: A 0, B 1 (A prints nothing and changes nothing: its exit status is its "
        "answer)",
        "  note: A prints nothing and changes nothing, so any silent command with the same exit status matches it"]


def test_json_and_trouble(fixture):
    done = judge("ls /backup", "ls /backup/", "--fixture", fixture, "--json")
    record = json.loads(done.stdout)
    assert (record["verdict"], record["kind"], record["a"]["stdout"]) == ("equivalent", "output", "old.txt\n")
    missing = judge("ls", "ls", "--fixture", "no-such-fixture")
    assert missing.returncode == 2 and "unknown fixture 'no-such-fixture'" in missing.stderr
    nowhere = judge("ls", "ls", "--fixture", fixture, "--workdir", "/nowhere")
    assert nowhere.returncode == 2 and "workdir /nowhere does not exist in the sandbox" in nowhere.stderr
    # and as a user runs it, in a process of its own
    done = subprocess.run(FENRIR + ["judge", "ls /backup", "ls /backup/", "--fixture", fixture], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("equivalent\n"), done.stderr
