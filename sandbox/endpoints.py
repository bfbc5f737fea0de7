"""Which Docker engines Fenrir uses: ``FENRIR_ENGINES``, read when asked.  Pure: no Docker here.

``FENRIR_ENGINES`` (or ``--engines`` of pytest and ``fenrir sandbox``, which
set it) is a comma-separated list of Docker endpoints in Docker's own forms::

    unix:///var/run/docker.sock                 a local engine's socket
    tcp://build-3.example:2376                  TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH
    ssh://fenrir@build-4.example                the ssh client's keys and config

An engine is named by its endpoint, a string, everywhere (``client(engine)``,
``Sandbox(engine=...)``, the ``engine`` of a result).  The first engine
listed is the *home* engine: the sandbox image and the
fixtures are built there, and the other engines receive images from it.
Without ``FENRIR_ENGINES`` the one engine is ``DOCKER_HOST`` or the default
socket, as Docker itself picks it.  pytest-xdist workers are bound to the
engines round-robin (:func:`worker_slot`): gw0 to the first, gw1 to the
second, and so on; a run without xdist uses the first.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from harness.errors import EngineConfigError

VARIABLE = "FENRIR_ENGINES"
"""The environment variable naming the engines."""
DEFAULT_URL = "unix:///var/run/docker.sock"
"""Docker's default socket, used when neither FENRIR_ENGINES nor DOCKER_HOST names one."""
FORMS = ("unix:///path/to/docker.sock, tcp://host:port (TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH) "
         "or ssh://[user@]host[:port]")
"""The accepted forms, as error messages state them."""


def environment(engine: str) -> dict[str, str]:
    """The environment the Docker SDK reads (``docker.from_env``) to reach ``engine``: DOCKER_HOST set to it,
    and the TLS variables as the user has them."""
    return dict(os.environ, DOCKER_HOST=engine)


def _why_not(entry: str) -> str | None:
    """Why ``entry`` is not an endpoint Fenrir accepts, or None when it is one."""
    parts = urlsplit(entry)
    try:
        port = parts.port
    except ValueError:
        return "its port is not a number from 0 to 65535"
    if parts.scheme == "unix":
        if parts.netloc or not parts.path.startswith("/"):
            return "a unix socket needs an absolute path: unix:///path/to/docker.sock (three slashes)"
        return None
    if parts.scheme == "tcp":
        if not parts.hostname or port is None:
            return "a tcp endpoint needs a host and a port: tcp://host:2376"
        if parts.path not in ("", "/") or parts.query or parts.username:
            return "a tcp endpoint is only tcp://host:port"
        return None
    if parts.scheme == "ssh":
        if not parts.hostname:
            return "an ssh endpoint needs a host: ssh://user@host"
        if parts.path not in ("", "/") or parts.query or parts.password:
            return "an ssh endpoint is only ssh://[user@]host[:port]"
        return None
    if re.match(r"^[a-z][a-z0-9+.-]*://", entry):
        return f"Fenrir does not use {parts.scheme}:// endpoints"
    return "it has no scheme"


def parse_engines(text: str, where: str = VARIABLE) -> tuple[str, ...]:
    """The endpoints of a comma-separated list; EngineConfigError naming ``where``, the entry and the forms."""
    found: list[str] = []
    for raw in text.split(","):
        entry = raw.strip()
        why = "an empty entry (two commas, or a comma at an end)" if not entry else _why_not(entry)
        if why is None and entry in found:
            why = "it is listed twice"
        if why is not None:
            raise EngineConfigError(f"{where}: {entry!r} is not a Docker endpoint Fenrir can use ({why}); "
                                    f"give a comma-separated list of {FORMS}")
        found.append(entry)
    return tuple(found)


def configured() -> tuple[str, ...]:
    """The engines to use, home first: FENRIR_ENGINES, else DOCKER_HOST or the default socket (read now)."""
    text = os.environ.get(VARIABLE, "")
    if text.strip():
        return parse_engines(text)
    return (os.environ.get("DOCKER_HOST") or DEFAULT_URL,)


def home() -> str:
    """The first engine: where images and fixtures are built."""
    return configured()[0]


def worker_slot(count: int, worker: str | None = None) -> int:
    """The index of the engine a pytest-xdist worker is bound to: gwN -> N mod ``count``; 0 outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "") if worker is None else worker
    match = re.fullmatch(r"gw(\d+)", worker)
    return int(match.group(1)) % count if match and count else 0
