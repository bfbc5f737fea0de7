"""An engine that runs sandbox containers under gVisor (runsc), for the tests and the bench.

:func:`runsc_engine` gives the default engine when it has runsc registered;
else the first extra local engine (``sh sandbox/engine.sh --engine 1``,
``unix:///run/fenrir-engines/e1/docker.sock``), started when it is not running,
with runsc installed first (Debian's package) when it is missing: both only as
root on Debian, as ``sandbox/engine.sh`` starts the main engine.  The sandbox
image is streamed to that engine (``docker save`` | ``docker load``: an extra
engine has no way out to build it).  Whatever cannot be had raises
SandboxUnavailable saying what to do.  Processes (xdist workers) take turns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from filelock import FileLock

from harness.errors import SandboxUnavailable
from harness.paths import cache_dir
from sandbox.distribute import copy_image
from sandbox.endpoints import home
from sandbox.engine import Image, client, ensure_image, find_image
from sandbox.runtimes import GET_RUNSC, registered

EXTRA_ENGINE = "unix:///run/fenrir-engines/e1/docker.sock"
"""The first extra engine ``sandbox/engine.sh --engine 1`` starts; it registers runsc when runsc is installed."""
ENGINE_SCRIPT = Path(__file__).with_name("engine.sh")


def _answers(engine: str) -> tuple[str, ...] | None:
    """The runtimes ``engine`` has, or None when it does not answer."""
    if not Path(engine.removeprefix("unix://")).exists():
        return None
    try:
        return registered(engine)
    except SandboxUnavailable:
        client.cache_clear()  # do not keep the failed connection's answer
        return None


def _run(argv: list[str], log: Path) -> bool:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", FENRIR_CACHE=str(cache_dir()))
    with open(log, "a", encoding="utf-8") as out:
        return subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env, check=False).returncode == 0


def _start_extra(log: Path) -> str:
    """The extra engine with runsc registered: runsc installed and the engine started where they are missing."""
    have = _answers(EXTRA_ENGINE)
    if have is not None and "runsc" in have:
        return EXTRA_ENGINE
    root_on_debian = os.geteuid() == 0 and Path("/etc/debian_version").exists()
    if not root_on_debian:
        raise SandboxUnavailable(f"no engine here has runsc, and only root on Debian installs it and starts an "
                                 f"engine with it. {GET_RUNSC}")
    if have is not None:  # never stop an engine others may use
        raise SandboxUnavailable(f"the extra engine at {EXTRA_ENGINE} runs without runsc (it started before runsc "
                                 f"was installed); stop it with 'sh sandbox/engine.sh --stop-extra' once no one "
                                 f"uses it, and it starts again with runsc")
    if shutil.which("runsc") is None:
        _run(["apt-get", "update", "-qq"], log)
        if not _run(["apt-get", "install", "-y", "-qq", "runsc"], log) or shutil.which("runsc") is None:
            raise SandboxUnavailable(f"'apt-get install runsc' failed (see {log}). {GET_RUNSC}")
    if not _run(["sh", str(ENGINE_SCRIPT), "--engine", "1"], log) or "runsc" not in (_answers(EXTRA_ENGINE) or ()):
        raise SandboxUnavailable(f"'sh sandbox/engine.sh --engine 1' did not give an engine with runsc at "
                                 f"{EXTRA_ENGINE} (see {log})")
    return EXTRA_ENGINE


def stream_image(image: Image, engine: str) -> Image:
    """``image`` (on the home engine) loaded into ``engine`` unless it is there already; the same id there
    (:func:`sandbox.distribute.copy_image`: a failed or different load is one SandboxUnavailable)."""
    return copy_image(image, home(), engine, log=lambda message: None)


def runsc_engine(log: Path | None = None) -> tuple[str | None, Image]:
    """(engine, image): an engine with runsc registered (None: the default one) and the sandbox image on it."""
    log = log or cache_dir() / "runsc-engine.log"
    with FileLock(str(cache_dir() / "runsc-engine.lock")):
        if "runsc" in registered():
            return None, ensure_image()
        engine = _start_extra(log)
        return engine, find_image(engine) or stream_image(ensure_image(), engine)
