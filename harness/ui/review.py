"""The Review page: rows awaiting a human Answer, an override form for any case, stale overrides.

The form files through :func:`harness.review.file_override`, exactly as
``fenrir override`` does: an entry keyed to the plan's sha256 is appended to
``rubrics/overrides.yaml``, the run is re-scored and its reports re-rendered.
"""

from __future__ import annotations

import getpass

import streamlit as st

from harness.review import awaiting, current_results, file_override, stale_overrides
from harness.ui import state
from rubrics.dimensions import DIMENSIONS
from rubrics.result import CaseResult

FILED = "review_filed"
"""Session key of the confirmation of the override just filed (shown once, after the page re-reads the run)."""


def render() -> None:
    st.title("Review")
    with state.guard():
        _render()


def _render() -> None:
    where = state.paths()
    run_id = state.pick_run(where, "review_run").run_id
    results = current_results(run_id, where.runs, where.overrides)
    queue = awaiting(results)
    st.subheader("Awaiting a human Answer")
    if queue:
        st.caption("Trace rows whose request matches no case: only a person can score their answer.")
        st.dataframe([{"case": r.case_id, "prompt": r.prompt, "plan": r.plan_text,
                       "Plan": state.score_text(r.scores.plan), "Safe": state.score_text(r.scores.safe)}
                      for r in queue], hide_index=True, key="review_queue")
    else:
        st.write("Nothing awaits review in this run.")
    if not results:
        st.info(f"Run {run_id} has no scored cases.")
        return
    st.subheader("Override a score")
    ids = [r.case_id for r in queue] + [r.case_id for r in results if r not in queue]
    case_id = state.pick("Case", ids, "case", "review_case")
    result = next(r for r in results if r.case_id == case_id)
    _show_scores(result)
    if FILED in st.session_state:
        st.success(st.session_state.pop(FILED))
    with st.form("override", clear_on_submit=False):
        dimension = st.selectbox("Dimension", DIMENSIONS, index=DIMENSIONS.index("answer"),  # what trace rows await
                                 key="override_dimension")
        score = st.radio("Score", [0, 1, 2], horizontal=True, key="override_score")
        reason = st.text_input("Reason (kept with the override and shown in the reports)", key="override_reason")
        reviewer = st.text_input("Reviewer", value=getpass.getuser(), key="override_reviewer")
        filed = st.form_submit_button("File override", type="primary")
    if filed:
        with state.guard():
            done = file_override(case_id, dimension, score, reason, reviewer, run_id, runs=where.runs,
                                 overrides=where.overrides, results=where.results)
            o = done.override
            st.session_state[FILED] = (f"{case_id}: {o.dimension} {state.score_text(o.automatic)} → {o.score} "
                                       f"(plan {o.plan_sha256[:12]}, run {done.run_id}) recorded in {done.path}; "
                                       f"re-rendered {len(done.reports)} report file(s).")
            st.rerun()  # show the case with its new scores
    _show_stale(results)


def _show_scores(result: CaseResult) -> None:
    st.write(f"**{result.prompt}** · plan sha256 `{result.plan_sha256[:12]}`")
    st.code(result.plan_text or "# (empty)", language="bash")
    st.write(" · ".join(f"{d.title()} {state.score_text(getattr(result.scores, d))}" for d in DIMENSIONS)
             + (f" (overridden: {', '.join(result.overridden)})" if result.overridden else ""))


def _show_stale(results: list[CaseResult]) -> None:
    st.subheader("Stale overrides")
    stale = stale_overrides(results)
    if not stale:
        st.write("None: every override of this run's cases is for the plan it scored.")
        return
    st.caption("The plan changed since these were filed: they are listed, not applied.")
    st.dataframe([{"case": s.override.case, "dimension": s.override.dimension, "score": s.override.score,
                   "reviewer": s.override.reviewer, "reason": s.override.reason,
                   "reviewed plan": s.override.plan_sha256[:12], "plan now": s.plan_sha256[:12],
                   "filed": s.override.timestamp} for s in stale], hide_index=True, key="review_stale")
