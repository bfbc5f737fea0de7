"""Regrade, override and report of a saved run: the same header from each, and failures that lose nothing.

The run is built with the project's own records: the executions are recorded
data (what the sandbox returned), the scores the real scorer's.  No Docker.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.runner import CaseRun, Evaluator, RunMeta, RunStore
from rubrics.suite import Case, Kind
from sandbox.records import Execution, Limits

RUN_ID = "20261130-010203-abc123"
DIGEST = "sha256:" + "d" * 64
LINES = "".join(f"line {n}\n" for n in range(1, 21))
CASES = [  # suite, case, plan, candidate stdout, reference stdout
    ("static", Case(id="tail-log", prompt="Show the last 5 lines of output.log", fixtures=["seed"],
                    kind=Kind.OUTPUT, reference="$ tail -n 5 output.log\n"),
     "$ tail -n 6 output.log\n", "".join(LINES.splitlines(True)[-6:]), "".join(LINES.splitlines(True)[-5:])),
    ("static", Case(id="count-lines", prompt="Count the lines of output.log", fixtures=["seed"],
                    kind=Kind.OUTPUT, reference="$ wc -l < output.log\n"),
     "$ wc -l < output.log\n", "20\n", "20\n"),
    ("dynamic", Case(id="list-logs", prompt="List the log files", fixtures=["seed"], kind=Kind.OUTPUT,
                     reference="$ ls *.log\n"),
     "$ ls\n", "notes.txt\noutput.log\n", "output.log\n"),
]


def _execution(plan: str, stdout: str) -> Execution:
    return Execution(plan=plan, fixture="seed", fixture_hash="a" * 64, image="fenrir-sandbox:test",
                     image_digest=DIGEST, exit_code=0, wall_time=0.01, stdout=stdout, stderr="",
                     stdout_bytes=len(stdout.encode()), stderr_bytes=0, changes=(), limits=Limits(timeout=60),
                     epoch=1795996800.0)


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A results folder holding one saved run whose plans came from the shipped adapter (source model)."""
    results = tmp_path / "results"
    monkeypatch.setenv("FENRIR_RESULTS", str(results))
    monkeypatch.setenv("FENRIR_OVERRIDES", str(tmp_path / "overrides.yaml"))
    store = RunStore(RUN_ID)
    meta = RunMeta(run_id=RUN_ID, created="2026-11-30T01:02:03+00:00", epoch=1795996800.0, source="model",
                   suites=["all"], image="fenrir-sandbox:test", image_digest=DIGEST,
                   programs=["tail", "wc", "ls"])
    store.save_meta(meta)
    evaluator = Evaluator(store, meta)
    for suite, case, plan, cand, ref in CASES:
        runs = [CaseRun(fixture="seed", root="/work", workdir="/work", reference=_execution(case.reference, ref),
                        candidate=_execution(plan, cand))]
        store.save_case(case, plan, runs, evaluator.score(suite, case, plan, "model", runs))
    return results


def fenrir(*args: str):
    return CliRunner().invoke(main, list(args))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (and the overrides file beside it), by relative path."""
    files = {str(p.relative_to(folder.parent)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    overrides = folder.parent / "overrides.yaml"
    if overrides.exists():
        files["overrides.yaml"] = overrides.read_bytes()
    return files


def _header(report: Path) -> str:
    text = report.read_text(encoding="utf-8")
    return re.sub(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "generated (time)", text.split("## 2 ·")[0])


def test_report_regrade_and_override_render_the_same_header(results: Path, tmp_path: Path):
    done = fenrir("report", RUN_ID, "--out", str(tmp_path / "report"))
    assert done.exit_code == 0, done.output
    assert {p.name for p in (tmp_path / "report").iterdir()} == {"eval_static.md", "eval_dynamic.md", "report.md",
                                                                   "scores.png", "loss.png"}
    by_report = _header(tmp_path / "report" / "report.md")
    assert "| **Base model**       | `HuggingFaceTB/SmolLM2-135M-Instruct` |" in by_report
    assert "| **Adapter**          | `lora_adapter/` (" in by_report
    assert fenrir("regrade", RUN_ID).exit_code == 0
    assert _header(results / "report.md") == by_report
    (results / "report.md").unlink()
    done = fenrir("override", "tail-log", "--dimension", "answer", "--score", "1", "--reason", "six lines is close",
                  "--reviewer", "tester", "--run", RUN_ID)
    assert done.exit_code == 0, done.output
    assert _header(results / "report.md") == by_report
    assert "answer overridden by tester: six lines is close (automatic 0)" in (
        results / "eval_static.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name, damage, says", [
    ("cases/tail-log/result.json", '{"run_id": "x"', "Invalid JSON"),
    ("cases/count-lines/executions.json", "[{}]", "0.fixture: Field required"),
    ("cases/list-logs/executions.json", "", "Invalid JSON"),
    ("run.json", "{}", "run_id: Field required"),
    ("cases/list-logs/case.json", "not json", "Invalid JSON"),
])
def test_a_damaged_run_file_is_named_and_regrade_changes_nothing(results: Path, name: str, damage: str, says: str):
    assert fenrir("regrade", RUN_ID).exit_code == 0  # reports and results as a good regrade leaves them
    path = results / "runs" / RUN_ID / name
    path.write_text(damage, encoding="utf-8")
    before = snapshot(results)
    done = fenrir("regrade", RUN_ID)
    assert done.exit_code == 1
    assert "Traceback" not in done.output
    (message,) = done.stderr.strip().splitlines()
    assert message.startswith(f"Error: {path} cannot be read (") and says in message
    assert message.endswith("; nothing was changed")
    fix = "restore it from a backup" if name == "run.json" else f"delete {path.parent} and score the case again"
    assert fix in message
    assert snapshot(results) == before  # every file byte-identical: nothing was half rewritten


def test_a_damaged_result_is_named_by_report_and_override_too(results: Path, tmp_path: Path):
    path = results / "runs" / RUN_ID / "cases" / "count-lines" / "result.json"
    path.write_text("[]", encoding="utf-8")
    before = snapshot(results)
    done = fenrir("report", RUN_ID, "--out", str(tmp_path / "out"))
    assert done.exit_code == 1 and f"{path} cannot be read" in done.stderr
    done = fenrir("override", "tail-log", "--dimension", "answer", "--score", "1", "--reason", "close enough",
                  "--reviewer", "tester", "--run", RUN_ID)
    assert done.exit_code == 1 and f"{path} cannot be read" in done.stderr
    assert snapshot(results) == before and not (tmp_path / "overrides.yaml").exists()  # nothing recorded
    assert not (tmp_path / "out").exists()


def test_a_run_that_does_not_exist_says_where_runs_are_looked_for(results: Path):
    done = fenrir("regrade", "no-such-run")
    assert done.exit_code == 1
    assert done.stderr == (f"Error: no run 'no-such-run' under {results / 'runs'} (no run.json there); the latest "
                           f"runs there: {RUN_ID}; runs are looked for in $FENRIR_RESULTS/runs (default results/runs)\n")


@pytest.mark.parametrize("reason, reviewer, says", [
    ("   ", "tester", "reason: Value error, is blank or too short"),
    ("\t\n", "tester", "reason: Value error, is blank or too short"),
    (" ok ", "tester", "reason: Value error, is blank or too short"),
    ("six lines is close", "  ", "reviewer: Value error, is blank"),
])
def test_a_blank_reason_or_reviewer_is_refused_and_nothing_is_recorded(results: Path, tmp_path: Path,
                                                                         reason: str, reviewer: str, says: str):
    before = snapshot(results)
    done = fenrir("override", "tail-log", "--dimension", "answer", "--score", "1", "--reason", reason,
                  "--reviewer", reviewer, "--run", RUN_ID)
    assert done.exit_code == 1
    (message,) = done.stderr.strip().splitlines()
    assert message.startswith("Error: override for tail-log: ") and says in message
    assert message.endswith("; nothing was recorded")
    assert snapshot(results) == before and not (tmp_path / "overrides.yaml").exists()


def test_override_of_a_run_that_does_not_exist_says_so(results: Path, tmp_path: Path):
    done = fenrir("override", "tail-log", "--dimension", "answer", "--score", "1", "--reason", "close enough",
                  "--reviewer", "tester", "--run", "no-such-run")
    assert done.exit_code == 1
    assert done.stderr.startswith(f"Error: no run 'no-such-run' under {results / 'runs'} (no run.json there); "
                                  f"the latest runs there: {RUN_ID}; runs are looked for in $FENRIR_RESULTS/runs")
    done = fenrir("override", "no-such-case", "--dimension", "answer", "--score", "1", "--reason", "close enough",
                  "--reviewer", "tester", "--run", RUN_ID)
    assert done.exit_code == 1
    assert done.stderr == (f"Error: run {RUN_ID} has no result for case 'no-such-case'; its cases: count-lines, "
                           f"list-logs, tail-log\n")
    assert not (tmp_path / "overrides.yaml").exists()
