"""Runtimes on a real engine: a runtime the engine lacks is one message saying how to get it; the doctor
says which run plans and why the others do not; a plan under runsc is recorded as such.

The runsc checks run on an engine that has it (:func:`sandbox.gvisor.runsc_engine`: the default one, or the
extra local engine, started as root on Debian); elsewhere they are skipped saying what to do.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.errors import SandboxUnavailable
from sandbox.doctor import diagnose
from sandbox.gvisor import runsc_engine
from sandbox.pool import Sandbox
from sandbox.records import Limits
from sandbox.runtimes import registered

pytestmark = pytest.mark.docker
FENRIR = [sys.executable, "-c", "from harness.cli import main; main()"]
STATX = "ls: cannot access '/': Invalid argument"
"""What gVisor 20221219 (Debian bookworm's runsc) answers a plan's ``ls /``: its statx refuses AT_NO_AUTOMOUNT."""


@pytest.fixture(scope="module")
def runsc():
    try:
        return runsc_engine()
    except SandboxUnavailable as exc:
        pytest.skip(f"runsc (gVisor) is not available: {exc}")


def test_a_runtime_the_engine_lacks_is_one_message_saying_how_to_get_it():
    if "runsc" in registered():
        pytest.skip("the default engine has runsc registered: nothing to refuse")
    done = subprocess.run(FENRIR + ["sandbox", "run", "--runtime", "runsc", "--fixture", "mini", "--", "true"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("Error: the Docker engine at ") and "has no runtime 'runsc' (it has: " in done.stderr
    for how in ("apt-get install runsc", "sh sandbox/engine.sh", '"runtimeArgs": ["--network=none"]'):
        assert how in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_doctor_on_the_default_engine():
    done = subprocess.run(FENRIR + ["sandbox", "doctor"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    head, runc, runsc = done.stdout.splitlines()
    assert head.startswith("engine ") and "runtimes " in head
    assert runc == "runc   works: a container ran `true`, and a plan ls'd and stat'ed paths"
    assert runsc.startswith("runsc  ")
    if "runsc" not in registered():
        assert runsc.startswith("runsc  not registered: the Docker engine at ") and "apt-get install runsc" in runsc


def test_doctor_on_an_engine_with_runsc(runsc):
    engine, _ = runsc
    found = diagnose(engine)
    runc, gvisor = found.reports
    assert runc.works and "runsc" in found.runtimes
    assert gvisor.check.registered and gvisor.check.starts and gvisor.check.error is None
    # bookworm's gVisor runs the sandbox, but not ls/stat of a path (README: gVisor); a newer one may
    assert gvisor.works or gvisor.plan_error == STATX, gvisor.plan_error


def test_a_plan_under_runsc_runs_in_gvisor_and_says_so(runsc, mini):
    engine, image = runsc
    with Sandbox(image=image, engine=engine, worker="rt") as pool:
        ex = pool.run("uname -r; echo x > new.txt; cat a.txt", mini, Limits(runtime="runsc"))
        native = pool.run("uname -r; echo x > new.txt; cat a.txt", mini)
    assert ex.limits.runtime == "runsc" and native.limits.runtime == "runc"
    kernel, rest = ex.stdout.split("\n", 1)
    assert kernel == "4.4.0" and native.stdout.split("\n", 1)[0] != kernel  # gVisor's own kernel answers
    assert rest == native.stdout.split("\n", 1)[1] and ex.changes == native.changes and ex.exit_code == 0
