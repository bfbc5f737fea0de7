"""Sandbox throughput: Fenrir's warm pool vs a fresh container per task, in one run.

    python bench/sandbox.py [--tasks 240] [--baseline-tasks 12]
    python bench/sandbox.py --engines 2 [--workers 2,4] [--restream]

The same task mix (reads, searches, archives, edits, deletes) runs on a
~200-file and a ~5,000-file fixture, with 1 and 2 worker processes, through
(a) Fenrir's pool: long-lived containers, diff + reset of only what changed,
and (b) the SWE-bench/nl2bash-style baseline: create a container, copy the
fixture in, start it, wait, read the logs, remove it.  The baseline does less
work per task (no diff, no hardening supervisor) and is still the slow one.
Prints tasks/s, p50/p95 latency and the ratio; nothing is asserted.

``--engines N`` measures the warm pool on 1..N engines instead (the first N
of ``FENRIR_ENGINES``; ``sh sandbox/engine.sh --extra 1`` starts a second
local one), the same workers spread over them round-robin as xdist workers
are: tasks/s, p95, the first task of each worker (container start + fixture
load), a task whose container must first load another fixture of the same
size (switch: its archive sent and its tree built, what a suite of many
fixtures pays per task; back: a fixture the container still keeps, its tree
built again) and the ratio to one engine; and how long each engine took to get the sandbox image
(``--restream`` untags it on the other engines first, to time the stream).
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    from sandbox.fixture import FixtureSpec

    per_dir = 25
    entries = []
    for i in range(files):
        d, f = divmod(i, per_dir)
        ext = "py" if f % 3 == 0 else "txt"
        body = f"alpha {i}\n" + ("TODO: fix\n" if i % 17 == 0 else "") + "x" * 400 + "\n"
        entries.append({"path": f"src/mod{d}/file{f}.{ext}", "text": body + ("v" * variant)})
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


def _pool_worker(args):
    fixture, n, offset, url, twin = args
    from sandbox.endpoints import Endpoint
    from sandbox.pool import Sandbox

    with Sandbox(worker=f"bench{offset}", endpoint=Endpoint(url) if url else None) as sb:
        sb.image  # noqa: B018 (the image is there before the clock starts)
        t = time.perf_counter()
        sb.run("true", fixture)  # warm: container up, fixture loaded
        first = time.perf_counter() - t
        lat = []
        start = time.perf_counter()
        for i in range(n):
            t = time.perf_counter()
            ex = sb.run(TASKS[(i + offset) % len(TASKS)], fixture)
            assert ex.exit_code == 0, ex.stderr
            lat.append(time.perf_counter() - t)
        wall = time.perf_counter() - start
        switches = []  # each run loads the other fixture: sent the first time, then from the container's cache
        for other in (twin, fixture, twin, fixture) if twin else ():
            t = time.perf_counter()
            sb.run("true", other)
            switches.append(time.perf_counter() - t)
        return lat, wall, first, switches or [0.0, 0.0]


def _fresh_worker(args):
    fixture, n, offset, _, _ = args
    from sandbox.engine import LABEL, client, ensure_image
    from sandbox.owners import owner_labels

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
    return lat, time.perf_counter() - start, 0.0, [0.0, 0.0]


def measure(worker, fixture, tasks: int, workers: int, engines=(None,), twin=None):
    """Latencies of ``tasks`` tasks over ``workers`` processes, worker w on engine w mod len(engines); with
    ``twin``, each worker then times runs that switch its container to the other fixture."""
    per = tasks // workers
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        results = pool.map(worker, [(fixture, per, w * 3, engines[w % len(engines)], twin) for w in range(workers)])
    lat = sorted(x for r, _, _, _ in results for x in r)
    wall = max(w for _, w, _, _ in results)
    return {"tps": len(lat) / wall, "p50": statistics.median(lat) * 1e3,
            "p95": lat[int(0.95 * (len(lat) - 1))] * 1e3, "n": len(lat),
            "first": statistics.median(f for _, _, f, _ in results) * 1e3,
            "switch": statistics.median(s[0] for _, _, _, s in results) * 1e3,
            "back": statistics.median(x for _, _, _, s in results for x in s[1:]) * 1e3}


def engines_main(args) -> None:
    """The warm pool on 1..N engines, from one run; how each engine got the sandbox image."""
    from tabulate import tabulate

    from sandbox.distribute import sandbox_image
    from sandbox.endpoints import configured
    from sandbox.engine import client
    from sandbox.materialize import materialise

    engines = configured()[:args.engines]
    if len(engines) < args.engines:
        sys.exit(f"bench: --engines {args.engines} needs {args.engines} engines in FENRIR_ENGINES, which names "
                 f"{len(engines)}; as root, 'sh sandbox/engine.sh --extra {args.engines - 1}' starts local ones "
                 f"and prints the FENRIR_ENGINES to export")
    image = sandbox_image(engines[0])
    print(f"image {image.tag} {image.digest[:19]} on {engines[0]} (home)")
    for endpoint in engines[1:]:
        kept = ""
        if args.restream:
            client(endpoint).images.remove(image.tag, force=True)
            if any(i.id == image.digest for i in client(endpoint).images.list(all=True)):
                kept = "; its layers were still there (a container there uses the image): only re-tagged"
        t = time.perf_counter()
        there = sandbox_image(endpoint, log=lambda m: None)
        took = time.perf_counter() - t
        size = client(endpoint).images.get(there.tag).attrs["Size"] / 1e6
        print(f"image on {endpoint}: {'streamed' if args.restream else 'ready'} in {took:.1f} s ({size:.0f} MB{kept})")
    rows, summary = [], []
    for size in (int(s) for s in args.sizes.split(",")):
        fixture, twin = materialise(make_spec(size)), materialise(make_spec(size, variant=1))
        for workers in (int(w) for w in args.workers.split(",")):
            one = None
            for k in range(1, len(engines) + 1):
                m = measure(_pool_worker, fixture, args.tasks, workers, tuple(e.url for e in engines[:k]), twin)
                one = one or m
                rows.append((f"{fixture.files} entries", k, workers, m["n"], f"{m['tps']:.1f}", f"{m['p50']:.1f}",
                             f"{m['p95']:.1f}", f"{m['first']:.0f}", f"{m['switch']:.0f}", f"{m['back']:.0f}",
                             f"{m['tps'] / one['tps']:.2f}x"))
                summary.append((fixture.files, workers, k, m["tps"], m["tps"] / one["tps"], m["p95"] / one["p95"]))
    print(tabulate(rows, headers=("fixture", "engines", "workers", "tasks", "tasks/s", "p50 ms", "p95 ms",
                                  "first task ms", "switch ms", "back ms", "vs 1 engine")))
    print()
    for files, workers, k, tps, ratio, p95 in summary:
        if k > 1:
            print(f"fixture {files} entries, {workers} workers on {k} engines: {tps:.1f} tasks/s, {ratio:.2f}x the "
                  f"tasks/s of one engine, p95 {p95:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=240, help="tasks per pool measurement")
    ap.add_argument("--baseline-tasks", type=int, default=12, help="tasks per fresh-container measurement")
    ap.add_argument("--sizes", default="200,5000")
    ap.add_argument("--engines", type=int, default=0, metavar="N",
                    help="measure the warm pool on 1..N engines of FENRIR_ENGINES instead")
    ap.add_argument("--workers", default="2,4", help="with --engines: worker processes (comma-separated)")
    ap.add_argument("--restream", action="store_true",
                    help="with --engines: untag the sandbox image on the other engines first, to time its stream")
    args = ap.parse_args()
    if args.engines:
        return engines_main(args)

    from tabulate import tabulate

    from sandbox.engine import ensure_image
    from sandbox.materialize import materialise

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
