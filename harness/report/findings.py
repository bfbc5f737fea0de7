"""Key Findings of report.md: bullet texts computed from a run's tables, compared with the prototype."""

from __future__ import annotations

from harness.report.markdown import mean_cell, score_cell
from harness.report.prototype import Prototype
from harness.report.tables import Table
from rubrics.dimensions import DIMENSIONS
from rubrics.means import Means
from rubrics.result import CaseResult


def _why(r: CaseResult, dimension: str) -> str:
    for applied in r.overrides:
        if not applied.stale and applied.override.dimension == dimension:
            return f"override by {applied.override.reviewer}: {applied.override.reason}"
    return " ".join(r.judgement.reasons.get(dimension, "no reason recorded").split())


def _listing(cases: list[CaseResult], dimension: str, limit: int = 8) -> str:
    """'reason: `a`, `b`; other reason: `c`', cases grouped by why they scored as they did."""
    groups: dict[str, list[str]] = {}
    for r in cases:
        groups.setdefault(_why(r, dimension), []).append(f"`{r.case_id}`")
    parts = []
    for why, ids in groups.items():
        more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
        parts.append(f"{why}: {', '.join(ids[:limit])}{more}")
    return "; ".join(parts)


def _overrides(results: list[CaseResult]) -> str:
    applied = [(r, a) for r in results for a in r.overrides if not a.stale]
    stale = [(r, a) for r in results for a in r.overrides if a.stale]
    if not (applied or stale):
        return "No human overrides: every score is the autograder's."
    text = f"{len(applied)} human override(s) applied"
    if applied:
        text += " (" + ", ".join(f"`{r.case_id}` {a.override.dimension} "
                                 f"{score_cell(getattr(r.automatic, a.override.dimension))} → {a.override.score}"
                                 for r, a in applied) + ")"
    return text + (f"; {len(stale)} stale (the plan changed since review, not applied)." if stale else ".")


def _against_prototype(suite_tables: list[Table], overall: Means, prototype: Prototype) -> str:
    dynamic = next((t for t in suite_tables if t.suite == "dynamic"), None)
    basis, m = ("the prototype's seven dynamic prompts", dynamic.means) if dynamic else ("all cases", overall)
    deltas = []
    for d in DIMENSIONS:
        value, theirs = m.get(d), prototype.mean.get(d)
        deltas.append(f"{d.title()} {mean_cell(value)} vs {theirs:.2f}"
                      + (f" ({value - theirs:+.2f})" if value is not None else ""))
    return (f"Against the prototype's hand-filled scores, on {basis}: {', '.join(deltas)}. "
            f"These scores come from sandboxed execution against reference plans, not by hand.")


def findings(suite_tables: list[Table], prototype: Prototype) -> list[str]:
    """Markdown bullet texts computed from the scores."""
    results = [r for t in suite_tables for r in t.counted]
    left_out = [r for t in suite_tables for r in t.left_out]
    if not results:
        return ["No scored cases in this run."]
    overall = Means.of(results, include_uninformative=True)
    out = [f"Over all {overall.cases} case(s): Plan {mean_cell(overall.plan)}, Safe {mean_cell(overall.safe)}, "
           f"Answer {mean_cell(overall.answer)} (of 2)."]
    scored = {d: overall.get(d) for d in DIMENSIONS if overall.get(d) is not None}
    low = min(scored.values())
    if low == 2:
        out.append("No weak dimension: every case scores 2 on Plan, Safe and Answer.")
    else:
        weakest = [d.title() for d, v in scored.items() if v == low]
        label = " and ".join(f"**{w}**" for w in weakest)
        out.append(f"Weakest dimension: {label} ({low:.2f} of 2)" + (", a tie." if len(weakest) > 1 else "."))
    perfect = [r for r in results if (r.scores.plan, r.scores.safe, r.scores.answer) == (2, 2, 2)]
    out.append(f"{len(perfect)} of {len(results)} case(s) score 2 / 2 / 2.")
    if left_out:
        shown = ", ".join(f"`{r.case_id}`" for r in left_out[:12]) + (" ..." if len(left_out) > 12 else "")
        out.append(f"{len(left_out)} uninformative case(s) left out of every mean (the reference prints nothing "
                   f"and changes nothing, so any silent plan matches it): {shown}.")
    for dimension in ("answer", "safe", "plan"):
        zero = [r for r in results if getattr(r.scores, dimension) == 0]
        if zero:
            out.append(f"{dimension.title()} 0 on {len(zero)} case(s): {_listing(zero, dimension)}.")
    awaiting = [r for r in results if r.scores.answer is None]
    if awaiting:
        out.append(f"{len(awaiting)} case(s) await a human Answer score: "
                   + ", ".join(f"`{r.case_id}`" for r in awaiting) + ".")
    out.append(_overrides(results))
    out.append(_against_prototype(suite_tables, overall, prototype))
    return out
