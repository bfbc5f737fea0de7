"""Which OCI runtimes an engine runs sandbox containers under, and why not.

runc is every Docker engine's default.  runsc (gVisor) puts a user-space
kernel between a plan and the host's: an engine only has it when it was
registered there.  :func:`require_runtime` is what the pool asks before it
starts a container under a runtime (one message naming the engine and how to
get the runtime, instead of Docker's); :func:`check_runtime` is what
``fenrir sandbox doctor`` asks: registered, and does a container start and run
``true`` (Docker's own error when not).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from harness.errors import SandboxUnavailable
from sandbox.engine import LABEL, Image, client, engine_name
from sandbox.owners import owner_labels
from sandbox.records import Runtime

GET_RUNSC = ("To run under gVisor: install runsc (Debian: 'apt-get install runsc') and give it to the engine: "
             "'sh sandbox/engine.sh' registers it when it starts dockerd (as root, '--engine 1' starts a second "
             "engine beside one already running: point DOCKER_HOST at the socket it prints), or add to "
             "/etc/docker/daemon.json "
             '{"runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]}}} '
             "and restart dockerd (gVisor refuses to start with networking in the host's network namespace).")


def registered(engine: str | None = None) -> tuple[str, ...]:
    """The runtime names ``engine`` has (``docker info``'s Runtimes), sorted."""
    return tuple(sorted(client(engine).info().get("Runtimes") or {}))


def missing(runtime: str, engine: str | None, have: tuple[str, ...]) -> str:
    """Why ``runtime`` cannot be used on ``engine``, and how to get it."""
    how = GET_RUNSC if runtime == "runsc" else f"Register {runtime} with the engine (daemon.json 'runtimes')."
    return (f"the Docker engine at {engine_name(engine)} has no runtime {runtime!r} (it has: "
            f"{', '.join(have) or 'none'}). {how}")


_known: set[tuple[str | None, str]] = set()
_lock = threading.Lock()


def require_runtime(runtime: Runtime, engine: str | None = None) -> None:
    """Nothing when ``engine`` has ``runtime`` registered (asked once per process), else SandboxUnavailable."""
    with _lock:
        if (engine, runtime) in _known:
            return
    have = registered(engine)
    if runtime not in have:
        raise SandboxUnavailable(missing(runtime, engine, have))
    with _lock:
        _known.add((engine, runtime))


@dataclass(frozen=True)
class RuntimeCheck:
    """What an engine says about one runtime."""

    runtime: str
    """The runtime asked about (runc, runsc)."""
    registered: bool
    """The engine lists it among its runtimes."""
    starts: bool
    """A container of the sandbox image started under it and ran ``true`` with exit status 0."""
    error: str | None = None
    """Why not: how to get it when it is not registered, else Docker's error or the container's own output."""


def check_runtime(runtime: Runtime, image: Image, engine: str | None = None) -> RuntimeCheck:
    """Whether ``engine`` has ``runtime`` and a container of ``image`` runs ``true`` under it."""
    from docker.errors import DockerException
    from requests.exceptions import RequestException  # wait()'s timeout

    have = registered(engine)
    if runtime not in have:
        return RuntimeCheck(runtime, registered=False, starts=False, error=missing(runtime, engine, have))
    container = None
    try:
        container = client(engine).containers.create(
            image.tag, entrypoint=["true"], runtime=None if runtime == "runc" else runtime, network_mode="none",
            labels={LABEL: "doctor", **owner_labels()})
        container.start()
        status = container.wait(timeout=120).get("StatusCode")
        if status != 0:
            output = container.logs().decode(errors="replace").strip()
            return RuntimeCheck(runtime, registered=True, starts=False,
                                error=f"`true` exited {status}: {output or '(no output)'}")
    except (DockerException, RequestException) as exc:
        return RuntimeCheck(runtime, registered=True, starts=False, error=str(exc))
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except DockerException:
                pass
    return RuntimeCheck(runtime, registered=True, starts=True)
