"""The prototype's ``mean.py``: its row pattern, and the mean table ``fenrir mean`` prints.

The eval tables are written so that this pattern matches every scored row
(:mod:`harness.report.markdown` says how); a row awaiting review has ``–`` as
its Answer, so the pattern skips the whole row, as the prototype did.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from harness.errors import SuiteError

SCORE_RE = re.compile(r"\|\s*([^|]+)\s*\|\s*([0-2.]+)\s*\|\s*([0-2.]+)\s*\|\s*([0-2.]+)\s*\|")
"""The prototype mean.py's row pattern, verbatim."""
MEAN_HEADERS = ("File", "Plan", "Safe", "Answer", "#rows")
"""The columns of the mean table (`fenrir mean`, the prototype's mean.py)."""


def parse_scores(path: Path) -> list[tuple[float, float, float]]:
    """The scored rows of one table, exactly as the prototype's mean.py reads them."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = SCORE_RE.match(line)
        if m and not m.group(1).lower().startswith("mean"):
            try:
                rows.append(tuple(float(x) for x in m.groups()[1:]))
            except ValueError:
                raise SuiteError(f"{path}, line {n}: score cells are not numbers: {line.strip()!r}") from None
    return rows


def mean_table(named: list[tuple[str, Path]]) -> tuple[list[list], list[str]]:
    """The mean table over labelled tables: one row per existing file (Plan, Safe, Answer means and rows),
    plus an ``all`` row when there are several; and the labels of the files that do not exist."""
    table: list[list] = []
    every: list[tuple[float, float, float]] = []
    missing = []
    for label, path in named:
        if not path.is_file():
            missing.append(label)
            continue
        rows = parse_scores(path)
        every += rows
        table.append([label, *_column_means(rows), len(rows)])
    if len(table) > 1:
        table.append(["all", *_column_means(every), len(every)])
    return table, missing


def _column_means(rows: list[tuple[float, float, float]]) -> list[float | None]:
    return [statistics.mean(col) for col in zip(*rows)] if rows else [None, None, None]
