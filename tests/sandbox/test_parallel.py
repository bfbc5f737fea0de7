"""Two workers running interleaved tasks get correct, separate results."""

from __future__ import annotations

import threading
import uuid

import pytest

from sandbox.pool import Sandbox

pytestmark = pytest.mark.docker


def test_two_workers_interleaved(mini):
    results: dict[str, list] = {"a": [], "b": []}

    def worker(tag: str) -> None:
        with Sandbox(worker=f"par{tag}{uuid.uuid4().hex[:4]}") as sb:
            for i in range(12):
                ex = sb.run(f"echo {tag}{i} > mark; cat mark; ls | grep -c mark; sleep 0.0{i % 3}", mini)
                results[tag].append(ex)

    threads = [threading.Thread(target=worker, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tag in "ab":
        assert [ex.stdout for ex in results[tag]] == [f"{tag}{i}\n1\n" for i in range(12)]
        for i, ex in enumerate(results[tag]):
            (change,) = ex.changes
            assert change.path == "mark" and change.kind == "added" and change.after.size == len(f"{tag}{i}\n")


def test_one_sandbox_shared_by_threads(box, mini):
    out: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        ex = box.run(f"echo {n} >> a.txt; tail -n 1 a.txt; wc -l < a.txt", mini)
        with lock:
            out.append(ex.stdout)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(out) == sorted(f"{n}\n2\n" for n in range(4))  # each saw a pristine a.txt
