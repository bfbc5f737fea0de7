"""Reading a JSONL file of typed records, and naming the line that is wrong.

One JSON object per line, each validated by a pydantic model; blank lines
are skipped.  A file that cannot be read, or a line that is not JSON or does
not fit the model, is one error of the caller's class naming the file, the
line and the fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Record = TypeVar("Record", bound=BaseModel)


def read_records(path: Path | str, model: type[Record], kind: str, error: type[Exception],
                 unreadable_hint: str = "") -> list[tuple[int, Record]]:
    """``(line number, record)`` for every non-blank line of ``path``; ``kind`` names a record in errors."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise error(f"cannot read {kind} file {path}: {exc}{unreadable_hint}") from exc
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append((number, model.model_validate(json.loads(line))))
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"]) or "<row>"
                raise error(f"{path}:{number}: not a {kind}: field {field!r}: {err['msg']}") from exc
            raise error(f"{path}:{number}: not valid JSON: {exc}") from exc
    return out
