"""Each page of the web UI, in-process (streamlit.testing.v1.AppTest), on a recorded run in a temporary folder.

No browser, no model, no Docker: the Ask page is shown a recorded answer (a
TraceRecord built from a model output) and its error states; the Runs, Review
and Report pages read the recorded run; the override round trip writes a
temporary copy of the overrides file, exactly as ``fenrir override`` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from agent.context import list_directory
from agent.plan import parse_plan
from agent.trace import CandidateRecord, CheckRecord, ContextRecord, DecodingRecord, LineVerdict, TraceRecord
from harness.cli.ui import app_script
from harness.runner import RunStore
from recorded_run import OLDER_RUN_ID, RUN_ID, TRACE_ID, tail

TIMEOUT = 60


def page(name: str) -> AppTest:
    return AppTest.from_string(f"from harness.ui import {name}\n{name}.render()\n", default_timeout=TIMEOUT)


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


# --- Ask -------------------------------------------------------------------------------
RAW = ("# look first\n$ find . -name '*.log'\n$ rm -f notes.txt~\n$ rm -rf /\n"
       "# preview only: lists the files that would be deleted\n$ find . -name '*.tmp'\n")


def recorded_answer(directory: Path) -> TraceRecord:
    """What the agent returns for RAW, checked on a copy of ``directory`` (the record ``fenrir --json`` prints)."""
    plan = parse_plan(RAW)
    listing = list_directory(directory)
    return TraceRecord(
        timestamp="2026-11-30T01:00:00.000+00:00", request="find the logs and delete the backup", raw_output=RAW,
        plan=plan, plan_text=plan.render(),
        verdicts=[LineVerdict(command=line.original, level=line.level, action=line.action, reason=line.reason)
                  for line in plan.lines if line.original is not None],
        base_model="HuggingFaceTB/SmolLM2-135M-Instruct", base_revision="r" * 64, adapter_sha256=None,
        quantized=False, fewshot_ids=[], decoding=DecodingRecord(do_sample=True, max_new_tokens=96, fewshot_k=0,
                                                                 candidates=2),
        latency_s=1.0, prompt_tokens=100, completion_tokens=20,
        context=ContextRecord(directory=str(directory.resolve()), sha256=listing.sha256, chars=listing.chars,
                              tokens=40, entries=listing.shown, truncated=listing.truncated),
        check=CheckRecord(checked=True, where=f"a copy of {directory} in the sandbox", chosen=0, votes=1,
                          survivors=1, seconds=0.4,
                          candidates=[CandidateRecord(plan_text=plan.render(), mean_logprob=-0.1, dropped=None,
                                                      result="k1"),
                                      CandidateRecord(plan_text="$ cat nope", mean_logprob=-0.9,
                                                      dropped="exit status 1", result=None)]))


def test_app_opens_on_the_ask_page():
    at = AppTest.from_file(str(app_script()), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert texts(at.title) == ["Ask"]
    assert at.text_area(key="ask_request").value == ""
    assert "Ask" in [b.label for b in at.button]


def test_ask_page_shows_each_line_its_verdict_and_what_was_checked(tmp_path):
    project = tmp_path / "project"
    (project / "logs").mkdir(parents=True)
    (project / "logs" / "app.log").write_text("x\n")
    record = recorded_answer(project)
    at = page("ask")
    at.session_state["ask_record"] = record
    at.run()
    assert not at.exception
    codes = texts(at.code)
    # the whole plan, then each $ line on its own (what its copy button copies), and the command to apply
    assert codes[0] == record.plan_text
    assert "find . -name '*.log'" in codes and "rm -f notes.txt~" in codes
    preview_line = next(line for line in record.plan.commands if line.action == "rewritten")
    assert preview_line.text in codes and codes.index("rm -f notes.txt~") > codes.index(preview_line.text)
    assert any("Preview:" in w for w in texts(at.warning))
    (blocked,) = [e for e in texts(at.error) if "Blocked" in e]
    assert "catastrophic" in blocked
    assert "rm -rf /" not in codes  # a blocked command gets no copy button
    markdown = " ".join(texts(at.markdown))
    assert "**`$` line 1** · safe · runs as written" in markdown  # `$` lines are numbered apart from comments
    assert "**`$` line 2** · destructive · a preview that changes nothing" in markdown
    assert "# look first" in texts(at.text)  # a comment as plain text, never a markdown heading
    # a preview the model wrote itself: the real command it stands for, with its copy button
    assert "find . -name '*.tmp' -delete" in codes
    assert codes.index("find . -name '*.tmp' -delete") > codes.index("find . -name '*.tmp'")
    # what the agent checked: the listing it saw (same sha256), and the candidates
    assert f"The names in **{project.resolve()}**" in markdown
    assert any("logs/app.log" in c for c in codes)
    assert "1 of 2 candidate plans ran cleanly, 1 agreed" in markdown
    assert at.dataframe[0].value["dropped"].tolist() == ["", "exit status 1"]


@pytest.mark.parametrize("request_text, folder, message", [
    ("   ", None, "the request is empty"),
    ("list files", "/nonexistent/folder", "folder '/nonexistent/folder' does not exist"),
])
def test_ask_refuses_bad_input_with_one_message(tmp_path, recorded, request_text, folder, message):
    at = page("ask").run()
    at.text_area(key="ask_request").input(request_text)
    at.text_input(key="ask_folder").input(folder or str(tmp_path))
    at.checkbox(key="ask_check").uncheck()
    at.button[0].click().run()
    assert not at.exception
    assert [e for e in texts(at.error) if message in e]
    assert not recorded.trace.exists()


def test_a_missing_model_is_a_message_not_a_traceback(tmp_path, recorded, monkeypatch):
    monkeypatch.setenv("FENRIR_UI_BASE_MODEL", str(tmp_path / "no-such-model"))
    at = page("ask").run()
    at.text_area(key="ask_request").input("list files")
    at.text_input(key="ask_folder").input(str(tmp_path))
    at.checkbox(key="ask_check").uncheck()
    at.button[0].click().run()
    assert not at.exception
    (error,) = texts(at.error)
    assert "no-such-model" in error
    assert not recorded.trace.exists()  # nothing was planned, nothing logged


# --- Runs ----------------------------------------------------------------------------------
def test_runs_newest_first_with_the_per_case_table(recorded):
    at = page("runs").run()
    assert not at.exception
    run = at.selectbox(key="runs_run")
    assert run.options[0].startswith(RUN_ID) and run.options[1].startswith(OLDER_RUN_ID)
    table = at.dataframe[0].value
    assert table["case"].tolist() == ["count-lines", "make-build", "tail-log", TRACE_ID]
    row = table.set_index("case").loc["tail-log"]
    assert (row["Plan"], row["Safe"], row["Answer"], row["regression"]) == ("2", "2", "0", "answer 2→0")
    assert "no variant matches" in row["Answer reason"]
    assert table.set_index("case").loc[TRACE_ID]["Answer"] == "–"


@pytest.mark.parametrize("widget, value, expected", [
    ("runs_regressions", True, ["tail-log"]),
    ("runs_awaiting", True, [TRACE_ID]),
    ("runs_suite", "dynamic", ["make-build", TRACE_ID]),
])
def test_runs_filters(recorded, widget, value, expected):
    at = page("runs").run()
    if isinstance(value, bool):
        at.checkbox(key=widget).check().run()
    else:
        at.selectbox(key=widget).select(value).run()
    assert sorted(at.dataframe[0].value["case"]) == sorted(expected)


def test_runs_filter_by_a_score(recorded):
    at = page("runs").run()
    at.selectbox(key="runs_dimension").select("answer")
    at.selectbox(key="runs_score").select(0).run()
    assert at.dataframe[0].value["case"].tolist() == ["tail-log"]


def test_case_page_shows_plan_reference_and_both_executions(recorded):
    at = page("runs")
    at.query_params["run"] = RUN_ID
    at.query_params["case"] = "tail-log"
    at.run()
    assert not at.exception
    assert texts(at.header) == ["Case tail-log"]
    codes = texts(at.code)
    assert "$ tail -n 6 output.log" in codes and "$ tail -n 5 output.log" in codes  # the plan and the reference
    assert tail(5).rstrip() in codes and tail(6).rstrip() in codes  # reference and candidate stdout side by side
    markdown = texts(at.markdown)
    assert "**Reference** · exit status 0" in markdown and "**Plan** · exit status 0" in markdown
    assert [m.value for m in at.metric] == ["2", "2", "0"]


def test_case_page_shows_the_file_system_diff(recorded):
    at = page("runs")
    at.query_params["case"] = "make-build"
    at.run()
    assert texts(at.header) == ["Case make-build"]
    assert texts(at.code).count("  + build (dir)") == 2


def test_runs_page_without_runs_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setenv("FENRIR_RESULTS", str(tmp_path / "empty"))
    for name in ("runs", "review", "report"):
        at = page(name).run()
        assert not at.exception
        (error,) = texts(at.error)
        assert "no runs under" in error and "make eval" in error


# --- Review ----------------------------------------------------------------------------------
def file_through_the_form(at: AppTest, case: str, dimension: str, score: int, reason: str) -> AppTest:
    at.selectbox(key="review_case").select(case).run()
    at.selectbox(key="override_dimension").select(dimension)
    at.radio(key="override_score").set_value(score)
    at.text_input(key="override_reason").input(reason)
    at.text_input(key="override_reviewer").input("alice")
    return next(b for b in at.button if b.label == "File override").click().run()


def test_review_queue_lists_rows_awaiting_a_human_answer(recorded):
    at = page("review").run()
    assert not at.exception
    assert at.dataframe[0].value["case"].tolist() == [TRACE_ID]
    assert at.selectbox(key="review_case").value == TRACE_ID  # the queue comes first


def test_override_round_trip_appends_as_fenrir_override_does(recorded, tmp_path):
    at = file_through_the_form(page("review").run(), "tail-log", "answer", 1, "6 lines instead of 5: close")
    assert not at.exception and not texts(at.error)
    (success,) = texts(at.success)
    assert "tail-log: answer 0 → 1" in success and str(recorded.overrides) in success
    assert "Plan 2 · Safe 2 · Answer 1 (overridden: answer)" in texts(at.markdown)  # the page re-read the run
    (entry,) = yaml.safe_load(recorded.overrides.read_text())
    result = RunStore(RUN_ID, recorded.runs).result("tail-log")
    assert entry["plan_sha256"] == result.plan_sha256 and entry["automatic"] == 0 and entry["score"] == 1
    assert result.scores.answer == 1 and result.overridden == ["answer"]  # the run was re-scored
    table = (recorded.results / "eval_static.md").read_text()
    assert "answer overridden by alice: 6 lines instead of 5: close (automatic 0)" in table  # reports re-rendered
    # the same override through the command line, on a second copy: the same entry but for its time
    other = tmp_path / "cli"
    subprocess.run(["cp", "-r", str(recorded.results), str(other)], check=True)
    cli_overrides = tmp_path / "cli-overrides.yaml"
    env = dict(os.environ, FENRIR_RESULTS=str(other), FENRIR_OVERRIDES=str(cli_overrides))
    (other / "runs" / RUN_ID / "cases" / "tail-log" / "result.json").write_text(
        json.dumps({**json.loads(result.model_dump_json()), "overrides": []}))
    done = subprocess.run([sys.executable, "-c", "from harness.cli import main; main()", "override", "tail-log",
                           "--dimension", "answer", "--score", "1", "--reason", "6 lines instead of 5: close",
                           "--reviewer", "alice", "--run", RUN_ID], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    (cli_entry,) = yaml.safe_load(cli_overrides.read_text())
    assert {**cli_entry, "timestamp": None} == {**entry, "timestamp": None}
    assert cli_overrides.read_text().splitlines()[1:6] == recorded.overrides.read_text().splitlines()[1:6]


def test_override_of_a_trace_row_leaves_the_others_in_the_queue(recorded):
    at = file_through_the_form(page("review").run(), TRACE_ID, "answer", 2, "prints hello, as asked")
    assert not texts(at.error)
    result = RunStore(RUN_ID, recorded.runs).result(TRACE_ID)
    assert result.automatic.answer is None and result.scores.answer == 2


def test_stale_overrides_are_listed_as_such(recorded):
    recorded.overrides.write_text(yaml.safe_dump([{
        "case": "count-lines", "plan_sha256": "e" * 64, "dimension": "answer", "score": 0, "automatic": 2,
        "reason": "reviewed an older plan", "reviewer": "bob", "timestamp": "2026-11-29T10:00:00+00:00"}]))
    at = page("review").run()
    stale = at.dataframe[-1].value
    assert stale["case"].tolist() == ["count-lines"] and stale["reviewed plan"].tolist() == ["e" * 12]


def test_a_malformed_overrides_file_is_one_message(recorded):
    recorded.overrides.write_text("- case: tail-log\n  dimension: answer\n  score: 5\n")
    at = page("review").run()
    assert not at.exception
    (error,) = texts(at.error)
    assert "entry 1" in error and "nothing was changed" in error


# --- Report ---------------------------------------------------------------------------------
def test_report_page_shows_the_report_charts_and_the_mean_table(recorded):
    before = sorted(p.name for p in recorded.results.iterdir())
    at = page("report").run()
    assert not at.exception
    means = at.table[0].value
    assert means["File"].tolist() == ["eval_static.md", "eval_dynamic.md", "all"]
    assert means.set_index("File").loc["eval_static.md"].tolist() == ["2.00", "2.00", "1.00", 2]
    assert means.set_index("File").loc["all"]["Answer"] == "1.33"  # the trace row awaits review: left out
    assert any(m.startswith(f"# Fenrir evaluation report: run `{RUN_ID}`") for m in texts(at.markdown))
    assert "scores" in [caption for image in at.image for caption in image.captions]  # scores.png, in place
    assert sorted(p.name for p in recorded.results.iterdir()) == before  # viewing writes no report


def test_choosing_a_case_opens_its_page_and_back_returns_to_the_table(recorded):
    at = page("runs").run()
    at.selectbox(key="runs_case").select("make-build").run()
    assert texts(at.header) == ["Case make-build"] and at.query_params["case"] == ["make-build"]
    at.button(key="runs_back").click().run()
    assert not texts(at.header) and len(at.dataframe[0].value) == 4


# --- the preview in the sandbox ---------------------------------------------------------------
PREVIEWED = "$ find . -name '*.jpg' -size +5M\n$ rm notes.txt\n"


def answer_for(raw: str) -> TraceRecord:
    plan = parse_plan(raw)
    return TraceRecord(timestamp="2026-11-30T01:00:00.000+00:00", request="big jpegs, and remove the notes",
                       raw_output=raw, plan=plan, plan_text=plan.render(), verdicts=[],
                       base_model="HuggingFaceTB/SmolLM2-135M-Instruct", base_revision="r" * 64, adapter_sha256=None,
                       quantized=False, fewshot_ids=[], decoding=DecodingRecord(do_sample=False, max_new_tokens=96,
                                                                                fewshot_k=0),
                       latency_s=1.0, prompt_tokens=100, completion_tokens=20)


@pytest.mark.docker
def test_preview_on_a_fixture_shows_output_exit_status_and_what_the_real_commands_change():
    at = page("ask")
    at.session_state["ask_record"] = answer_for(PREVIEWED)
    at.run()
    assert at.selectbox(key="preview_target").value == "seed"
    at.button(key="preview_run").click().run()
    assert not at.exception and not texts(at.error)
    assert "On fixture seed: exit status **0**" in texts(at.markdown)
    codes = texts(at.code)
    assert "./photos/family/reunion.jpg\n./photos/beach.jpg\nnotes.txt" in codes  # the preview only lists
    assert "**The original commands would change**:" in texts(at.markdown)
    assert "  - notes.txt (file)" in codes


def test_preview_without_a_docker_engine_is_one_message(tmp_path, monkeypatch):
    from sandbox import pool

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")  # clients are kept per endpoint
    monkeypatch.delenv("FENRIR_ENGINES", raising=False)
    monkeypatch.setattr(pool, "_defaults", {})  # a pool another test started talks to the real engine
    try:
        at = page("ask")
        at.session_state["ask_record"] = answer_for(PREVIEWED)
        at.run()
        at.button(key="preview_run").click().run()
        assert not at.exception
        (error,) = texts(at.error)
        assert "No Docker engine answers" in error
    finally:
        for box in pool._defaults.values():
            box.close()


def test_an_unreadable_run_is_named_and_the_others_still_listed(recorded):
    broken = recorded.runs / "20261201-000000-broken"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    at = page("runs").run()
    assert not at.exception
    (warning,) = texts(at.warning)
    assert str(broken / "run.json") in warning and "not listed" in warning
    assert at.selectbox(key="runs_run").options[0].startswith(RUN_ID)
