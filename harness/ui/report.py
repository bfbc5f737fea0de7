"""The Report page: a run's report with its charts, and the mean table of the prototype's mean.py.

The report is rendered by :func:`harness.report.render_run` (as ``fenrir
report RUN_ID`` does, with the current overrides) into a temporary folder, so
viewing a run never overwrites the committed ``results/*.md``; the mean table is
:func:`harness.report.mean_table` over the tables just rendered.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import streamlit as st

from harness.report import MEAN_HEADERS, mean_table, render_run
from harness.runner import RunStore
from harness.ui import state

IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+\.png)\)\s*$")
"""A markdown image line of the report (``![scores](scores.png)``)."""


def render() -> None:
    st.title("Report")
    with state.guard():
        _render()


def _render() -> None:
    where = state.paths()
    run_id = state.pick_run(where, "report_run").run_id
    with tempfile.TemporaryDirectory(prefix="fenrir-ui-report-") as tmp:
        out = Path(tmp)
        if not render_run(RunStore(run_id, where.runs), out, overrides=where.overrides).write():
            st.info(f"Run {run_id} has no scored cases.")
            return
        first = {"eval_static.md": 0, "eval_dynamic.md": 1}  # as `fenrir mean` orders them, then the others
        tables = sorted(out.glob("eval_*.md"), key=lambda p: (first.get(p.name, 2), p.name))
        rows, _ = mean_table([(p.name, p) for p in tables])
        st.subheader("Means (as the prototype's mean.py prints them)")
        st.caption("Rows awaiting review ('–' in Answer) are left out, as mean.py leaves them out.")
        st.table([dict(zip(MEAN_HEADERS, [row[0], *(_fmt(v) for v in row[1:4]), row[4]])) for row in rows])
        st.divider()
        _markdown_with_images((out / "report.md").read_text(encoding="utf-8"), out)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _markdown_with_images(text: str, folder: Path) -> None:
    """Markdown as st.markdown shows it, with each image line replaced by the image from ``folder``."""
    chunk: list[str] = []
    for line in text.splitlines():
        match = IMAGE.match(line)
        if match is None:
            chunk.append(line)
            continue
        st.markdown("\n".join(chunk))
        chunk = []
        image = folder / match.group(2)
        if image.is_file():
            st.image(image.read_bytes(), caption=match.group(1))
        else:
            st.caption(f"({match.group(2)} was not rendered)")
    st.markdown("\n".join(chunk))
