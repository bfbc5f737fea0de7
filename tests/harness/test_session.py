"""The eval session's logic without pytest around it: selection, run opening, trace ids (no Docker)."""

from __future__ import annotations

import json

import pytest

from harness.errors import SuiteError
from harness.runner import RunMeta, RunStore
from harness.session import Options, engine_lines, open_run, resume_hint, select, trace_id
from rubrics.result import CaseResult, InfraRetry
from rubrics.score import Judgement, Scores


def suite_file(tmp_path, fixture: str):
    path = tmp_path / "one.yaml"
    path.write_text("suite: one\ncases:\n"
                    "  - {id: one-cat, prompt: show a.txt please, fixtures: [mini], kind: output, reference: '$ cat a.txt'}\n"
                    f"  - {{id: one-ls, prompt: list the files, fixtures: [mini, {fixture}], kind: output, "
                    f"reference: '$ ls'}}\n")
    return path


def test_select_names_the_case_and_the_fixture_it_cannot_find(tmp_path):
    with pytest.raises(SuiteError) as err:
        select(str(suite_file(tmp_path, "no-such-fixture")))
    message = str(err.value)
    assert message.startswith("suite one, case one-ls: unknown fixture 'no-such-fixture'; known fixtures: ")
    assert "mini" in message and message.endswith("fix the case's 'fixtures:' or add fixtures/no-such-fixture.yaml")


def test_select_returns_every_case_with_its_suite(tmp_path):
    assert [(s, c.id) for s, c in select(str(suite_file(tmp_path, "seed")))] == [("one", "one-cat"), ("one", "one-ls")]
    static = select("static")
    assert static and {s for s, _ in static} == {"static"}


def test_a_run_resumes_only_with_the_plan_source_it_recorded(tmp_path):
    store = RunStore("r1", tmp_path)
    meta = RunMeta(run_id="r1", created="2026-11-30T00:00:00+00:00", epoch=0.0, source="plans:mine.jsonl",
                   suites=["static"], image="fenrir-sandbox:x", image_digest="sha256:" + "0" * 64, programs=["ls"])
    store.save_meta(meta)
    assert open_run(store, "plans:mine.jsonl", ["static"]) == meta  # resumed: no engine needed
    with pytest.raises(SuiteError) as err:
        open_run(store, "noop", ["static"])
    assert str(err.value) == (
        f"run r1 was scored with plan source 'plans:mine.jsonl' ({store.meta_path}); it cannot resume with 'noop'. "
        "Pass a new --run-id (or none, for a fresh one), or resume it with --plans mine.jsonl")


def test_resume_hints_give_back_the_source():
    assert resume_hint("reference") == "--agent reference"
    assert resume_hint("noop") == "--agent noop"
    assert resume_hint("plans:x.jsonl") == "--plans x.jsonl"
    assert resume_hint("model-fewshot2") == "--agent model with the options that run used"


def test_trace_ids_are_stable_and_tell_plans_apart():
    assert trace_id("list files", "$ ls\n") == trace_id("list files", "$ ls\n")
    assert trace_id("list files", "$ ls\n") != trace_id("list files", "$ ls -a\n")
    assert trace_id("list files", "$ ls\n").startswith("trace-") and len(trace_id("a", "b")) == 14


def test_the_baseline_lives_in_the_results_folder_read_when_asked(tmp_path, monkeypatch):
    options = Options(run_id="r")
    monkeypatch.setenv("FENRIR_RESULTS", str(tmp_path / "a"))
    assert options.baseline_path == tmp_path / "a" / "baseline.json"
    monkeypatch.setenv("FENRIR_RESULTS", str(tmp_path / "b"))
    assert options.baseline_path == tmp_path / "b" / "baseline.json"
    assert Options(run_id="r", baseline=tmp_path / "x.json").baseline_path == tmp_path / "x.json"


def _result(case_id: str, engine: str | None, retried: tuple[str, ...] = ()) -> CaseResult:
    judgement = Judgement(scores=Scores(plan=2, safe=2, answer=2), reasons={"plan": "p", "safe": "s", "answer": "a"},
                          variants=[])
    return CaseResult(run_id="r", suite="static", case_id=case_id, prompt="p", source="reference", plan_text="$ ls\n",
                      plan_sha256="0" * 64, case_fingerprint="f", judgement=judgement, engine=engine,
                      retries=[InfraRetry(engine=e, error="sandbox container stopped answering") for e in retried])


def test_a_result_saved_before_engines_were_recorded_still_loads():
    old = _result("a", None).model_dump(mode="json")
    del old["engine"], old["retries"]
    loaded = CaseResult.model_validate_json(json.dumps(old))
    assert (loaded.engine, loaded.retries) == (None, [])


def test_the_summary_counts_cases_per_engine_and_the_retries_only_when_there_are_some():
    main, e2 = "unix:///var/run/docker.sock", "unix:///run/fenrir-engines/e2/docker.sock"
    assert engine_lines([_result("a", main), _result("b", main), _result("c", None)]) == []  # one engine: nothing
    lines = engine_lines([_result("a", main), _result("b", e2), _result("c", main, (e2,)), _result("d", main, (e2,))])
    assert lines == [f"engines: {e2} 1 case(s), {main} 3 case(s)",
                     f"2 infrastructure retries in 2 case(s): engine {e2} lost; their work was done again on the "
                     f"remaining engines and scored there, never as a failure of the plan: c, d"]
    assert engine_lines([_result("a", main, (e2,))])[0].startswith("1 infrastructure retry in 1 case(s)")
