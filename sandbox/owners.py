"""Which process started a Fenrir container, and whether it still lives: what cleanup goes by.

Every container Fenrir starts (the pool's, and the throwaway ones that build
fixtures) carries labels naming its owner process:

* ``fenrir.owner``: ``HOST:PID`` (the host name, the pid);
* ``fenrir.boot``: the kernel's boot id, so a pid from before a reboot is not
  taken for a live process;
* ``fenrir.pidns``: the owner's pid namespace, so a pid is only looked up
  where it means the same process;
* ``fenrir.started``: when the owner process started (clock ticks after boot),
  so a pid the kernel has since given to another process is not taken for it.

A container's owner is *dead* when it ran on this host, in this pid namespace,
and either the machine rebooted since, no process has its pid, or the process
that has it started at another time.  Whatever cannot be judged (another host,
another pid namespace, no owner labels) counts as alive: cleanup never removes
a container it is not sure about, and never one without the ``fenrir.sandbox``
label.  A process killed with ``kill -9`` leaves its containers behind; the
next pool to start in any Fenrir process removes them (:func:`reap_dead`).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

from harness.errors import SandboxUnavailable
from sandbox.endpoints import home
from sandbox.engine import LABEL, client

OWNER, BOOT, PIDNS, STARTED = "fenrir.owner", "fenrir.boot", "fenrir.pidns", "fenrir.started"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id")


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks after boot (field 22 of /proc/PID/stat), '' if unknown."""
    stat = _read(f"/proc/{pid}/stat")
    fields = stat.rpartition(")")[2].split()  # the command name, in parentheses, may hold spaces
    return fields[19] if len(fields) > 19 else ""


def owner_labels() -> dict[str, str]:
    """The labels naming this process as a container's owner."""
    pid = os.getpid()
    return {OWNER: f"{socket.gethostname()}:{pid}", BOOT: _boot_id(), PIDNS: _pid_namespace(),
            STARTED: _start_time(pid)}


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def owner_dead(labels: dict[str, str]) -> bool:
    """True only when the process named by a container's labels surely no longer runs (see the module doc)."""
    host, _, pid = labels.get(OWNER, "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host's, or no owner: cannot tell
    boot, pidns, started = labels.get(BOOT), labels.get(PIDNS), labels.get(STARTED)
    if pidns and pidns != _pid_namespace():
        return False  # the pid means another process here
    if boot and boot != _boot_id():
        return True  # started before this machine last booted
    if not _pid_exists(int(pid)):
        return True
    return bool(started) and _start_time(int(pid)) not in ("", started)  # the pid went to a newer process


def cleanup(everything: bool = False, engine: str | None = None) -> list[str]:
    """Remove Fenrir containers whose owner process is dead (all Fenrir containers with everything=True)
    on ``engine`` (default: the home engine).

    Returns the names of the containers removed.
    """
    from docker.errors import APIError

    api = client(engine).api
    try:
        found = api.containers(all=True, filters={"label": LABEL})
    except (APIError, OSError) as exc:  # OSError: the engine's connection (requests raises those)
        raise SandboxUnavailable(f"could not list the sandbox containers on {engine or home()}: {exc}") from exc
    removed = []
    for c in found:
        if everything or owner_dead(c.get("Labels") or {}):
            try:
                api.remove_container(c["Id"], force=True)
            except APIError:  # NotFound among them: another process removed it first
                continue
            removed.append((c.get("Names") or [c["Id"][:12]])[0].lstrip("/"))
    return removed


_reaped: set[str] = set()
_reap_lock = threading.Lock()


def reap_dead(engine: str | None = None) -> None:
    """Once per process and engine, before its first container there starts: remove containers of dead owners
    on ``engine`` (default: the home engine), saying so."""
    with _reap_lock:
        if (engine or home()) in _reaped:
            return
        _reaped.add(engine or home())
        removed = cleanup(engine=engine)
    if removed:
        where = "" if engine is None else f" on {engine}"
        print(f"fenrir: removed {len(removed)} sandbox container(s){where} left by processes that died: "
              f"{', '.join(removed)}", file=sys.stderr)
