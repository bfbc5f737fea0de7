"""Shared test setup: one thread of torch per xdist worker (sleeping, not spinning, when idle), no progress bars;
the extra local Docker engine of the tests of several engines."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1" if os.environ.get("PYTEST_XDIST_WORKER") else "2")
# OpenMP threads that spin while waiting fight other processes for the cores (see agent/cpu.py)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


REPO = Path(__file__).resolve().parents[1]
E2_DIR = Path("/run/fenrir-engines/e2")


class ExtraEngine:
    """The extra local engine e2 (``sh sandbox/engine.sh --engine 2``): started, reused, and stopped by its own
    pid file only.  Never ``--stop-extra``: e1 may be someone else's."""

    url = f"unix://{E2_DIR}/docker.sock"
    """Its endpoint."""

    def __init__(self) -> None:
        self.found_up: bool | None = None
        """Whether it answered when this test session first used it (None: not used yet)."""

    def answers(self) -> bool:
        return subprocess.run(["docker", "-H", self.url, "info"], capture_output=True, timeout=60).returncode == 0

    def start(self) -> None:
        """Up (reused when it answers; e1 too, as the script starts engines 1..N)."""
        done = subprocess.run(["sh", "sandbox/engine.sh", "--engine", "2"], cwd=REPO, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """Its dockerd stopped, and gone.  SIGTERM: its API closes at once, its containers are killed 10 s later
        (until then they still answer).  SIGKILL: a crash; every connection to it drops at once, its containers
        are killed when it starts again."""
        pid = int((E2_DIR / "docker.pid").read_text().strip())
        os.kill(pid, how)
        for _ in range(600):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        raise AssertionError(f"dockerd of e2 (pid {pid}) did not stop within 60 s")


E2_LOCK = "/tmp/fenrir-extra-engine-e2.lock"


@pytest.fixture(scope="session")
def _e2():
    """e2 across the session: reused by every test, stopped at the end when it was not up at the start."""
    engine = ExtraEngine()
    yield engine
    if engine.found_up is False:
        with FileLock(E2_LOCK):
            if engine.answers():
                engine.stop()


@pytest.fixture
def extra_engine(_e2):
    """e2, up, used by one test at a time across xdist workers (tests may stop it; it is up again after)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("needs an extra local Docker engine, which only root on Linux can start "
                    "(sh sandbox/engine.sh --engine 2)")
    with FileLock(E2_LOCK):
        if _e2.found_up is None:
            _e2.found_up = _e2.answers()
        _e2.start()
        yield _e2
        _e2.start()


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true",
                     help="also run the tests marked full (a whole rebuild, e.g. every data row in the sandbox: "
                          "many minutes); make test leaves them out, make test-full runs them")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="a whole rebuild (many minutes): run with --full (make test-full)")
    for item in items:
        if item.get_closest_marker("full") is not None:
            item.add_marker(skip)
