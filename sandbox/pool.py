"""A warm pool of hardened sandbox containers, and the channel to each one.

Each container is long-lived: its PID 1 (``image/supervisor.py``) keeps the
pristine fixture in memory, runs one plan at a time as an unprivileged user,
diffs the tree, and puts back only what the plan changed.  The host talks to
it over ``docker attach`` (the supervisor's stdin/stdout): no plan process
holds those descriptors, so no plan can forge a result.

Containers are keyed by (image, fixture roots, container-level limits): a
fixture that names packages (or a suite that does) runs in its derived image
(:mod:`sandbox.derived`), one tmpfs per root.  A process
owns its containers; parallel pytest-xdist workers each have their own, with
unique names and labels (``fenrir sandbox cleanup`` removes leftovers).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import socket
import struct
import threading
import uuid

from harness.errors import FixtureError, PlanError, SandboxError, SandboxUnavailable
from sandbox.derived import ImageRecipe, ensure_derived
from sandbox.engine import LABEL, Image, client, ensure_image
from sandbox.materialize import Fixture
from sandbox.records import Execution, Limits

FRAME = struct.Struct("!QQ")
CONTAINER_VERSION = 2
"""Bumped whenever a container setting a plan can observe changes (hostname, /etc/hosts, mounts): cached
executions from other versions are not reused."""
PLAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/home/user",
    "USER": "user",
    "LOGNAME": "user",
    "SHELL": "/bin/bash",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "TERM": "dumb",
    "GIT_OPTIONAL_LOCKS": "0",  # `git status` must not rewrite the index behind the diff
    "PIP_NO_INPUT": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    # .pyc files that pip/ensurepip do write carry a source hash, not a load-time mtime
    "SOURCE_DATE_EPOCH": "1700000000",
}


def plan_env(cwd: str, epoch: float | None) -> dict[str, str]:
    """The plan's whole environment.  With a pinned epoch, commits a plan makes
    get that date too, so a reference and a candidate commit byte-identically."""
    env = dict(PLAN_ENV, PWD=cwd)
    if epoch is not None:
        stamp = f"@{int(epoch)} +0000"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp, SOURCE_DATE_EPOCH=str(int(epoch)))
    return env
MAX_PLAN_BYTES = 100_000
TMPFS_OVERHEAD = 4096  # bytes a tmpfs charges per inode, roughly


def check_plan(plan: str | bytes) -> str:
    """The plan as text, or one PlanError saying what is wrong with it."""
    if isinstance(plan, bytes):
        try:
            plan = plan.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PlanError(f"plan is not UTF-8 (byte {exc.start}: {plan[exc.start:exc.start + 1]!r}); "
                            f"re-encode it as UTF-8") from None
    if not isinstance(plan, str):
        raise PlanError(f"plan must be text, not {type(plan).__name__}")
    if "\x00" in plan:
        raise PlanError(f"plan contains a NUL byte at character {plan.index(chr(0))}; remove it")
    if not plan.strip():
        raise PlanError("plan is empty: give at least one shell command")
    if len(plan.encode()) > MAX_PLAN_BYTES:
        raise PlanError(f"plan is {len(plan.encode())} bytes; the sandbox takes at most {MAX_PLAN_BYTES}")
    return plan


def owner_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Channel:
    """Framed request/response over a docker attach socket (stdin in, stdout/stderr out)."""

    def __init__(self, sock):
        self._io = sock
        self._sock = getattr(sock, "_sock", sock)
        self._buf = bytearray()
        self._left = 0  # bytes still to come in the current stdout frame
        self.stderr = bytearray()

    def _fill(self, n: int) -> None:
        while len(self._buf) < n:
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                raise EOFError("sandbox container closed the channel")
            self._buf += chunk

    def _take(self, n: int) -> bytes:
        self._fill(n)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _stdout(self, n: int) -> bytes:
        """n bytes of the supervisor's stdout, skipping (and keeping) stderr frames."""
        out = bytearray()
        while len(out) < n:
            if not self._left:
                stream, size = struct.unpack(">BxxxL", self._take(8))
                if stream == 2:
                    self.stderr += self._take(size)
                    continue
                self._left = size
            take = min(self._left, n - len(out))
            out += self._take(take)
            self._left -= take
        return bytes(out)

    def call(self, header: dict, payload: bytes = b"") -> tuple[dict, bytes]:
        data = json.dumps(header).encode()
        self._sock.sendall(FRAME.pack(len(data), len(payload)) + data + payload)
        hlen, plen = FRAME.unpack(self._stdout(FRAME.size))
        reply = json.loads(self._stdout(hlen))
        return reply, self._stdout(plen) if plen else b""

    def close(self) -> None:
        try:
            self._io.close()
        except OSError:
            pass


class SandboxContainer:
    """One long-lived hardened container and its supervisor."""

    def __init__(self, image: Image, roots: tuple[str, ...], limits: Limits, worker: str):
        from docker.errors import DockerException
        from docker.types import Ulimit

        self.image, self.roots, self.limits = image, roots, limits
        self.loaded: tuple[str, float | None] | None = None  # (fixture hash, epoch)
        self.name = f"fenrir-{worker}-{uuid.uuid4().hex[:10]}"
        cl = client()
        tmpfs_opts = "rw,nosuid,nodev,exec"
        try:
            self.container = cl.containers.create(
                image.tag,
                name=self.name,
                labels={LABEL: "pool", "fenrir.owner": owner_label(), "fenrir.worker": worker,
                        "fenrir.run": os.environ.get("FENRIR_RUN_ID", "")},
                stdin_open=True, tty=False,
                network_mode="none",
                hostname="sandbox",  # the same in every container: `hostname` is part of some answers
                extra_hosts={"sandbox": "127.0.1.1"},  # and it resolves, as Debian's /etc/hosts makes it
                read_only=True,
                cap_drop=["ALL"], cap_add=["SETUID", "SETGID", "KILL"],
                security_opt=["no-new-privileges"],
                ipc_mode="none",  # no /dev/shm
                pids_limit=limits.pids,
                mem_limit=limits.memory, memswap_limit=limits.memory,
                nano_cpus=int(limits.cpus * 1e9),
                ulimits=[Ulimit(name="core", soft=0, hard=0)],
                tmpfs={
                    **{root: f"{tmpfs_opts},size={limits.tree_size},uid=1000,gid=1000,mode=0755" for root in roots},
                    "/tmp": f"{tmpfs_opts},size={limits.tmp_size},mode=1777",
                    "/home/user": f"{tmpfs_opts},size={limits.tmp_size},uid=1000,gid=1000,mode=0755",
                },
                working_dir="/",
                environment={"FENRIR_SUPERVISOR": "1"},  # the plan must never see this
            )
            sock = cl.api.attach_socket(self.container.id,
                                        params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self.channel = Channel(sock)
            self.container.start()
        except DockerException as exc:
            self.remove()
            raise SandboxUnavailable(f"could not start a sandbox container from {image.tag}: {exc}") from exc
        self._call({"op": "hello"})

    def _call(self, header: dict, payload: bytes = b"") -> tuple[dict, bytes]:
        try:
            reply, out = self.channel.call(header, payload)
        except (EOFError, OSError) as exc:
            log = self.channel.stderr.decode(errors="replace")[-1000:]
            self.remove()
            raise SandboxError(f"sandbox container {self.name} stopped answering ({exc}); "
                               f"supervisor log: {log or '(empty)'}") from exc
        if not reply.get("ok") and not reply.get("need_payload"):
            self.remove()  # never reuse a container whose state we are unsure of
            raise SandboxError(f"sandbox supervisor in {self.name}: {reply.get('error')}")
        return reply, out

    def load(self, fixture: Fixture, epoch: float | None = None) -> None:
        """Materialise the fixture; relative mtimes resolve against ``epoch`` (default: now)."""
        if self.loaded == (fixture.hash, epoch):
            return
        need = fixture.size + fixture.files * TMPFS_OVERHEAD
        if need > self.limits.tree_size:
            raise FixtureError(
                f"fixture {fixture.name} needs about {need / 2**20:.1f} MiB but the work tree tmpfs holds "
                f"{self.limits.tree_size / 2**20:.1f} MiB; raise Limits.tree_size (--tree-size) or shrink the fixture")
        request = {"op": "load", "hash": fixture.hash, "roots": list(fixture.roots), "workdir": fixture.workdir,
                   "epoch": epoch}
        reply, _ = self._call(request)
        if reply.get("need_payload"):
            self._call(request, fixture.read())
        self.loaded = (fixture.hash, epoch)

    def run(self, plan: str, fixture: Fixture, limits: Limits, *, epoch: float | None = None,
            probe: str | None = None, workdir: str | None = None) -> Execution:
        self.load(fixture, epoch)
        rlimits = {"fsize": limits.file_size, "nofile": limits.open_files,
                   "cpu": int(math.ceil(limits.timeout)) + 1, "core": 0}
        cwd = workdir or fixture.workdir
        request = {"op": "run", "hash": fixture.hash, "script": plan, "timeout": limits.timeout,
                   "output_limit": limits.output_limit, "rlimits": rlimits,
                   "env": plan_env(cwd, epoch), "cwd": cwd, "probe": probe}
        reply, out = self._call(request)
        n = reply["stdout_len"]
        return Execution(
            plan=plan, fixture=fixture.name, fixture_hash=fixture.hash, image=self.image.tag,
            image_digest=self.image.digest, exit_code=reply["exit_code"], signal=reply["signal"],
            timed_out=reply["timed_out"], wall_time=reply["wall_time"],
            stdout=out[:n].decode("utf-8", errors="replace"), stderr=out[n:].decode("utf-8", errors="replace"),
            stdout_bytes=reply["stdout_bytes"], stderr_bytes=reply["stderr_bytes"],
            stdout_truncated=reply["stdout_truncated"], stderr_truncated=reply["stderr_truncated"],
            changes=reply["changes"], limits=limits, epoch=epoch,
            probe=probe, probe_stdout=reply.get("probe_stdout"))

    def remove(self) -> None:
        from docker.errors import DockerException

        channel = getattr(self, "channel", None)
        if channel is not None:
            channel.close()
        container = getattr(self, "container", None)
        if container is not None:
            try:
                container.remove(force=True)
            except DockerException:
                pass
            self.container = None


class Sandbox:
    """Runs plans against fixtures in pooled containers.  Thread-safe."""

    def __init__(self, image: Image | None = None, worker: str | None = None):
        self._image = image
        self.worker = worker or os.environ.get("PYTEST_XDIST_WORKER") or f"p{os.getpid()}"
        self._free: dict[tuple, list[SandboxContainer]] = {}
        self._all: list[SandboxContainer] = []
        self._derived: dict[ImageRecipe, Image] = {}
        self._lock = threading.Lock()

    @property
    def image(self) -> Image:
        """The sandbox image (plans of fixtures that need nothing more run in it)."""
        if self._image is None:
            self._image = ensure_image()
        return self._image

    def image_for(self, fixture: Fixture, packages=()) -> Image:
        """The image ``fixture`` runs in, with ``packages`` (a suite's or case's) on top of its own."""
        recipe = fixture.image.plus(packages)
        if recipe.empty:
            return self.image
        with self._lock:
            known = self._derived.get(recipe)
        if known is None:
            known = ensure_derived(recipe, self.image)
            with self._lock:
                self._derived[recipe] = known
        return known

    @staticmethod
    def _key(image: Image, roots: tuple[str, ...], limits: Limits) -> tuple:
        return (image.tag, tuple(sorted(roots)), limits.container_key())

    def _acquire(self, image: Image, roots: tuple[str, ...], limits: Limits) -> SandboxContainer:
        with self._lock:
            free = self._free.setdefault(self._key(image, roots, limits), [])
            if free:
                return free.pop()
        box = SandboxContainer(image, roots, limits, self.worker)
        with self._lock:
            self._all.append(box)
        return box

    def _release(self, box: SandboxContainer) -> None:
        with self._lock:
            if box.container is None:
                self._all.remove(box)
            else:
                self._free.setdefault(self._key(box.image, box.roots, box.limits), []).append(box)

    def run(self, plan: str | bytes, fixture: Fixture, limits: Limits | None = None, *,
            epoch: float | None = None, probe: str | None = None, packages=(),
            workdir: str | None = None, image: Image | None = None) -> Execution:
        """Run ``plan`` against a pristine copy of ``fixture``.

        ``epoch`` pins the time relative mtimes resolve against (the harness
        uses one per eval run, so a reference and a candidate see byte-identical
        trees); ``probe`` is a grader's read-only script run after the plan and
        all its processes are gone, its stdout kept apart in ``probe_stdout``.
        ``packages`` adds Debian packages to the fixture's own (a derived image);
        ``workdir`` runs the plan elsewhere than the fixture's working directory;
        ``image`` names the image outright instead.
        """
        plan = check_plan(plan)
        limits = limits or Limits()
        image = image or self.image_for(fixture, packages)
        box = self._acquire(image, fixture.roots, limits)
        try:
            return box.run(plan, fixture, limits, epoch=epoch, probe=probe, workdir=workdir)
        finally:
            self._release(box)

    def prepare(self, fixture: Fixture, limits: Limits | None = None, *, epoch: float | None = None) -> None:
        """Start a container for ``fixture`` and load it, so a later ``run`` starts at once."""
        limits = limits or Limits()
        box = self._acquire(self.image_for(fixture, ()), fixture.roots, limits)
        try:
            box.load(fixture, epoch)
        finally:
            self._release(box)

    def close(self) -> None:
        with self._lock:
            boxes, self._all, self._free = self._all, [], {}
        for box in boxes:
            box.remove()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_default: Sandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> Sandbox:
    """The process-wide pool, closed (containers removed) at exit."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Sandbox()
            atexit.register(_default.close)
        return _default


def cleanup(everything: bool = False) -> list[str]:
    """Remove Fenrir containers left behind by dead processes (all of them with everything=True)."""
    from docker.errors import DockerException

    removed = []
    host = socket.gethostname()
    for c in client().containers.list(all=True, filters={"label": LABEL}):
        owner = c.labels.get("fenrir.owner", "")
        owner_host, _, pid = owner.partition(":")
        alive = owner_host == host and pid.isdigit() and _pid_alive(int(pid))
        if everything or not alive or c.status not in ("running", "created"):
            try:
                c.remove(force=True)
                removed.append(c.name)
            except DockerException:
                pass
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
