"""Hostile plans, under every runtime the engine under test has (runc; runsc, gVisor, where an engine has it).

After each one the next task must see a pristine fixture, no process of the
plan may survive, and the host must be unaffected.  runsc runs on the default
engine when it has it registered, else on the extra local engine
(:func:`sandbox.gvisor.runsc_engine`, which as root on Debian installs runsc and
starts that engine); elsewhere the runsc half is skipped with what to do."""

from __future__ import annotations

import time
import uuid

import pytest

from harness.errors import SandboxUnavailable
from sandbox.engine import client
from sandbox.gvisor import runsc_engine
from sandbox.pool import Sandbox
from sandbox.records import RUNTIMES, Limits

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SHORT = Limits(timeout=5)  # headroom for the slowest legit plan here (su: 1.0 s) on a loaded CI machine


class Under:
    """A pool on the engine under test whose every plan runs under one runtime (set in its limits)."""

    def __init__(self, pool: Sandbox, runtime: str):
        self.pool, self.runtime = pool, runtime
        self.worker, self.engine = pool.worker, pool.engine

    def run(self, plan, fixture, limits: Limits | None = None):
        ex = self.pool.run(plan, fixture, (limits or Limits()).model_copy(update={"runtime": self.runtime}))
        assert ex.limits.runtime == self.runtime  # the record says what it ran under
        return ex

    def close(self) -> None:
        self.pool.close()


@pytest.fixture(scope="module", params=RUNTIMES)
def box(request):
    engine = image = None
    if request.param == "runsc":
        try:
            engine, image = runsc_engine()
        except SandboxUnavailable as exc:
            pytest.skip(f"runsc (gVisor) is not available: {exc}")
    with Sandbox(image=image, worker=f"h{uuid.uuid4().hex[:6]}", engine=engine) as pool:
        yield Under(pool, request.param)


@pytest.fixture
def then_pristine(box, mini, pristine):
    first, probe = pristine
    yield
    assert probe() == first, "the task after a hostile plan did not see a pristine fixture"


def test_fork_bomb(box, mini, then_pristine):
    # The classic one backgrounds itself, so bash usually returns at once; but when the swarm
    # reaches the pids limit before bash's own second fork, bash retries that fork with
    # sleeps and the deadline stops it instead.  Either way no process of the swarm survives.
    ex = box.run(":(){ :|:& };:", mini, SHORT)
    assert (ex.exit_code == 0 and not ex.timed_out) or ex.resource_limit == "timeout"
    # only the supervisor, the probe's bash and its ps: not one bash of the swarm
    after = box.run("ps -e -o comm= > /tmp/procs; sort /tmp/procs | uniq -c", mini)
    assert after.stdout.split() == ["1", "bash", "1", "ps", "1", "python3"], after.stdout


def test_foreground_fork_bomb_hits_the_pids_limit(box, mini, then_pristine):
    ex = box.run("bomb(){ bomb | bomb; }; bomb", mini, SHORT)
    assert ex.timed_out or ex.exit_code != 0
    assert ex.timed_out or "fork" in ex.stderr or "Resource temporarily unavailable" in ex.stderr


def test_rm_rf_root(box, mini, then_pristine):
    # under gVisor the walk of the whole file system takes about 5 s on an idle 2-core machine: give it room
    limits = SHORT if box.runtime == "runc" else Limits(timeout=60)
    ex = box.run("rm -rf / --no-preserve-root 2>/dev/null; ls -A | wc -l", mini, limits)
    assert not ex.timed_out, ex.wall_time
    # everything the plan user could delete (its own work tree) is gone ...
    assert ex.stdout == "0\n"
    assert {c.path for c in ex.changes if c.kind == "removed"} >= {"a.txt", "big.jpg", "sub", "sub/b.txt"}
    # ... and the system it could not delete is still there for the next task


def test_filling_the_disk(box, mini, then_pristine):
    ex = box.run("for i in 1 2 3 4; do head -c 50M /dev/zero > fill$i || exit 7; done", mini, SHORT)
    assert ex.exit_code == 7
    assert "No space left on device" in ex.stderr


def test_one_huge_file(box, mini, then_pristine):
    ex = box.run("head -c 100M /dev/zero > huge", mini, SHORT)
    assert ex.resource_limit == "file-size"
    (change,) = ex.changes
    assert change.path == "huge" and change.after.size == Limits().file_size


def test_a_gigabyte_of_stdout(box, mini, then_pristine):
    # gVisor's pipes carry about 37 MB/s here (a GiB: 28 s), so under runsc a quarter of it makes the point
    size = 1 << 30 if box.runtime == "runc" else 1 << 28
    ex = box.run(f"head -c {size} /dev/zero", mini, Limits(timeout=20))
    assert ex.stdout_truncated and ex.stdout_bytes == size
    assert len(ex.stdout) == Limits().output_limit


def test_infinite_loop_times_out(box, mini, then_pristine):
    ex = box.run("while :; do :; done", mini, Limits(timeout=1.5))
    assert ex.timed_out and ex.resource_limit == "timeout" and ex.exit_code == 137
    assert ex.wall_time >= 1.5  # killed at the deadline, not before


def test_setsid_child_that_outlives_the_plan(box, mini, then_pristine):
    ex = box.run("setsid sh -c 'sleep 0.7; echo late > late.txt' >/dev/null 2>&1 & "
                 "nohup sleep 1000 >/dev/null 2>&1 & echo started", mini, SHORT)
    # the plan is not kept waiting for children that hold no pipe of it (sleep 1000 would time out)
    assert ex.stdout == "started\n" and ex.exit_code == 0 and not ex.timed_out
    time.sleep(1)  # the late writer would have written by now, had it survived
    after = box.run("test -e late.txt && echo survived || echo gone; ps -e -o comm= | grep -c sleep", mini)
    assert after.stdout == "gone\n0\n"


def test_no_network_and_no_dns(box, mini, then_pristine):
    ex = box.run("getent hosts deb.debian.org || echo nodns; "
                 "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 80), timeout=2)\" 2>&1 | tail -1; "
                 "find /sys/class/net -mindepth 1 -maxdepth 1 -printf '%f\\n'", mini, SHORT)
    lines = ex.stdout.splitlines()
    assert lines[0] == "nodns"
    # gVisor's own network stack, with no interface but lo, says so its way
    assert ("Network is unreachable" if box.runtime == "runc" else "No route to host") in lines[1]
    assert lines[2:] == ["lo"]


READ_PID1 = """cat /proc/1/environ | tr '\\0' '\\n' | cut -d= -f1 | LC_ALL=C sort | tr '\\n' ' '; echo; cat /etc/shadow
find /proc/1/fd -mindepth 1 -printf '%f '; echo
for fd in 0 1 2; do
  (: < /proc/1/fd/$fd) 2>/dev/null && echo read $fd; (: > /proc/1/fd/$fd) 2>/dev/null && echo write $fd
done
true"""


def test_cannot_read_pid1_environ_or_shadow(box, mini, then_pristine):
    ex = box.run(READ_PID1, mini, SHORT)
    if box.runtime == "runc":
        assert ex.stdout == "\n\n"
        assert ex.stderr.count("Permission denied") == 3
    else:
        # gVisor 20221219 lets the plan user read PID 1's environ and list its descriptors (not open them: the
        # channel stays the supervisor's); the environ holds only the image's and Docker's variables
        environ, fds = ex.stdout.splitlines()
        assert environ.split() == ["DEBIAN_FRONTEND", "FENRIR_SUPERVISOR", "HOME", "HOSTNAME", "LANG", "LC_ALL",
                                   "PATH", "TZ"]
        assert {"0", "1", "2"} <= set(fds.split())
        assert ex.stderr.count("Permission denied") == 1  # /etc/shadow


def test_cannot_signal_pid1(box, mini, then_pristine):
    ex = box.run("kill -9 1; kill -TERM 1", mini, SHORT)
    assert ex.stderr.count("Operation not permitted") == 2


def test_cannot_write_outside_the_work_tree(box, mini, then_pristine):
    ex = box.run("for f in /etc/x /usr/local/bin/x /opt/fenrir/x /x /var/tmp/x /dev/shm/x; do "
                 "echo x > $f 2>/dev/null && echo wrote $f; done; echo done", mini, SHORT)
    assert ex.stdout == "done\n"


def test_no_privilege_escalation(box, mini, then_pristine):
    # no_new_privs from prctl itself: gVisor's /proc/self/status has no NoNewPrivs line
    ex = box.run("grep -E '^(CapEff|CapPrm)' /proc/self/status; su -c true 2>&1 | head -1; "
                 "python3 -c 'import ctypes; print(\"nnp\", ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))'", mini, SHORT)
    assert "CapEff:\t0000000000000000" in ex.stdout and "CapPrm:\t0000000000000000" in ex.stdout
    assert ex.stdout.endswith("nnp 1\n")  # PR_GET_NO_NEW_PRIVS


def test_plan_cannot_forge_the_result_record(box, mini, then_pristine):
    import json
    import struct

    header = json.dumps({"ok": True, "exit_code": 0, "stdout_len": 0, "changes": []}).encode()
    forged = struct.pack("!QQ", len(header), 0) + header
    script = f"printf '%s' {forged.decode()!r}; printf '%s' {forged.decode()!r} >&2; exit 5"
    ex = box.run(script, mini, SHORT)
    assert ex.exit_code == 5
    assert header.decode() in ex.stdout


def test_host_is_unaffected(box, mini):
    box.run("sleep 1000 & setsid sleep 1000 &", mini, SHORT)
    names = {c.name for c in client(box.engine).containers.list(filters={"label": "fenrir.sandbox=pool"})}
    mine = [n for n in names if n.startswith(f"fenrir-{box.worker}-")]
    assert mine  # the pool container is up and labelled ...
    box.close()
    names = {c.name for c in client(box.engine).containers.list(all=True, filters={"label": "fenrir.sandbox=pool"})}
    assert not [n for n in names if n.startswith(f"fenrir-{box.worker}-")]  # ... and gone after close


def test_memory_hog_is_killed_and_pid1_survives(box, mini, then_pristine):
    ex = box.run("python3 -c \"x = bytearray(2 * 1024 ** 3)\"; echo rc=$?", mini, Limits(timeout=20))
    assert ex.stdout.strip() in ("rc=137", "rc=1")  # OOM-killed, or MemoryError
    assert box.run("echo alive", mini).stdout == "alive\n"
