"""Where Fenrir keeps things on disk.  Imports nothing from the project.

* ``cache_dir()``: converted models, fixture archives, image build stamps.
  ``$FENRIR_CACHE`` if set, else ``~/.cache/fenrir``.
* ``trace_path()``: the agent's run log, ``logs/trace.jsonl`` under the
  current directory (``$FENRIR_TRACE`` overrides), as in the prototype.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """Return (and create) a folder under Fenrir's cache."""
    root = Path(os.environ.get("FENRIR_CACHE") or Path.home() / ".cache" / "fenrir")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def trace_path() -> Path:
    """The JSONL file every agent run appends one record to."""
    return Path(os.environ.get("FENRIR_TRACE") or Path("logs") / "trace.jsonl")
