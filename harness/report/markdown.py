"""Text inside the eval tables and the report: markdown-safe cells, score cells, UTC times.

The tables stay readable by the prototype's ``mean.py`` (:mod:`harness.report.meanpy`),
whose row pattern shapes two things here:

* its first cell is ``[^|]+``, so a ``|`` in a prompt, even escaped as ``\\|``,
  would hide the row from it: prompts carry ``|`` as the entity ``&#124;``,
  which renders as ``|``;
* it drops rows whose first cell starts with "mean": a prompt that starts with
  "mean" has its first letter written as an entity.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

AWAITING = "–"
"""The Answer cell of a case awaiting human review: not a number, so mean.py skips the row."""
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def md_cell(text: str) -> str:
    """Text safe inside a markdown table cell, and invisible to mean.py's parser tricks."""
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(text.split())).replace("|", "&#124;")
    if text.lower().startswith("mean"):
        text = f"&#{ord(text[0])};{text[1:]}"
    return text


def score_cell(value: int | None) -> str:
    """A 0-2 score, or the awaiting-review mark."""
    return AWAITING if value is None else str(value)


def mean_cell(value: float | None) -> str:
    """A mean with two decimals, or the awaiting-review mark when there is nothing to average."""
    return AWAITING if value is None else f"{value:.2f}"


def utc(value: datetime | str) -> str:
    """A datetime (or ISO 8601 text) as '2026-11-24 23:40 UTC'; naive values are taken as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
