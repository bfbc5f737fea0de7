"""One hardened sandbox container and its supervisor, as the pool starts and uses it.

The container's PID 1 (``image/supervisor.py``) keeps the pristine fixture in
memory, runs one plan at a time as an unprivileged user, diffs the tree, and
puts back only what the plan changed.  The host talks to it over ``docker
attach`` (:mod:`sandbox.channel`).  Each container carries labels: what it is
(``fenrir.sandbox=pool``), its owner process (:mod:`sandbox.owners`), the pool
worker and the run it serves (``fenrir.run``: an eval run's id, or what
started it: ask, preview, judge ...), so ``docker ps --filter
label=fenrir.run=RUN`` lists a run's containers.
"""

from __future__ import annotations

import math
import time
import uuid

from harness.errors import PlanError, SandboxError, SandboxUnavailable
from sandbox.channel import Channel
from sandbox.engine import LABEL, Image, client
from sandbox.materialize import Fixture
from sandbox.owners import owner_labels
from sandbox.records import MiB, Execution, Limits
from sandbox.runtimes import require_runtime

CONTAINER_VERSION = 2
"""Bumped whenever a container setting a plan can observe changes (hostname, /etc/hosts, mounts): cached
executions from other versions are not reused."""
RUNSC_HOST_PIDS = 32
"""Under runsc, host pids (the pids cgroup) allowed per process a plan may have: gVisor's kernel runs on host
threads (3,692 at the peak of a fork bomb held to 256 processes) and dies when the cgroup refuses one."""
ANSWER_MARGIN_S = 300.0
"""How much longer than ``Limits.timeout`` a supervisor may take to answer one request before its container
counts as hung (the supervisor itself stops a plan at the timeout; loads of the largest fixtures take seconds)."""
RUN = "fenrir.run"
"""The label naming the run a container serves."""
DEFAULT_RUN = "adhoc"
"""The run label of containers started by callers that name none."""

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


class SandboxContainer:
    """One long-lived hardened container and its supervisor, on ``engine`` (None: the default one)."""

    def __init__(self, image: Image, roots: tuple[str, ...], limits: Limits, worker: str, run: str = DEFAULT_RUN,
                 engine: str | None = None):
        from docker.errors import DockerException
        from docker.types import Ulimit

        self.image, self.roots, self.limits, self.run_label, self.engine = image, roots, limits, run, engine
        self.loaded: tuple[str, float | None] | None = None  # (fixture hash, epoch)
        self.answer_margin = ANSWER_MARGIN_S
        self.name = f"fenrir-{worker}-{uuid.uuid4().hex[:10]}"
        cl = client(engine)
        if limits.runtime != "runc":  # every engine has runc
            require_runtime(limits.runtime, engine)
        tmpfs_opts = "rw,nosuid,nodev,exec"
        try:
            self.container = cl.containers.create(
                image.tag,
                name=self.name,
                labels={LABEL: "pool", **owner_labels(), "fenrir.worker": worker, RUN: run},
                stdin_open=True, tty=False,
                network_mode="none",
                hostname="sandbox",  # the same in every container: `hostname` is part of some answers
                extra_hosts={"sandbox": "127.0.1.1"},  # and it resolves, as Debian's /etc/hosts makes it
                read_only=True,
                cap_drop=["ALL"], cap_add=["SETUID", "SETGID", "KILL"],
                security_opt=["no-new-privileges"],
                ipc_mode="none",  # no /dev/shm
                # under runsc the plan's processes are held by RLIMIT_NPROC inside (see run)
                pids_limit=limits.pids * (RUNSC_HOST_PIDS if limits.runtime == "runsc" else 1),
                mem_limit=limits.memory, memswap_limit=limits.memory,
                nano_cpus=int(limits.cpus * 1e9),
                ulimits=[Ulimit(name="core", soft=0, hard=0)],
                runtime=None if limits.runtime == "runc" else limits.runtime,  # runc: the engine's default
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
        except (DockerException, OSError) as exc:  # OSError: the engine's connection (requests raises those)
            self.remove()
            raise SandboxUnavailable(f"could not start a sandbox container from {image.tag}"
                                     f"{'' if engine is None else ' on ' + engine}: {exc}") from exc
        self._call({"op": "hello"}, doing="starting")

    def _call(self, header: dict, payload: bytes = b"", *, doing: str,
              timeout: float | None = None) -> tuple[dict, bytes]:
        """The supervisor's reply; ``doing`` says what the request was for, in errors.  No answer within
        ``timeout`` (default ``Limits.timeout``) + ``answer_margin`` seconds: the container is hung, and removed."""
        wait = (self.limits.timeout if timeout is None else timeout) + self.answer_margin
        try:
            reply, out = self.channel.call(header, payload, timeout=wait)
        except (EOFError, OSError) as exc:
            log = self.channel.stderr.decode(errors="replace")[-1000:]
            out_of_memory = self._killed_for_memory()
            self.remove()
            if out_of_memory:
                raise SandboxError(
                    f"sandbox container {self.name} ran out of memory while {doing}: the kernel killed its "
                    f"supervisor at Limits.memory = {self.limits.memory / MiB:.0f} MiB; raise Limits.memory "
                    f"(--memory) or shrink the fixture (a fixture needs about three times its size)") from exc
            if isinstance(exc, TimeoutError):
                raise SandboxError(f"sandbox container {self.name} gave no answer within {wait:.0f} s while {doing} "
                                   f"(hung engine or connection); it was removed") from exc
            raise SandboxError(f"sandbox container {self.name} stopped answering while {doing} ({exc}); "
                               f"supervisor log: {log or '(empty)'}") from exc
        if not reply.get("ok") and not reply.get("need_payload"):
            self.remove()  # never reuse a container whose state we are unsure of
            raise SandboxError(f"sandbox supervisor in {self.name}: {reply.get('error')}")
        return reply, out

    def _killed_for_memory(self) -> bool:
        """Whether the container stopped because the kernel's OOM killer hit it (waits up to 5 s for it to stop)."""
        from docker.errors import DockerException

        try:
            for _ in range(50):
                state = client(self.engine).api.inspect_container(self.container.id)["State"]
                if not state.get("Running"):
                    break
                time.sleep(0.1)
        except (DockerException, OSError):
            return False  # gone already, or its engine: nothing says why
        return bool(state.get("OOMKilled"))

    def load(self, fixture: Fixture, epoch: float | None = None) -> None:
        """Materialise the fixture; relative mtimes resolve against ``epoch`` (default: now)."""
        if self.loaded == (fixture.hash, epoch):
            return
        request = {"op": "load", "hash": fixture.hash, "roots": list(fixture.roots), "workdir": fixture.workdir,
                   "epoch": epoch}
        doing = f"loading fixture {fixture.name}"
        reply, _ = self._call(request, doing=doing)
        if reply.get("need_payload"):
            self._call(request, fixture.read(), doing=doing)
        self.loaded = (fixture.hash, epoch)

    def run(self, plan: str, fixture: Fixture, limits: Limits, *, epoch: float | None = None,
            probe: str | None = None, workdir: str | None = None) -> Execution:
        self.load(fixture, epoch)
        rlimits = {"fsize": limits.file_size, "nofile": limits.open_files,
                   "cpu": int(math.ceil(limits.timeout)) + 1, "core": 0}
        if limits.runtime == "runsc":
            # gVisor's kernel runs on the host's threads and memory: a plan that reached the container's pids or
            # memory cgroup would kill the whole sandbox.  Its own kernel holds the plan instead (per sandbox).
            rlimits.update({"nproc": limits.pids, "as": limits.memory})
        cwd = workdir or fixture.workdir
        request = {"op": "run", "hash": fixture.hash, "script": plan, "timeout": limits.timeout,
                   "output_limit": limits.output_limit, "rlimits": rlimits,
                   "env": plan_env(cwd, epoch), "cwd": cwd, "probe": probe}
        reply, out = self._call(request, doing=f"running a plan on fixture {fixture.name}", timeout=limits.timeout)
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
            except (DockerException, OSError):
                pass  # gone already, or its engine is (whose restart reaps it: sandbox.owners)
            self.container = None
