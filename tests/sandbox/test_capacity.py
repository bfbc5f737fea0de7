"""A fixture too large for the sandbox's memory ends at once in one message naming it, the limit and the fix.

Small limits keep these fast: a 20 MiB fixture needs about 66 MiB of container
memory (archive + pristine copy + tmpfs), more than the smallest limit, 64 MiB.
"""

from __future__ import annotations

import re
import uuid

import pytest

from harness.errors import FixtureError, SandboxError
from sandbox.capacity import BASE, PER_PATH, check_fits, footprint
from sandbox.container import SandboxContainer
from sandbox.engine import client
from sandbox.fixture import FileSpec, FixtureSpec
from sandbox.materialize import materialise
from sandbox.pool import Sandbox
from sandbox.records import MiB, Limits

SMALL = Limits(memory=64 * MiB)


def blob(name: str, size: int):
    return materialise(FixtureSpec(name=name, files=[
        FileSpec(path="blob.bin", generate={"kind": "bytes", "size": size, "seed": 7})]))


def test_footprint_counts_the_archive_the_pristine_copy_the_tmpfs_pages_and_each_path():
    fx = blob("cap-20m", 20 * MiB)
    assert (fx.files, fx.size, fx.stored) == (1, 20 * MiB, 20 * MiB)
    assert fx.archive_size == fx.archive.stat().st_size > 20 * MiB
    assert footprint(fx).memory == fx.archive_size + 20 * MiB + 20 * MiB + PER_PATH + BASE
    sizes = (1, 4096, 4097)
    tiny = materialise(FixtureSpec(name="cap-tiny", files=[{"path": f"{n}.txt", "text": "x" * n} for n in sizes]))
    assert tiny.stored == 4096 + 4096 + 8192  # a tmpfs stores whole pages


def test_too_little_memory_names_the_fixture_the_limit_and_the_value_that_fits():
    fx = blob("cap-20m", 20 * MiB)
    need = footprint(fx).memory
    with pytest.raises(FixtureError) as info:
        check_fits(fx, SMALL)
    assert str(info.value) == (
        f"fixture cap-20m needs about {need / MiB:.1f} MiB of container memory (the archive sent in, the "
        f"supervisor's pristine copy and the tree tmpfs, 1 path(s), 20.0 MiB of content) but Limits.memory is "
        f"64.0 MiB; raise Limits.memory (--memory {-(-need * 5 // 4 // MiB)}MiB) or shrink the fixture")
    check_fits(fx, Limits())  # the defaults hold it


def test_too_small_a_tree_and_too_little_memory_are_one_message_with_both_fixes():
    fx = blob("cap-20m", 20 * MiB)
    with pytest.raises(FixtureError, match=r"^fixture cap-20m needs about 20\.0 MiB of work tree tmpfs "
                                           r"\(Limits\.tree_size is 8\.0 MiB\) and 66\.0 MiB of container memory .* "
                                           r"raise Limits\.tree_size and Limits\.memory \(--tree-size 26MiB "
                                           r"--memory \d+MiB\) or shrink the fixture$"):
        check_fits(fx, Limits(memory=64 * MiB, tree_size=8 * MiB))


def _containers(worker: str) -> list:
    return client().api.containers(all=True, filters={"label": f"fenrir.worker={worker}"})


@pytest.mark.docker
def test_the_pool_refuses_before_any_container_starts_and_the_suggested_memory_runs_it():
    fx = blob("cap-20m", 20 * MiB)
    worker = f"cap{uuid.uuid4().hex[:6]}"
    with Sandbox(worker=worker) as sb:
        with pytest.raises(FixtureError, match="fixture cap-20m needs about .* Limits.memory is 64.0 MiB") as info:
            sb.run("ls", fx, SMALL)
        assert _containers(worker) == []  # nothing started, nothing left
        suggested = int(re.search(r"--memory (\d+)MiB", str(info.value)).group(1))
        ex = sb.run("ls -l --block-size=M", fx, Limits(memory=suggested * MiB))
        assert ex.exit_code == 0 and "20M" in ex.stdout and "blob.bin" in ex.stdout
    assert _containers(worker) == []


@pytest.mark.docker
def test_a_supervisor_the_oom_killer_takes_is_named_and_its_container_removed(box):
    # Past the pool's check, as a fixture whose footprint is underestimated would be: 40 MiB needs ~130 MiB.
    fx = blob("cap-40m", 40 * MiB)
    worker = f"oom{uuid.uuid4().hex[:6]}"
    container = SandboxContainer(box.image, fx.roots, Limits(memory=64 * MiB, tree_size=64 * MiB), worker)
    with pytest.raises(SandboxError, match=r"ran out of memory while loading fixture cap-40m: the kernel killed its "
                                           r"supervisor at Limits\.memory = 64 MiB; raise Limits\.memory \(--memory\)"):
        container.load(fx)
    assert _containers(worker) == []
