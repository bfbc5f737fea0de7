"""The Runs page: saved eval runs newest first, a run's cases with filters, and one case in full.

Everything is read from ``results/runs/<run_id>/`` (:class:`harness.runner.RunStore`)
with the current overrides applied; nothing is executed.  The run and the case
open from the query string (``?run=ID&case=CASE``), so a case page has a link.
Choosing a case in the table's run opens its page; a button goes back.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from harness.preview import describe_changes
from harness.review import current_results
from harness.runner import CaseRun, RunStore
from harness.ui import state
from rubrics.dimensions import DIMENSIONS
from rubrics.result import CaseResult
from sandbox.records import Execution

ANY = "any"


@dataclass(frozen=True)
class Filters:
    """Which cases of a run the table shows."""

    suite: str = ANY
    """Only this suite (``any``: all)."""
    regressions: bool = False
    """Only cases scoring below the baseline."""
    awaiting: bool = False
    """Only rows awaiting a human Answer."""
    dimension: str = ANY
    """With ``score``: only cases with this score on this dimension."""
    score: int = 0
    """The score ``dimension`` must have."""


def select(results: list[CaseResult], filters: Filters, baseline) -> list[CaseResult]:
    """The results the filters keep, in their order."""
    out = []
    for r in results:
        if filters.suite != ANY and r.suite != filters.suite:
            continue
        if filters.regressions and not state.regressed(r, baseline):
            continue
        if filters.awaiting and r.scores.answer is not None:
            continue
        if filters.dimension != ANY and getattr(r.scores, filters.dimension) != filters.score:
            continue
        out.append(r)
    return out


def render() -> None:
    st.title("Runs")
    with state.guard():
        _render()


def _render() -> None:
    where = state.paths()
    meta = state.pick_run(where, "runs_run", "Run (newest first)")
    run_id = meta.run_id
    st.caption(f"Started {meta.created} · plan source {meta.source} · image {meta.image}")
    results = current_results(run_id, where.runs, where.overrides)
    opened = next((r for r in results if r.case_id == st.query_params.get("case")), None)
    if opened is not None:  # the case page
        if st.button("← all cases of this run", key="runs_back"):
            del st.query_params["case"]
            st.rerun()
        show_case(RunStore(run_id, where.runs), opened)
        return
    baseline = state.baseline_scores(where, meta)
    cols = st.columns(5)
    suites = sorted({r.suite for r in results})
    filters = Filters(
        suite=cols[0].selectbox("Suite", [ANY, *suites], key="runs_suite"),
        dimension=cols[1].selectbox("Score of", [ANY, *DIMENSIONS], key="runs_dimension"),
        score=cols[2].selectbox("equal to", [0, 1, 2], key="runs_score"),
        regressions=cols[3].checkbox("Regressions", key="runs_regressions",
                                     help=f"Below the baseline of plan source {meta.source}"),
        awaiting=cols[4].checkbox("Awaiting review", key="runs_awaiting"))
    shown = select(results, filters, baseline)
    st.write(f"{len(shown)} of {len(results)} case(s)")
    st.dataframe([_row(r, baseline) for r in shown], hide_index=True, height=min(35 * (len(shown) + 1) + 3, 720))
    case_id = st.selectbox("Open a case", [r.case_id for r in shown], index=None, key="runs_case",
                           placeholder="choose a case to see its plan, reference and executions")
    if case_id is not None:
        st.query_params["case"] = case_id
        st.rerun()


def _row(r: CaseResult, baseline) -> dict:
    worse = state.regressed(r, baseline)
    reasons = r.judgement.reasons
    notes = [f"{o.dimension} overridden by {o.reviewer}" for o in (a.override for a in r.overrides if not a.stale)]
    notes += [f"stale {o.dimension} override by {o.reviewer}" for o in r.stale]
    if r.scores.answer is None:
        notes.append("awaiting review")
    if r.uninformative:
        notes.append("uninformative")
    return {"suite": r.suite, "case": r.case_id, "prompt": r.prompt, "Plan": state.score_text(r.scores.plan),
            "Safe": state.score_text(r.scores.safe), "Answer": state.score_text(r.scores.answer),
            "regression": ", ".join(f"{d} {a}→{b}" for d, a, b in worse),
            "Plan reason": reasons.get("plan", ""), "Safe reason": reasons.get("safe", ""),
            "Answer reason": reasons.get("answer", ""), "notes": "; ".join(notes)}


def show_case(store: RunStore, result: CaseResult) -> None:
    """One case: the plan, the reference, the scores and why, both executions on every variant."""
    case, plan, runs, _ = store.load_case(result.case_id)
    st.header(f"Case {result.case_id}")
    st.write(f"**{result.prompt}** · suite {result.suite} · kind {case.kind.value}")
    scores = result.scores
    cols = st.columns(3)
    for col, dim in zip(cols, DIMENSIONS):
        auto = getattr(result.automatic, dim)
        now = getattr(scores, dim)
        col.metric(dim.title(), state.score_text(now),
                   help=result.judgement.reasons.get(dim, ""),
                   delta=f"automatic {state.score_text(auto)}" if now != auto else None, delta_color="off")
    for dim in DIMENSIONS:
        st.caption(f"{dim.title()}: {result.judgement.reasons.get(dim, 'no reason recorded')}")
    for applied in result.overrides:
        o = applied.override
        what = "stale (the plan changed since review), not applied" if applied.stale else "applied"
        st.info(f"{o.dimension} {o.automatic} → {o.score} by {o.reviewer} ({o.timestamp}): {o.reason} — {what}")
    left, right = st.columns(2)
    left.subheader("Plan")
    left.code(plan or "# (empty)", language="bash", wrap_lines=True)
    right.subheader("Reference")
    right.code(case.reference, language="bash", wrap_lines=True)
    for run in runs:
        _show_variant(run)


def _show_variant(run: CaseRun) -> None:
    st.subheader(f"On fixture {run.fixture}")
    st.caption(f"working directory {run.workdir or run.root}")
    left, right = st.columns(2)
    _show_execution(left, "Reference", run.reference)
    if run.candidate is None:
        right.markdown("**Plan**")
        right.write("Nothing ran: the plan has no command.")
    else:
        _show_execution(right, "Plan", run.candidate)


def _show_execution(col, title: str, ex: Execution) -> None:
    col.markdown(f"**{title}** · exit status {ex.exit_code}" + (" · timed out" if ex.timed_out else ""))
    col.caption("stdout" + (" (truncated)" if ex.stdout_truncated else ""))
    col.code(ex.stdout or "(no output)", language="text")
    if ex.stderr:
        col.caption("stderr")
        col.code(ex.stderr, language="text")
    lines = describe_changes(ex)
    col.caption("file-system diff")
    col.code("\n".join(lines) if lines else "(no changes)", language="text")
