"""The sandbox's typed records: limits going in, an Execution coming out.

These are written to JSON (``fenrir sandbox run --json``, the harness's
per-case artifacts) and read back for offline regrading, so they are pydantic
models that refuse unknown fields.  Nothing here imports docker: the rubrics
score Execution records without a Docker engine.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MiB = 1024 * 1024
TiB = 1024 * 1024 * MiB

Runtime = Literal["runc", "runsc"]
"""The OCI runtimes a sandbox container can run under."""
RUNTIMES: tuple[Runtime, ...] = ("runc", "runsc")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Record):
    """What one plan may use.  Container-level limits pick the pool container."""

    timeout: float = Field(10.0, gt=0, le=3600, allow_inf_nan=False)
    """Wall-clock seconds before the plan's whole process tree is killed."""
    output_limit: int = Field(1 * MiB, ge=1024)
    """Bytes kept of stdout and of stderr each; the rest is counted and dropped."""
    memory: int = Field(512 * MiB, ge=64 * MiB, le=TiB)
    """Container memory limit in bytes; swap is not allowed on top."""
    pids: int = Field(256, ge=16)
    """Most processes and threads alive at once in the container."""
    cpus: float = Field(1.0, gt=0, allow_inf_nan=False)
    """CPU share of the container (1.0 = one core)."""
    tree_size: int = Field(128 * MiB, ge=1 * MiB, le=TiB)
    """Size of the tmpfs that holds the work tree (the fixture plus what the plan writes)."""
    tmp_size: int = Field(64 * MiB, ge=1 * MiB, le=TiB)
    """Size of each scratch tmpfs (/tmp and the plan user's home)."""
    file_size: int = Field(64 * MiB, ge=1024)
    """Largest file a plan may write (RLIMIT_FSIZE); beyond it the writer gets SIGXFSZ."""
    open_files: int = Field(256, ge=16)
    """Most open file descriptors per plan process (RLIMIT_NOFILE)."""
    runtime: Runtime = "runc"
    """The container's OCI runtime: runc (the engine's default: runc on a stock Docker engine) or runsc (gVisor, a
    user-space kernel between the plan and the host's; the engine must have it registered: ``fenrir sandbox
    doctor`` says whether it does)."""

    def container_key(self) -> tuple:
        """The limits fixed when a container starts; others vary per task."""
        return (self.memory, self.pids, self.cpus, self.tree_size, self.tmp_size, self.runtime)


class PathState(_Record):
    """What a path is, without the times that differ from run to run."""

    type: Literal["file", "dir", "symlink", "fifo", "socket", "other"]
    """The kind of file-system object."""
    mode: int
    """Permission bits (e.g. 0o644 = 420)."""
    size: int
    """Size in bytes for files, 0 otherwise."""
    sha256: str | None = None
    """Content hash of a regular file."""
    target: str | None = None
    """Where a symlink points."""


class Change(_Record):
    """One path that differs from the pristine fixture after the plan ran."""

    path: str
    """Path relative to the fixture's root ('.' for the root itself), '/'-separated; with several roots,
    the absolute path ('/backup/a.txt')."""
    kind: Literal["added", "removed", "modified"]
    """Whether the plan created, deleted or altered it."""
    before: PathState | None
    """The pristine state (None for added paths)."""
    after: PathState | None
    """The state after the plan (None for removed paths)."""
    fields: tuple[Literal["type", "content", "mode", "mtime"], ...] = ()
    """For modified paths: what changed."""


class Execution(_Record):
    """Everything observed while one plan ran against one fixture.

    Built from the supervisor's reply on a channel the plan cannot write,
    never from text the plan printed.
    """

    plan: str
    """The shell script that ran (bash -c)."""
    fixture: str
    """Fixture name."""
    fixture_hash: str
    """Content hash of the fixture the plan saw."""
    image: str
    """Sandbox image tag."""
    image_digest: str
    """Image id (sha256) of the sandbox image: results are only comparable on the same one."""
    exit_code: int
    """The plan's exit status; 128+N when killed by signal N."""
    signal: int | None = None
    """The signal that killed the plan's shell, if any."""
    timed_out: bool = False
    """The timeout fired and the plan's whole process tree was killed."""
    wall_time: float
    """Seconds from start to exit (or kill)."""
    stdout: str
    """Standard output (UTF-8, undecodable bytes replaced), capped at output_limit."""
    stderr: str
    """Standard error, capped the same way."""
    stdout_bytes: int
    """Bytes the plan wrote to stdout in total, kept or not."""
    stderr_bytes: int
    """Bytes the plan wrote to stderr in total, kept or not."""
    stdout_truncated: bool = False
    """stdout went past output_limit; only the first output_limit bytes are kept."""
    stderr_truncated: bool = False
    """stderr went past output_limit."""
    changes: tuple[Change, ...] = ()
    """File-system diff against the pristine fixture, sorted by path."""
    limits: Limits
    """The limits the plan ran under."""
    epoch: float | None = None
    """The time relative fixture mtimes were resolved against (None: the load time)."""
    probe: str | None = None
    """A grader's read-only script run after the plan (e.g. listing archive contents)."""
    probe_stdout: str | None = None
    """What the probe printed; the plan cannot write to it."""

    @property
    def output_truncated(self) -> bool:
        """Either stream went past the cap."""
        return self.stdout_truncated or self.stderr_truncated

    @property
    def resource_limit(self) -> str | None:
        """Which limit the plan ran into, if one is visible: timeout, output,
        file-size (SIGXFSZ), cpu (SIGXCPU) or memory (SIGKILL not sent by the timeout)."""
        if self.timed_out:
            return "timeout"
        # the shell reports a child killed by signal N as exit 128+N
        if self.signal == 25 or self.exit_code == 128 + 25:
            return "file-size"
        if self.signal == 24 or self.exit_code == 128 + 24:
            return "cpu"
        if self.signal == 9:
            return "memory"
        if self.output_truncated:
            return "output"
        return None

    def comparable(self) -> dict:
        """The record without what varies between identical runs (timings)."""
        return self.model_dump(exclude={"wall_time"})


class SetupFailure(_Record):
    """A line of a fixture's setup script that failed; the script carried on, as a plain script does."""

    line: int
    """Line number in the setup script (1-based)."""
    command: str
    """That line's text."""
    status: int
    """Its exit status."""
    stderr: str
    """What it printed on stderr (the last 1000 characters)."""


class SetupReport(_Record):
    """How a fixture's setup script went (kept beside the cached archive)."""

    failures: tuple[SetupFailure, ...] = ()
    """Lines that failed, in order."""
    exit_code: int = 0
    """The script's own exit status (that of its last command, or of ``exit N``)."""
    outside: tuple[str, ...] = ()
    """Top-level paths the script created outside the fixture's roots: not part of the fixture."""
