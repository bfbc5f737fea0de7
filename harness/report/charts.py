"""The report's charts as PNG bytes: Plan / Safe / Answer per case, and the adapter's loss curve.

matplotlib (Agg, no pyplot state) is imported inside the functions: it is heavy,
and only rendering a report needs it.  Nothing is written here; the caller
writes the bytes (:mod:`harness.report.render`).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from harness.report.tables import Table
from rubrics.dimensions import DIMENSIONS

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _png(fig: "Figure", **kwargs) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **kwargs)
    return buffer.getvalue()


def scores_png(suite_tables: list[Table]) -> bytes:
    """Grouped Plan / Safe / Answer bars per case, suites side by side."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cases = [r for t in suite_tables for r in t.counted]
    fig = Figure(figsize=(min(max(6.0, 0.5 * len(cases) + 2), 40.0), 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.27
    for k, dimension in enumerate(DIMENSIONS):
        points = [(i, getattr(r.scores, dimension)) for i, r in enumerate(cases)]
        ax.bar([i + (k - 1) * width for i, v in points if v is not None],
               [v for _, v in points if v is not None], width, label=dimension.title())
        for i, v in points:
            if v is None:
                ax.text(i + (k - 1) * width, 0.05, "?", ha="center", fontsize=8)
    start = 0
    for t in suite_tables:
        ax.text(start - 0.4, 2.2, t.suite, fontsize=9, fontweight="bold")
        if start:
            ax.axvline(start - 0.5, color="grey", linewidth=0.8, linestyle="--")
        start += len(t.counted)
    ax.set_xticks(range(len(cases)), [r.case_id for r in cases], rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.6, max(len(cases), 1) - 0.4)
    ax.set_ylim(0, 2.4)
    ax.set_yticks([0, 1, 2])
    ax.set_ylabel("score (0 = poor, 2 = perfect)")
    ax.legend(ncols=3, loc="upper right", fontsize=8)
    return _png(fig, dpi=110, metadata={"Software": None})


def loss_png(curve: list[float], window: int = 10) -> bytes:
    """Completion loss per optimizer step, with its ``window``-step running mean."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(range(1, len(curve) + 1), curve, lw=1, color="#888", label="per step")
    if len(curve) >= window:
        smooth = [sum(curve[i - window:i]) / window for i in range(window, len(curve) + 1)]
        ax.plot(range(window, len(curve) + 1), smooth, lw=2, color="#1f77b4", label=f"{window}-step mean")
    ax.set_xlabel("step")
    ax.set_ylabel("completion loss")
    ax.legend()
    fig.tight_layout()
    return _png(fig)
