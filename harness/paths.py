"""Where Fenrir keeps things on disk: the one module that knows.  Imports nothing from the project.

Every function reads the environment **when it is called**, so a test or a
user that sets ``FENRIR_RESULTS`` after import still gets what they asked for.

Shipped files (found next to the installed packages, in a checkout or a
``pip install .`` alike):

* ``package_root()``: the folder holding the ``harness``, ``agent``, ...
  packages (the repository in a checkout, ``site-packages`` when installed).
* ``fixtures_dir()``, ``rubrics_dir()``, ``templates_dir()``, ``data_dir()``,
  ``sandbox_context()``, ``shipped_adapter()``.

Things Fenrir writes (a checkout keeps them in the repository, as the README
describes; an installed ``fenrir`` writes under the current directory):

* ``results_dir()``: ``$FENRIR_RESULTS``, else ``results/`` of the checkout,
  else ``./results``.  ``runs_dir()`` is its ``runs/``.
* ``overrides_path()``: ``$FENRIR_OVERRIDES``, else ``rubrics/overrides.yaml``
  of the checkout, else ``./rubrics/overrides.yaml``.
* ``cache_dir()``: converted models, fixture archives, image build stamps.
  ``$FENRIR_CACHE`` if set, else ``~/.cache/fenrir``.
* ``trace_path()``: the agent's run log, ``logs/trace.jsonl`` under the
  current directory (``$FENRIR_TRACE`` overrides), as in the prototype.
* ``external_dir()``: the public datasets (NL2Bash, tldr, InterCode-ALFA),
  ``$FENRIR_EXTERNAL`` else ``../shared/external`` next to the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def package_root() -> Path:
    """The folder the project's packages live in (repository root in a checkout)."""
    return _HERE.parent


def is_checkout() -> bool:
    """True when running from a source checkout (a ``pyproject.toml`` next to the packages)."""
    return (package_root() / "pyproject.toml").is_file()


def _writable_root() -> Path:
    return package_root() if is_checkout() else Path.cwd()


def fixtures_dir() -> Path:
    """The shipped fixture specs (``fixtures/*.yaml``)."""
    return package_root() / "fixtures"


def rubrics_dir() -> Path:
    """The shipped suites (``rubrics/*.yaml``, ``rubrics/imported/``)."""
    return package_root() / "rubrics"


def templates_dir() -> Path:
    """The jinja2 templates of the eval tables and the report."""
    return package_root() / "results" / "templates"


def data_dir() -> Path:
    """The shipped datasets (``data/*.jsonl``)."""
    return package_root() / "data"


def sandbox_context() -> Path:
    """The build context of the sandbox image (Dockerfile, supervisor)."""
    return package_root() / "sandbox" / "image"


def shipped_adapter() -> Path:
    """The LoRA adapter Fenrir ships (``lora_adapter/``)."""
    return package_root() / "lora_adapter"


def results_dir() -> Path:
    """Where runs, eval tables and the report are written."""
    env = os.environ.get("FENRIR_RESULTS")
    return Path(env) if env else _writable_root() / "results"


def runs_dir() -> Path:
    """One folder per eval run (``results/runs/RUN_ID``)."""
    return results_dir() / "runs"


def overrides_path() -> Path:
    """The human score overrides file."""
    env = os.environ.get("FENRIR_OVERRIDES")
    return Path(env) if env else _writable_root() / "rubrics" / "overrides.yaml"


def external_dir() -> Path:
    """The public datasets folder (``../shared/external`` next to a checkout)."""
    env = os.environ.get("FENRIR_EXTERNAL")
    return Path(env) if env else package_root().parent / "shared" / "external"


def cache_dir(*parts: str) -> Path:
    """Return (and create) a folder under Fenrir's cache."""
    root = Path(os.environ.get("FENRIR_CACHE") or Path.home() / ".cache" / "fenrir")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def trace_path() -> Path:
    """The JSONL file every agent run appends one record to."""
    return Path(os.environ.get("FENRIR_TRACE") or Path("logs") / "trace.jsonl")
