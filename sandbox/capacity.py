"""Whether a fixture fits the sandbox's limits, decided before any container starts.

Where a loaded fixture's memory goes (measured with ``docker stats`` on the
sandbox image: a fixture of one 16, 64 or 128 MiB file peaks at 56, 201 and
393 MiB; 20,000 small files with 1 MiB of content in all at 194 MiB):

* the archive the host sends in, held by the supervisor until the next request;
* the supervisor's pristine copy of every file (what a reset writes back);
* the tree itself: a tmpfs, whose pages count against the container's memory
  (a file takes whole 4 KiB pages), and no swap is allowed on top;
* a few KiB per path of Python records and snapshots, and the supervisor itself.

So a fixture needs about three times its size in memory; :func:`footprint`
adds these up, and stays at or below each peak measured above, so a fixture
it refuses could not have loaded.  One too large for
``Limits.memory`` used to be sent anyway: the kernel killed the supervisor
part way and the host saw a broken pipe, minutes later for a large fixture.
:func:`check_fits` says so at once, with the limits that would fit; the pool
calls it before it starts or picks a container.  Pure: no Docker here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.errors import FixtureError
from sandbox.materialize import Fixture
from sandbox.records import Limits

MiB = 1024 * 1024
TMPFS_OVERHEAD = 4096
"""Bytes a tmpfs charges per inode, roughly (the work tree check)."""
PER_PATH = 2048
"""Memory per path for the supervisor's records and snapshots (at least: about 4 KiB measured at the peak)."""
BASE = 6 * MiB
"""The supervisor's Python and the container itself, before any fixture (7 MiB measured; less, to stay below)."""


@dataclass(frozen=True)
class Footprint:
    """What a fixture needs from a sandbox container."""

    tree: int
    """Bytes of work tree tmpfs: its content plus a per-inode charge (compared with Limits.tree_size)."""
    memory: int
    """Bytes of container memory while it loads: archive + pristine copy + tmpfs pages + records (Limits.memory)."""


def footprint(fixture: Fixture) -> Footprint:
    """The tmpfs and memory ``fixture`` needs in a container (the memory at most the measured peak)."""
    tree = fixture.size + fixture.files * TMPFS_OVERHEAD
    memory = fixture.archive_size + fixture.size + fixture.stored + fixture.files * PER_PATH + BASE
    return Footprint(tree=tree, memory=memory)


def _mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


def _suggest(n: int) -> str:
    """A limit with room above ``n`` for what plans write and run, in whole MiB."""
    return f"{math.ceil(n * 1.25 / MiB)}MiB"


def check_fits(fixture: Fixture, limits: Limits) -> None:
    """FixtureError naming the fixture, the limit(s) it does not fit and the values that would, else None."""
    need = footprint(fixture)
    tree_short = need.tree > limits.tree_size
    memory_short = need.memory > limits.memory
    if tree_short and not memory_short:
        raise FixtureError(
            f"fixture {fixture.name} needs about {_mib(need.tree)} but the work tree tmpfs holds "
            f"{_mib(limits.tree_size)}; raise Limits.tree_size (--tree-size {_suggest(need.tree)}) or shrink "
            f"the fixture")
    if memory_short:
        tree = (f"{_mib(need.tree)} of work tree tmpfs (Limits.tree_size is {_mib(limits.tree_size)}) and "
                if tree_short else "")
        flags = (f"--tree-size {_suggest(need.tree)} " if tree_short else "") + f"--memory {_suggest(need.memory)}"
        raise FixtureError(
            f"fixture {fixture.name} needs about {tree}{_mib(need.memory)} of container memory (the archive sent in, "
            f"the supervisor's pristine copy and the tree tmpfs, {fixture.files:,} path(s), "
            f"{_mib(fixture.size)} of content) but Limits.memory is {_mib(limits.memory)}; "
            f"raise {'Limits.tree_size and ' if tree_short else ''}Limits.memory ({flags}) or shrink the fixture")
