"""Containers name their run and their owner process; those of processes that died are removed by the next run."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
from docker.errors import NotFound

from sandbox.engine import client
from sandbox.owners import BOOT, OWNER, PIDNS, STARTED, owner_dead, owner_labels
from sandbox.pool import Sandbox, default_sandbox

FENRIR = [sys.executable, "-c", "from harness.cli import main; main()"]
HOST = socket.gethostname()


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def mine(**changed: str) -> dict[str, str]:
    """This process's owner labels, some of them changed."""
    return {**owner_labels(), **changed}


def test_an_owner_is_dead_only_when_that_is_sure():
    gone = dead_pid()
    assert not owner_dead(owner_labels())  # this process
    assert owner_dead(mine(**{OWNER: f"{HOST}:{gone}"}))
    assert owner_dead(mine(**{STARTED: "1"}))  # this pid, but a process that started at another time: reused
    assert owner_dead(mine(**{BOOT: "00000000-0000-0000-0000-000000000000"}))  # from before the last boot
    assert not owner_dead(mine(**{OWNER: f"another-host:{gone}"}))  # another host's: cannot tell
    assert not owner_dead(mine(**{OWNER: f"{HOST}:{gone}", PIDNS: "pid:[1]"}))  # another pid namespace's
    assert not owner_dead({})  # no owner at all
    assert owner_dead({OWNER: f"{HOST}:{gone}"})  # labels of containers started before boot and start times
    assert not owner_dead({OWNER: f"{HOST}:{os.getpid()}"})


def _run_labelled(run: str) -> list[str]:
    return sorted(c["Names"][0].lstrip("/") for c in client().api.containers(
        all=True, filters={"label": f"fenrir.run={run}"}))


@pytest.mark.docker
def test_a_pool_labels_its_containers_with_the_run_it_serves(mini):
    run = f"test-run-{uuid.uuid4().hex[:8]}"
    with Sandbox(worker=f"lab{uuid.uuid4().hex[:4]}", run=run) as sb:
        assert sb.run("true", mini).exit_code == 0
        assert _run_labelled(run) == sorted(box.name for box in sb._all) != []
    assert _run_labelled(run) == []
    assert default_sandbox(run="test-run-a") is default_sandbox(run="test-run-a")
    assert default_sandbox(run="test-run-a") is not default_sandbox(run="test-run-b")
    assert default_sandbox().run_label == "adhoc"


def _owned_by(pid: int) -> list[dict]:
    return client().api.containers(all=True, filters={"label": f"fenrir.owner={HOST}:{pid}"})


@pytest.mark.docker
def test_a_run_killed_with_kill_9_leaves_a_container_the_next_run_removes(box, mini):
    box.run("true", mini)  # a live process's container: it must survive the cleanup below
    live = sorted(b.name for b in box._all)
    killed = subprocess.Popen(FENRIR + ["sandbox", "run", "--fixture", "mini", "--", "sleep 8"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while [c["State"] for c in _owned_by(killed.pid)] != ["running"] and time.monotonic() < deadline:
        time.sleep(0.1)
    (leftover,) = _owned_by(killed.pid)
    time.sleep(1)  # the plan is running
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    time.sleep(0.5)
    assert client().api.inspect_container(leftover["Id"])  # left behind: nothing removed it at exit

    later = subprocess.run(FENRIR + ["sandbox", "run", "--fixture", "mini", "--", "cat a.txt"],
                           capture_output=True, text=True, timeout=120)
    assert later.returncode == 0 and later.stdout == "hello\n", later.stderr
    name = leftover["Names"][0].lstrip("/")
    assert re.search(rf"fenrir: removed \d+ sandbox container\(s\) left by processes that died: .*{name}", later.stderr)
    with pytest.raises(NotFound):
        client().api.inspect_container(leftover["Id"])
    assert sorted(b.name for b in box._all) == live
    for name in live:
        assert client().api.inspect_container(name)["State"]["Running"]  # the live process's containers stay
