"""Sandbox tests run against a real Docker engine: no mocks."""

from __future__ import annotations

import uuid

import pytest

from sandbox import load_fixture
from sandbox.pool import Sandbox

PRISTINE_PROBE = r"""
find . -printf '%y %m %s %p -> %l\n' | LC_ALL=C sort
find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
find . -newermt '-1 hour' -printf 'fresh %p\n' | LC_ALL=C sort
find /tmp /home/user -mindepth 1  # not ls PATH: gVisor 20221219 fails it (see README)
ps -e -o comm= --sort=comm > /tmp/ps; tr '\n' ' ' < /tmp/ps  # no pipeline around ps: no race
"""


@pytest.fixture(scope="session")
def box():
    with Sandbox(worker=f"t{uuid.uuid4().hex[:6]}") as sb:
        yield sb


@pytest.fixture(scope="session")
def mini():
    return load_fixture("mini")


@pytest.fixture(scope="session")
def seed():
    return load_fixture("seed")


@pytest.fixture(scope="module")
def pristine(box, mini):
    """What a pristine 'mini' tree looks like from inside, to compare after hostile plans (per module: a module
    may run its plans in another pool, test_hostile's under each runtime)."""
    def probe():
        ex = box.run(PRISTINE_PROBE, mini)
        assert ex.exit_code == 0, ex.stderr
        assert not ex.changes
        return ex.stdout
    first = probe()
    return first, probe
