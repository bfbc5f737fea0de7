"""Sandbox throughput: Fenrir's warm pool vs a fresh container per task, in one run.

    python bench/sandbox.py [--tasks 240] [--baseline-tasks 12]
    python bench/sandbox.py --runtime runsc [--tasks 240]
    python bench/sandbox.py --engines 2 [--workers 2,4] [--restream]

The same task mix (reads, searches, archives, edits, deletes) runs on a
~200-file and a ~5,000-file fixture, with 1 and 2 worker processes, through
(a) Fenrir's pool: long-lived containers, diff + reset of only what changed,
and (b) the SWE-bench/nl2bash-style baseline: create a container, copy the
fixture in, start it, wait, read the logs, remove it.  The baseline does less
work per task (no diff, no hardening supervisor) and is still the slow one.
Prints tasks/s, p50/p95 latency and the ratio; nothing is asserted.

``--runtime runsc`` instead runs the same mix through the pool under runc
and under runsc (gVisor) on one engine that has both (the default one, or
the extra local engine :func:`sandbox.gvisor.runsc_engine` starts), and
prints runsc's overhead: tasks/s, p50/p95 latency, the first task (container
start and fixture load) and the latency ratio runsc/runc.

``--engines N`` measures the warm pool on 1..N engines instead (the first N
of ``FENRIR_ENGINES``; ``sh sandbox/engine.sh --extra 1`` starts a second
local one), the same workers spread over them round-robin as xdist workers
are: tasks/s, p50/p95, the first task of each worker (container start and
fixture load), a task whose container must first load another fixture of the
same size (switch: its archive sent and its tree built, what a suite of many
fixtures pays per task; back: a fixture the container still keeps, its tree
built again) and the ratio to one engine; and how long each engine took to
get the sandbox image (``--restream`` untags it there first, to time the
stream).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import statistics
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's packages

from tabulate import tabulate  # noqa: E402

from sandbox.distribute import sandbox_image  # noqa: E402
from sandbox.endpoints import configured  # noqa: E402
from sandbox.engine import LABEL, client, ensure_image  # noqa: E402
from sandbox.fixture import FixtureSpec  # noqa: E402
from sandbox.gvisor import runsc_engine  # noqa: E402
from sandbox.materialize import materialise  # noqa: E402
from sandbox.owners import owner_labels  # noqa: E402
from sandbox.pool import Sandbox  # noqa: E402
from sandbox.records import Limits  # noqa: E402

TASKS = [
    "find . -name '*.py' | wc -l",
    "grep -rl 'TODO' . | sort | head -5",
    "du -sh . | cut -f2",
    "ls -la src | head -5",
    "head -n 3 src/mod0/file1.txt",
    "tar -czf /tmp/src.tgz src && echo ok",
    "echo note > NOTE.md && sed -i 's/alpha/ALPHA/' src/mod0/file1.txt",
    "rm -f src/mod1/*.txt && find . -type f | wc -l",
]


def make_spec(files: int, variant: int = 0):
    """A fixture of ``files`` files; another ``variant`` has the same shape and other bytes."""
    per_dir = 25
    entries = []
    for i in range(files):
        d, f = divmod(i, per_dir)
        ext = "py" if f % 3 == 0 else "txt"
        body = f"alpha {i}\n" + ("TODO: fix\n" if i % 17 == 0 else "") + "x" * 400 + "\n"
        entries.append({"path": f"src/mod{d}/file{f}.{ext}", "text": body + "v" * variant})
    return FixtureSpec(name=f"bench-{files}" + (f"-v{variant}" if variant else ""), files=entries)


def _plain_tar(fixture) -> bytes:
    """The fixture with resolved mtimes under work/, for docker put_archive."""
    now = time.time()
    src = tarfile.open(fileobj=io.BytesIO(fixture.read()))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        top = tarfile.TarInfo("work")
        top.type, top.mode, top.uid, top.gid = tarfile.DIRTYPE, 0o755, 1000, 1000
        tar.addfile(top)
        for info in src:
            kind, _, value = info.pax_headers.get("FENRIR.mtime", "abs:0").partition(":")
            info.mtime = int(now + float(value)) if kind == "rel" else int(float(value))
            info.pax_headers = {}
            info.name = f"work/{info.name}"
            tar.addfile(info, src.extractfile(info) if info.isfile() else None)
    return out.getvalue()


def _timed(sb, fixture, n: int, offset: int, limits: Limits | None = None, check: bool = True):
    """(latencies, wall) of ``n`` tasks of the mix on a warm ``sb``, starting at task ``offset``."""
    lat = []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        ex = sb.run(TASKS[(i + offset) % len(TASKS)], fixture, limits)
        assert not check or ex.exit_code == 0, ex.stderr
        lat.append(time.perf_counter() - t)
    return lat, time.perf_counter() - start


def _pool_worker(args):
    fixture, n, offset = args
    with Sandbox(worker=f"bench{offset}") as sb:
        sb.run("true", fixture)  # warm: container up, fixture loaded
        return _timed(sb, fixture, n, offset)


def _fresh_worker(args):
    fixture, n, offset = args
    cl, image = client(), ensure_image()
    blob = _plain_tar(fixture)
    lat = []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        c = cl.containers.create(image.tag, entrypoint=["bash", "-c", TASKS[(i + offset) % len(TASKS)]],
                                 user="1000:1000", working_dir="/work", network_mode="none",
                                 cap_drop=["ALL"], labels={LABEL: "bench", **owner_labels()}, mem_limit="512m",
                                 pids_limit=256)
        try:
            c.put_archive("/", blob)
            c.start()
            code = c.wait()["StatusCode"]
            c.logs(stdout=True, stderr=False)
            assert code == 0, c.logs().decode()
        finally:
            c.remove(force=True)
        lat.append(time.perf_counter() - t)
    return lat, time.perf_counter() - start


def _runtime_worker(args):
    fixture, n, offset, runtime, engine, image = args
    limits = Limits(runtime=runtime)
    with Sandbox(image=image, worker=f"bench{runtime}{offset}", engine=engine) as sb:
        t = time.perf_counter()
        sb.run("true", fixture, limits)  # the container starts and loads the fixture
        first = time.perf_counter() - t
        lat, wall = _timed(sb, fixture, n, offset, limits, check=False)  # ls -l fails under gVisor 20221219
        return lat, wall, first


def compare_runtimes(runtime: str, tasks: int, sizes: list[int]) -> None:
    """runc against ``runtime`` on one engine that has both, 1 and 2 workers, each fixture size."""
    engine, image = runsc_engine()
    print(f"engine {engine or 'default'}; image {image.tag} {image.digest[:19]}; task mix of {len(TASKS)} plans; "
          f"first task per worker (container start + fixture load) timed apart")
    rows, summary = [], []
    for size in sizes:
        fixture = materialise(make_spec(size))
        for workers in (1, 2):
            found = {}
            for name in ("runc", runtime):
                m = measure(_runtime_worker, fixture, tasks, workers, name, engine, image)
                found[name] = m
            base = found["runc"]
            for name, m in found.items():
                ratio = m["p50"] / base["p50"]
                rows.append((f"{fixture.files} entries", workers, name, m["n"], f"{m['tps']:.1f}", f"{m['p50']:.1f}",
                             f"{m['p95']:.1f}", f"{m['first']:.0f}", f"{ratio:.2f}x"))
            summary.append((fixture.files, workers, found[runtime]["p50"] / base["p50"],
                            found[runtime]["p95"] / base["p95"], found[runtime]["first"] / base["first"]))
    print(tabulate(rows, headers=("fixture", "workers", "runtime", "tasks", "tasks/s", "p50 ms", "p95 ms",
                                  "first ms", "p50 vs runc")))
    print()
    for files, workers, p50, p95, first in summary:
        print(f"fixture {files} entries, {workers} worker(s): {runtime} p50 {p50:.2f}x, p95 {p95:.2f}x, "
              f"first task {first:.2f}x runc's")


def measure(worker, fixture, tasks: int, workers: int, *extra):
    per = tasks // workers
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        results = pool.map(worker, [(fixture, per, w * 3, *extra) for w in range(workers)])
    lat = sorted(x for r in results for x in r[0])
    wall = max(r[1] for r in results)
    first = statistics.mean(r[2] for r in results) * 1e3 if len(results[0]) > 2 else None
    found = {"tps": len(lat) / wall, "p50": statistics.median(lat) * 1e3,
             "p95": lat[int(0.95 * (len(lat) - 1))] * 1e3, "n": len(lat), "first": first}
    if len(results[0]) > 3:  # the switches: the first to a fixture not in the container, then back and forth
        found["switch"] = statistics.median(r[3][0] for r in results) * 1e3
        found["back"] = statistics.median(x for r in results for x in r[3][1:]) * 1e3
    return found


def _engine_worker(args):
    fixture, n, offset, engines, twin = args
    engine = engines[(offset // 3) % len(engines)]  # worker w on engine w mod N, as xdist workers are bound
    with Sandbox(worker=f"bench{offset}", engine=engine) as sb:
        sb.image  # noqa: B018 (on that engine before the clock starts)
        t = time.perf_counter()
        sb.run("true", fixture)  # the container starts and loads the fixture
        first = time.perf_counter() - t
        lat, wall = _timed(sb, fixture, n, offset)
        switches = []  # each run loads the other fixture: sent the first time, then kept by the container
        for other in (twin, fixture, twin, fixture):
            t = time.perf_counter()
            sb.run("true", other)
            switches.append(time.perf_counter() - t)
        return lat, wall, first, switches


def compare_engines(count: int, tasks: int, sizes: list[int], workers: list[int], restream: bool) -> None:
    """The warm pool on 1..``count`` engines of FENRIR_ENGINES, from one run; how each got the sandbox image."""
    engines = configured()[:count]
    if len(engines) < count:
        sys.exit(f"bench: --engines {count} needs {count} engines in FENRIR_ENGINES, which names {len(engines)}; "
                 f"as root, 'sh sandbox/engine.sh --extra {count - 1}' starts local ones and prints the "
                 f"FENRIR_ENGINES to export")
    image = sandbox_image(engines[0])
    print(f"image {image.tag} {image.digest[:19]} on {engines[0]} (home); task mix of {len(TASKS)} plans")
    for engine in engines[1:]:
        kept = ""
        if restream:
            client(engine).images.remove(image.tag, force=True)
            if any(i.id == image.digest for i in client(engine).images.list(all=True)):
                kept = "; its layers were still there (a container there uses the image): only re-tagged"
        t = time.perf_counter()
        there = sandbox_image(engine, log=lambda m: None)
        took = time.perf_counter() - t
        size = client(engine).images.get(there.tag).attrs["Size"] / 1e6
        print(f"image on {engine}: {'streamed' if restream else 'ready'} in {took:.1f} s ({size:.0f} MB{kept})")
    rows, summary = [], []
    for size in sizes:
        fixture, twin = materialise(make_spec(size)), materialise(make_spec(size, variant=1))
        for n in workers:
            one = None
            for k in range(1, len(engines) + 1):
                m = measure(_engine_worker, fixture, tasks, n, engines[:k], twin)
                one = one or m
                rows.append((f"{fixture.files} entries", k, n, m["n"], f"{m['tps']:.1f}", f"{m['p50']:.1f}",
                             f"{m['p95']:.1f}", f"{m['first']:.0f}", f"{m['switch']:.0f}", f"{m['back']:.0f}",
                             f"{m['tps'] / one['tps']:.2f}x"))
                summary.append((fixture.files, n, k, m["tps"], m["tps"] / one["tps"], m["p95"] / one["p95"]))
    print(tabulate(rows, headers=("fixture", "engines", "workers", "tasks", "tasks/s", "p50 ms", "p95 ms",
                                  "first ms", "switch ms", "back ms", "vs 1 engine")))
    print()
    for files, n, k, tps, ratio, p95 in summary:
        if k > 1:
            print(f"fixture {files} entries, {n} workers on {k} engines: {tps:.1f} tasks/s, {ratio:.2f}x the "
                  f"tasks/s of one engine, p95 {p95:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=240, help="tasks per pool measurement")
    ap.add_argument("--baseline-tasks", type=int, default=12, help="tasks per fresh-container measurement")
    ap.add_argument("--sizes", default="200,5000")
    ap.add_argument("--runtime", choices=("runsc",), default=None,
                    help="instead: the pool under runc and under this runtime on one engine, and the overhead")
    ap.add_argument("--engines", type=int, default=0, metavar="N",
                    help="instead: the warm pool on 1..N engines of FENRIR_ENGINES, and how each got the image")
    ap.add_argument("--workers", default="2,4", help="with --engines: worker processes (comma-separated)")
    ap.add_argument("--restream", action="store_true",
                    help="with --engines: untag the sandbox image on the other engines first, to time its stream")
    args = ap.parse_args()
    if args.runtime:
        compare_runtimes(args.runtime, args.tasks, [int(s) for s in args.sizes.split(",")])
        return
    if args.engines:
        compare_engines(args.engines, args.tasks, [int(s) for s in args.sizes.split(",")],
                        [int(w) for w in args.workers.split(",")], args.restream)
        return
    image = ensure_image()
    print(f"image {image.tag} {image.digest[:19]}; task mix of {len(TASKS)} plans; warm pool, "
          f"first task per worker not timed")
    rows, summary = [], []
    for size in (int(s) for s in args.sizes.split(",")):
        fixture = materialise(make_spec(size))
        for workers in (1, 2):
            pool = measure(_pool_worker, fixture, args.tasks, workers)
            fresh = measure(_fresh_worker, fixture, args.baseline_tasks, workers)
            ratio = pool["tps"] / fresh["tps"]
            for name, m in (("fenrir pool", pool), ("fresh container", fresh)):
                rows.append((f"{fixture.files} entries", workers, name, m["n"], f"{m['tps']:.1f}",
                             f"{m['p50']:.1f}", f"{m['p95']:.1f}", f"{ratio:.1f}x" if name == "fenrir pool" else ""))
            summary.append((fixture.files, workers, pool["tps"], ratio))
    print(tabulate(rows, headers=("fixture", "workers", "runner", "tasks", "tasks/s", "p50 ms", "p95 ms", "pool/fresh")))
    print()
    for files, workers, tps, ratio in summary:
        print(f"fixture {files} entries, {workers} worker(s): pool {tps:.1f} tasks/s, {ratio:.1f}x the fresh-container baseline")


if __name__ == "__main__":
    main()
