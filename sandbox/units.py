"""The values fixture YAML writes by hand: sizes ('6MiB'), times ('-3d'), file modes ('0644'), relative paths.

Each parser returns the value or raises ValueError saying what it expected, so
pydantic reports it under the field that held it.  Pure: no Docker, no files.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import PurePosixPath

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "ki": 1024, "m": 1000**2, "mb": 1000**2,
          "mib": 1024**2, "mi": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "gi": 1024**3,
          "t": 1000**4, "tb": 1000**4, "tib": 1024**4, "ti": 1024**4}
_REL = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*([smhdw])$")
_REL_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_size(value: int | str) -> int:
    """'6MiB' -> 6291456, '5MB' -> 5000000, '1200' -> 1200."""
    if isinstance(value, int):
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"not a size: {value!r} (use e.g. 1200, 64KiB, 5MB, 6MiB)")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


def parse_mtime(value: int | float | str) -> str:
    """-> 'rel:SECONDS' (relative to load time) or 'abs:EPOCH'."""
    if isinstance(value, (int, float)):
        return f"abs:{float(value)}"
    text = str(value).strip()
    m = _REL.match(text)
    if m:
        return f"rel:{float(m.group(1)) * _REL_UNIT[m.group(2)]}"
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {value!r} (use -3d, -2h, +1w or 2024-01-31T12:00:00Z)") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return f"abs:{stamp.timestamp()}"


def parse_mode(value: int | str) -> int:
    """'0644' / '644' / '0o644' / YAML's octal 0644 -> 0o644.

    A bare 644 in YAML is the decimal number 644, which nobody means: such
    integers (above 0o777) are refused with the fix, instead of guessed at.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 0o777:
            raise ValueError(f"mode {value} is read as a decimal number; write it as 0{value} or '{value}'")
        return value
    text = str(value).strip().lower().removeprefix("0o")
    if not re.fullmatch(r"[0-7]{3,4}", text):
        raise ValueError(f"not a file mode: {value!r} (use e.g. 0644 or '755')")
    return int(text, 8)


def relative_path(path: str) -> str:
    """``path`` normalised, or ValueError when it is absolute, empty or climbs out with '..'."""
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or str(p) in ("", "."):
        raise ValueError(f"path must be relative and stay inside the tree: {path!r}")
    return str(p)
