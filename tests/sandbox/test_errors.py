"""Bad input: one clear error naming the input and the fix, and nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.errors import FixtureError, PlanError, SandboxUnavailable
from sandbox.fixture import FixtureSpec, FileSpec, find_spec, load_spec
from sandbox.materialize import materialise
from sandbox.records import Limits

FENRIR = [sys.executable, "-c", "from harness.cli import main; main()"]


@pytest.mark.docker
@pytest.mark.parametrize("plan, message", [
    ("", "plan is empty"),
    ("   \n\t", "plan is empty"),
    (b"echo \xff\xfe", "plan is not UTF-8"),
    ("echo a\x00b", "NUL byte"),
    ("echo " + "x" * 100_001, "at most 100000"),
])
def test_bad_plans_are_refused_and_the_pool_keeps_working(box, mini, plan, message):
    with pytest.raises(PlanError, match=message):
        box.run(plan, mini)
    assert box.run("cat a.txt", mini).stdout == "hello\n"


def test_unknown_fixture_names_the_known_ones():
    with pytest.raises(FixtureError, match=r"unknown fixture 'nope'; known fixtures: .*seed"):
        find_spec("nope")


@pytest.mark.parametrize("text, message", [
    ("files: [", "not valid YAML"),
    ("- just a list", "must be a mapping"),
    ("files:\n  - {path: /etc/passwd, text: x}", r"files\.0\.path: .*relative"),
    ("files:\n  - {path: a, text: x, dir: true}", "only one of text, generate, dir, symlink"),
    ("files:\n  - {path: a, text: x, mode: 644}", r"files\.0\.mode: .*decimal.*0644"),
    ("files:\n  - {path: a, text: x, mtime: yesterday}", r"files\.0\.mtime: .*-3d"),
    ("files:\n  - {path: a, generate: {kind: jpeg}}", r"files\.0\.generate: .*needs size"),
    ("files:\n  - {path: a, txet: x}", r"files\.0\.txet: Extra inputs are not permitted"),
    ("root: /etc\nfiles: []", r"root: .*hide part of the system"),
])
def test_malformed_fixture_yaml_names_file_and_field(tmp_path, text, message):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(FixtureError, match=message) as info:
        load_spec(path)
    assert str(path) in str(info.value)


@pytest.mark.docker
def test_fixture_larger_than_the_tmpfs(box, mini):
    big = materialise(FixtureSpec(name="too-big", files=[
        FileSpec(path="blob.bin", generate={"kind": "bytes", "size": "3MiB", "seed": 9})]))
    with pytest.raises(FixtureError, match=r"too-big needs about 3\.0 MiB .* holds 2\.0 MiB; raise Limits\.tree_size"):
        box.run("ls", big, Limits(tree_size=2 * 2**20))
    assert box.run("ls", big).stdout == "blob.bin\n"  # with room, the same fixture runs


def test_docker_unreachable_is_one_clear_message(tmp_path):
    env = dict(os.environ, DOCKER_HOST=f"unix://{tmp_path}/no.sock", FENRIR_CACHE=str(tmp_path))
    done = subprocess.run(FENRIR + ["sandbox", "run", "--fixture", "mini", "--", "ls"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "No Docker engine answers at unix://" in done.stderr and "make engine" in done.stderr
    assert "Traceback" not in done.stderr


def test_docker_unreachable_from_the_api(tmp_path, monkeypatch):
    from sandbox import engine

    answering = engine.home()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    monkeypatch.delenv("FENRIR_ENGINES", raising=False)
    # clients are kept per endpoint, read at each call: the engine that answered before does not hide this one
    assert engine.client(answering).ping()
    with pytest.raises(SandboxUnavailable, match=f"No Docker engine answers at unix://{tmp_path}/no.sock"):
        engine.client()
