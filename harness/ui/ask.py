"""The Ask page: a request in, the checked plan out, every line behind a copy button, an optional preview.

A request goes through :func:`harness.asking.plan_request`, the path
``fenrir "REQUEST"`` takes (listing, candidates, the check in the sandbox), and
is appended to the trace with :func:`harness.asking.log_record`.  The preview
runs in the sandbox on a shipped fixture or on a copy of a folder
(:func:`harness.preview.preview_plan`, the ``--preview`` machinery).
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from agent.ask import check_request
from agent.context import list_directory
from agent.plan import APPLY_AFTER_REVIEW, PlanLine
from agent.trace import TraceRecord
from harness.asking import AskOptions, log_record, plan_request
from harness.errors import FixtureError
from harness.preview import describe_changes, preview_plan
from harness.ui import state
from sandbox.fixture import available
from sandbox.materialize import from_directory

RECORD = "ask_record"
"""Session key of the last answer (a TraceRecord)."""
LOGGED = "ask_logged"
"""Session key of the trace file the last answer was appended to."""
FOLDER = "a folder on this machine (copied into the sandbox)"


def render() -> None:
    st.title("Ask")
    st.caption("A request in plain words; the answer is a dry-run shell plan that never loses data. "
               "Nothing runs on this machine: plans run only in the sandbox.")
    where = state.paths()
    with st.form("ask"):
        request = st.text_area("Request", placeholder="Find all JPEGs larger than 5 MB", key="ask_request")
        folder = st.text_input("The folder the request is about", value=os.getcwd(), key="ask_folder")
        check = st.checkbox("Check the candidate plans in the sandbox", value=True, key="ask_check")
        asked = st.form_submit_button("Ask", type="primary")
    if asked:
        with state.guard():
            _ask(request, folder, check, where)
    record = st.session_state.get(RECORD)
    if record is not None:
        show_record(record)
        if st.session_state.get(LOGGED):
            st.caption(f"Appended to {st.session_state[LOGGED]}.")
        st.divider()
        _preview_section(record)


def _ask(request: str, folder: str, check: bool, where: state.Paths) -> None:
    text = check_request(request)
    directory = Path(folder).expanduser()
    if not directory.is_dir():
        raise FixtureError(f"folder {folder!r} does not exist or is not a directory; give the folder the "
                           "request is about")
    with st.spinner("Planning ..."):
        record = plan_request(text, AskOptions(directory=directory, check=check), state.loaded_model())
    st.session_state[RECORD] = record
    st.session_state[LOGGED] = None
    st.session_state[LOGGED] = str(log_record(record, where.trace))


def show_record(record: TraceRecord) -> None:
    """The plan, each line with its verdict, and what the agent checked."""
    st.subheader("Plan")
    st.caption("The whole plan (copy button at its top right):")
    st.code(record.plan_text or "# (the model produced no commands)", language="bash", wrap_lines=True)
    st.caption("Each line, with its safety verdict:")
    n = 0
    for line in record.plan.lines:
        n += line.kind == "command"
        _show_line(n, line)
    _show_checked(record)


def _show_line(n: int, line: PlanLine) -> None:
    """A `$` line (numbered ``n``) with its copy button and verdict; a blocked line; a comment."""
    if line.kind == "command":
        verdict = {"kept": "runs as written", "guarded": "runs in its no-clobber form",
                   "rewritten": "a preview that changes nothing"}.get(line.action, line.action)
        st.markdown(f"**`$` line {n}** · {line.level} · {verdict}")
        st.code(line.text, language="bash", wrap_lines=True)
        if line.action == "guarded":
            st.caption(f"The model wrote `{line.original}`; {line.reason}")
        elif line.action == "rewritten":
            st.warning(f"Preview: {line.reason}", icon="🔎")
            st.caption(APPLY_AFTER_REVIEW.lstrip("# ").rstrip())
            st.code(line.original or "", language="bash")
    elif line.action == "blocked":
        st.error(f"Blocked ({line.level}): {line.reason}", icon="⛔")
        st.caption("The command the model wrote, never runnable:")
        st.text(line.original or "")
    elif line.text.startswith(APPLY_AFTER_REVIEW[2:]):  # the real command behind a preview the model wrote
        st.caption(APPLY_AFTER_REVIEW.lstrip("# ").rstrip())
        st.code(line.text[len(APPLY_AFTER_REVIEW) - 2:], language="bash")
    else:
        st.text(f"# {line.text}")


def _show_checked(record: TraceRecord) -> None:
    st.subheader("What the agent checked")
    context = record.context
    if context is None:
        st.write("No directory listing: the model saw the request alone.")
    else:
        note = ", some entries left out" if context.truncated else ""
        st.write(f"The names in **{context.directory}**: {context.entries} entries, {context.chars} characters, "
                 f"{context.tokens} tokens{note} (never file contents).")
        if Path(context.directory).is_dir():
            listing = list_directory(Path(context.directory))
            same = listing.sha256 == context.sha256
            with st.expander("The listing" + ("" if same else " (the folder changed since: this is it now)")):
                st.code(listing.text, language="text")
    check = record.check
    if check is None:
        st.write("Not checked in the sandbox (checking was off).")
    elif not check.checked:
        st.info(f"Not checked: {check.where}", icon="ℹ️")
    else:
        st.write(f"Checked on {check.where}: {check.survivors} of {len(check.candidates)} candidate plans ran "
                 f"cleanly, {check.votes} agreed on this result ({check.seconds:.1f} s).")
        rows = [{"#": i, "chosen": "✔" if i == check.chosen else "", "plan": c.plan_text,
                 "dropped": c.dropped or "", "mean log-prob": c.mean_logprob}
                for i, c in enumerate(check.candidates)]
        st.dataframe(rows, hide_index=True)


def _preview_section(record: TraceRecord) -> None:
    st.subheader("Preview in the sandbox")
    st.caption("Runs the plan on a copy (never on this machine) and shows its output, exit status and the "
               "changes it would make; previews are also run as their real commands, on a fresh copy.")
    fixtures = sorted(available(), key=lambda name: (name != "seed", name))  # the prototype's tree first
    target = st.selectbox("Run it on", [*fixtures, FOLDER], key="preview_target")
    folder = st.text_input("Folder", value=os.getcwd(), key="preview_folder") if target == FOLDER else None
    if st.button("Preview", key="preview_run"):
        with state.guard():
            fixture = from_directory(Path(folder).expanduser()) if target == FOLDER else target
            with st.spinner("Running in the sandbox ..."):
                preview = preview_plan(record.plan, fixture)
            if preview is None:
                st.info("The plan has no runnable command.")
                return
            where = f"a copy of {folder}" if target == FOLDER else f"fixture {target}"
            st.write(f"On {where}: exit status **{preview.shown.exit_code}**"
                     + (" (timed out)" if preview.shown.timed_out else ""))
            st.code(preview.shown.stdout or "(no output)", language="text")
            if preview.shown.stderr:
                st.caption("stderr")
                st.code(preview.shown.stderr, language="text")
            lines = describe_changes(preview.effect)
            st.write(f"**{preview.changes_label.capitalize()}**" + (":" if lines else " nothing."))
            if lines:
                st.code("\n".join(lines), language="text")
            if target == FOLDER:
                st.caption(f"{folder} itself was not touched.")
