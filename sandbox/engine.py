"""The Docker engine and the sandbox image: the bottom of the sandbox package.

* :func:`client` connects to an engine (default: the home engine, the first of
  ``FENRIR_ENGINES``, else ``DOCKER_HOST`` or the default socket; see
  :mod:`sandbox.endpoints`) and fails with one clear message when none answers.
* :func:`ensure_image` builds ``sandbox/image/`` once per content: the tag is
  ``fenrir-sandbox:<hash of the build context and base>``, so an unchanged
  context never rebuilds.  The base is ``debian:bookworm-slim``; where no
  registry answers, an equivalent is made with debootstrap + ``docker
  import`` (``sandbox/image/base.sh``) and used instead, automatically.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
from dataclasses import dataclass

from harness.errors import SandboxUnavailable
from harness.paths import cache_dir, sandbox_context
from sandbox.endpoints import DEFAULT_URL, VARIABLE, environment, home

REPO = "fenrir-sandbox"
UPSTREAM_BASE = "debian:bookworm-slim"
OFFLINE_BASE = "fenrir/bookworm-minbase:latest"
LABEL = "fenrir.sandbox"

ENGINE_HELP = ("No Docker engine answers{where}. Start Docker (Docker Desktop, or "
               "'sudo systemctl start docker'), make sure your user may use it, or run "
               "'make engine' (as root on Debian it installs docker.io and starts dockerd).")


def client(engine: str | None = None):
    """A docker SDK client for ``engine`` (a Docker endpoint: unix://..., tcp://host:port with the usual TLS
    variables, ssh://...; None: the home engine, see :mod:`sandbox.endpoints`) that answers, or
    SandboxUnavailable.  Clients are kept per endpoint; ``client.cache_clear()`` forgets them."""
    return _client(engine or home())


@functools.lru_cache(maxsize=None)
def _client(engine: str):
    import docker
    from docker.errors import DockerException

    named = engine != DEFAULT_URL or "DOCKER_HOST" in os.environ or VARIABLE in os.environ
    where = f" at {engine}" if named else ""
    try:
        # DOCKER_HOST and the TLS variables as docker reads them; ssh:// through the ssh client, not paramiko
        cl = docker.from_env(environment=environment(engine), timeout=120,
                             use_ssh_client=engine.startswith("ssh://"))
        cl.ping()
    except DockerException as exc:
        raise SandboxUnavailable(ENGINE_HELP.format(where=where) + f" ({exc.__class__.__name__})") from exc
    except OSError as exc:  # socket errors before the SDK wraps them
        raise SandboxUnavailable(ENGINE_HELP.format(where=where) + f" ({exc})") from exc
    return cl


client.cache_clear = _client.cache_clear  # type: ignore[attr-defined]


def engine_name(engine: str | None = None) -> str:
    """How messages name ``engine``: its endpoint, or the home engine's."""
    return engine or home()


def answers(engine: str) -> bool:
    """Whether ``engine`` answers a ping now (a client made earlier may outlive its engine)."""
    from docker.errors import DockerException

    try:
        return bool(client(engine).ping())
    except (SandboxUnavailable, DockerException, OSError):  # requests' connection errors are OSErrors
        return False


@dataclass(frozen=True)
class Image:
    """A built sandbox image."""

    tag: str
    """fenrir-sandbox:<context hash>."""
    digest: str
    """Image id (sha256:...), recorded in every Execution."""
    base: str
    """The base image it was built on."""


def context_hash(base: str) -> str:
    """Hash of every file in the build context (names, modes, bytes) and the base."""
    h = hashlib.sha256(f"base={base}\n".encode())
    context = sandbox_context()
    for path in sorted(p for p in context.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        rel = path.relative_to(context).as_posix()
        h.update(f"{rel}\0{path.stat().st_mode & 0o111}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _has(cl, ref: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        cl.images.get(ref)
        return True
    except ImageNotFound:
        return False


def resolve_base(cl, *, log=print, engine: str | None = None) -> str:
    """debian:bookworm-slim if we have it or can pull it, else the offline stand-in."""
    from docker.errors import APIError

    override = os.environ.get("FENRIR_BASE_IMAGE")
    if override:
        return override
    if _has(cl, UPSTREAM_BASE):
        return UPSTREAM_BASE
    try:
        cl.images.pull(UPSTREAM_BASE)
        return UPSTREAM_BASE
    except APIError:
        pass
    if not _has(cl, OFFLINE_BASE):
        log(f"fenrir: cannot pull {UPSTREAM_BASE}; building {OFFLINE_BASE} with debootstrap (about a minute)")
        script = sandbox_context() / "base.sh"
        env = dict(environment(engine or home()), FENRIR_CACHE=str(cache_dir()))
        done = subprocess.run(["sh", str(script), OFFLINE_BASE], env=env)
        if done.returncode != 0:
            raise SandboxUnavailable(f"could not build the offline base image {OFFLINE_BASE}; "
                                     f"see the messages above and {cache_dir()}/debootstrap.log")
    return OFFLINE_BASE


def find_image(engine: str | None = None) -> Image | None:
    """The sandbox image for the current context if ``engine`` (default: home) has it (never builds), else None."""
    from docker.errors import ImageNotFound

    cl = client(engine)
    bases = [os.environ["FENRIR_BASE_IMAGE"]] if os.environ.get("FENRIR_BASE_IMAGE") else [UPSTREAM_BASE, OFFLINE_BASE]
    for base in bases:
        tag = f"{REPO}:{context_hash(base)}"
        try:
            return Image(tag=tag, digest=cl.images.get(tag).id, base=base)
        except ImageNotFound:
            continue
    return None


def ensure_image(*, log=print, rebuild: bool = False, engine: str | None = None) -> Image:
    """The sandbox image for the current context on ``engine`` (default: home), built there if missing.

    :func:`sandbox.distribute.sandbox_image` streams it from another engine instead, where one has it."""
    from docker.errors import BuildError, ImageNotFound

    cl = client(engine)
    # fast path: an image for this context on either base is already there
    if not rebuild and not os.environ.get("FENRIR_BASE_IMAGE"):
        for base in (UPSTREAM_BASE, OFFLINE_BASE):
            tag = f"{REPO}:{context_hash(base)}"
            try:
                img = cl.images.get(tag)
                return Image(tag=tag, digest=img.id, base=base)
            except ImageNotFound:
                continue
    base = resolve_base(cl, log=log, engine=engine)
    tag = f"{REPO}:{context_hash(base)}"
    if not rebuild and _has(cl, tag):
        return Image(tag=tag, digest=cl.images.get(tag).id, base=base)
    log(f"fenrir: building sandbox image {tag} on {base} ...")
    try:
        img, _ = cl.images.build(path=str(sandbox_context()), tag=tag, buildargs={"BASE": base}, rm=True,
                                 forcerm=True, labels={LABEL: "image"}, network_mode="default")
    except BuildError as exc:
        tail = "".join(chunk.get("stream", "") for chunk in exc.build_log if isinstance(chunk, dict))[-2000:]
        raise SandboxUnavailable(f"building the sandbox image failed: {exc.msg}\n{tail}") from exc
    log(f"fenrir: built {tag} ({img.id[:19]})")
    return Image(tag=tag, digest=img.id, base=base)

