"""Writing a file so that readers see the old content or the new, never half of either.

The one atomic write of the project: the bytes go to a temporary file in the
same folder (same file system), which then replaces the target with
``os.replace``.  Concurrent writers (pytest-xdist workers, a UI and a CLI) each
use their own temporary name, and a failed write leaves the target as it was and
no temporary file behind.  Imports nothing from the project.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Atomically replace ``path`` with ``data`` (creating its folder); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path | str, text: str) -> Path:
    """Atomically replace ``path`` with ``text`` encoded as UTF-8; returns the path."""
    return write_bytes(path, text.encode("utf-8"))
