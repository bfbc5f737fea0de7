"""Reading a YAML spec file (fixture, suite) into a mapping, and naming what is wrong in it.

Both give one error of the caller's class that names the file and the fix:
a missing file, invalid YAML, a top level that is not a mapping, or each
field pydantic rejected with its location.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml


def read_mapping(path: Path, kind: str, error: type[Exception], shape: str, missing_hint: str = "") -> dict:
    """The YAML mapping in ``path``; ``kind`` names the file in errors, ``shape`` says what it must hold."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{kind} file {path} does not exist{missing_hint}") from None
    except yaml.YAMLError as exc:
        raise error(f"{kind} {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise error(f"{kind} {path} must be a mapping with {shape}")
    return raw


def invalid_message(kind: str, source: str, exc: Any, where: Callable[[list], str] | None = None) -> str:
    """``KIND SOURCE is invalid:`` then one line per pydantic error, located by ``where(loc)``."""
    lines = [f"{kind} {source} is invalid:"]
    for err in exc.errors():
        loc = list(err["loc"])
        place = where(loc) if where else ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"  {place}: {err['msg']}")
    return "\n".join(lines)
