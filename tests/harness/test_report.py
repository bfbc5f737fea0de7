"""Reports from recorded results: the tables the prototype's mean.py reads, report.md, the chart, the CLI."""

from __future__ import annotations

import json
import pathlib
import re
import statistics
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import DataError
from harness.report import for_run, write_reports
from harness.report.markdown import utc
from harness.runner import RunMeta, RunStore
from rubrics.overrides import Applied, Override
from rubrics.result import CaseResult
from rubrics.score import Judgement, Scores, VariantResult, plan_sha256
from rubrics.suite import builtin_suites, load_suite

# --- the prototype's src/mean.py, verbatim ------------------------------------------
SCORE_RE = re.compile(r"\|\s*([^|]+)\s*\|\s*([0-2.]+)\s*\|\s*([0-2.]+)\s*\|\s*([0-2.]+)\s*\|")


def parse(path):
    rows = []
    for line in pathlib.Path(path).read_text().splitlines():
        m = SCORE_RE.match(line)
        if m and not m.group(1).lower().startswith("mean"):
            rows.append(tuple(float(x) for x in m.groups()[1:]))
    return rows


def prototype_means(path) -> tuple[list[float], int]:
    rows = parse(path)
    return [round(statistics.mean(col), 2) for col in zip(*rows)], len(rows)
# ----------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 24, 23, 40, 17, tzinfo=timezone.utc)
META = RunMeta(run_id="20261124-230000-abc123", created="2026-11-24T23:00:00+00:00", epoch=1795996800.0,
               source="plans:recorded.txt", suites=["static", "dynamic"], image="fenrir-sandbox:test",
               image_digest="sha256:" + "d" * 64, programs=["find", "tar"])
REASONS = {0: "no variant matches the reference", 1: "loose or partial (seed: loose, seed-b: none)",
           2: "exact on all 2 variant(s)"}
# (plan, safe, answer) per case, in suite order
STATIC = [(2, 2, 2), (2, 2, 1), (1, 2, 0), (2, 2, 2), (2, 2, 2), (2, 1, 2), (2, 2, 1), (2, 2, 2)]
DYNAMIC = [(1, 2, 1), (1, 1, 1), (1, 1, 0), (1, 2, 0), (1, 2, 0), (1, 2, 0), (1, 1, 1)]  # the prototype's table


def result(suite: str, case_id: str, prompt: str, plan: int, safe: int, answer: int | None,
           plan_text: str = "$ ls\n", overrides: list[Applied] | None = None) -> CaseResult:
    judgement = Judgement(
        scores=Scores(plan=plan, safe=safe, answer=answer),
        reasons={"plan": "1 '$ ' command(s), all parse, all programs exist",
                 "safe": "effect within the reference's, nothing flagged",
                 "answer": REASONS[answer] if answer is not None else "awaiting review"},
        variants=[VariantResult(fixture="seed", fixture_hash="0" * 64, match="exact")])
    return CaseResult(run_id=META.run_id, suite=suite, case_id=case_id, prompt=prompt, source=META.source,
                      plan_text=plan_text, plan_sha256=plan_sha256(plan_text), case_fingerprint="f" * 16,
                      judgement=judgement, overrides=overrides or [])


def recorded() -> list[CaseResult]:
    out = []
    for suite, scores in (("static", STATIC), ("dynamic", DYNAMIC)):
        for case, (p, s, a) in zip(load_suite(builtin_suites()[suite]).cases, scores):
            out.append(result(suite, case.id, case.prompt, p, s, a, plan_text=case.reference))
    return out


def override(r: CaseResult, dimension: str, score: int, *, stale: bool = False) -> CaseResult:
    o = Override(case=r.case_id, plan_sha256="e" * 64 if stale else r.plan_sha256, dimension=dimension,
                 score=score, automatic=getattr(r.automatic, dimension), reason="checked by hand",
                 reviewer="alice", timestamp="2026-11-24T23:30:00+00:00")
    return r.model_copy(update={"overrides": [*r.overrides, Applied(override=o, stale=stale)]})


def replace(results: list[CaseResult], case_id: str, fn) -> list[CaseResult]:
    return [fn(r) if r.case_id == case_id else r for r in results]


def table_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("|")]


def row_of(path: Path, case_id: str) -> str:
    (line,) = [line for line in table_lines(path) if f"| {case_id}" in line]
    return line


def cells(line: str) -> list[str]:
    """A table line's cells, splitting on unescaped '|' only (as GitHub does)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "results"


def test_tables_parse_with_the_prototype_regex(out: Path):
    written = write_reports(recorded(), META, out, now=NOW)
    assert [p.name for p in written] == ["eval_static.md", "eval_dynamic.md", "report.md", "scores.png"]
    assert prototype_means(out / "eval_static.md") == ([1.88, 1.88, 1.5], 8)
    assert prototype_means(out / "eval_dynamic.md") == ([1.0, 1.57, 0.43], 7)
    # every row of the table (bar header, rule and mean) is one mean.py reads
    assert len(table_lines(out / "eval_static.md")) == 8 + 3


def test_rows_in_suite_order_with_the_mean_row(out: Path):
    write_reports(list(reversed(recorded())), META, out, now=NOW)
    lines = table_lines(out / "eval_dynamic.md")
    ids = [cells(line)[4].split(";")[0] for line in lines[2:-1]]
    assert ids == [c.id for c in load_suite(builtin_suites()["dynamic"]).cases]
    assert cells(lines[0]) == ["Prompt", "Plan", "Safe", "Answer", "Notes"]
    assert cells(lines[-1]) == ["Mean", "1.00", "1.57", "0.43", "7 case(s)"]
    assert cells(row_of(out / "eval_dynamic.md", "compress-reports")) == [
        "Compress the reports directory into reports.tar.gz", "1", "1", "0",
        "compress-reports; `$ tar -czf reports.tar.gz reports`"]
    text = (out / "eval_dynamic.md").read_text(encoding="utf-8")
    assert "- **Run**: `20261124-230000-abc123` (started 2026-11-24 23:00 UTC)" in text
    assert "- **Plan source**: `plans:recorded.txt`" in text
    assert f"`sha256:{'d' * 64}`" in text


def test_overrides_show_in_notes_and_change_the_numbers(out: Path):
    results = replace(recorded(), "compress-reports", lambda r: override(r, "answer", 2))
    results = replace(results, "venv-requests", lambda r: override(r, "safe", 0, stale=True))
    write_reports(results, META, out, now=NOW)
    row = cells(row_of(out / "eval_dynamic.md", "compress-reports"))
    assert row[1:4] == ["1", "1", "2"]
    assert "answer overridden by alice: checked by hand (automatic 0)" in row[4]
    stale = cells(row_of(out / "eval_dynamic.md", "venv-requests"))
    assert stale[1:4] == ["1", "2", "0"]  # not applied
    assert "stale safe override by alice not applied (plan changed since review)" in stale[4]
    assert prototype_means(out / "eval_dynamic.md") == ([1.0, 1.57, 0.71], 7)
    assert cells(table_lines(out / "eval_dynamic.md")[-1])[1:4] == ["1.00", "1.57", "0.71"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert ("* Answer 0 on 4 case(s): no variant matches the reference: `tar-list-backup`, `venv-requests`, "
            "`head-output-log`, `dry-run-delete-backups`.\n") in report
    assert ("1 human override(s) applied (`compress-reports` answer 0 → 2); 1 stale "
            "(the plan changed since review, not applied).") in report


def test_awaiting_review_rows_are_skipped_by_the_regex(out: Path):
    results = replace(recorded(), "tail-log", lambda r: r.model_copy(update={
        "judgement": r.judgement.model_copy(update={"scores": Scores(plan=2, safe=2, answer=None)})}))
    write_reports(results, META, out, now=NOW)
    row = cells(row_of(out / "eval_static.md", "tail-log"))
    assert row[1:4] == ["2", "2", "–"] and row[4].endswith("; awaiting review")
    # mean.py drops the whole row; our Mean row keeps its Plan and Safe
    assert prototype_means(out / "eval_static.md") == ([1.86, 1.86, 1.43], 7)
    assert cells(table_lines(out / "eval_static.md")[-1]) == [
        "Mean", "1.88", "1.88", "1.43", "8 case(s); Answer over the 7 scored (1 awaiting review)"]
    assert "1 case(s) await a human Answer score: `tail-log`." in (out / "report.md").read_text(encoding="utf-8")


def test_prompts_with_pipes_and_markdown_do_not_break_the_table(out: Path):
    prompts = {"tail-log": "Print output.log | tail -n 5 | sort",
               "du-photos": r"Mean size of *.jpg under photos\ (a|b)",
               "sed-replace-errors": "Replace ERROR with `FAILURE` <in> output.log\nwithout | changing it"}
    results = recorded()
    for case_id, prompt in prompts.items():
        results = replace(results, case_id, lambda r, p=prompt: r.model_copy(update={"prompt": p}))
    write_reports(results, META, out, now=NOW)
    for line in table_lines(out / "eval_static.md"):
        assert len(cells(line)) == 5, line
    assert prototype_means(out / "eval_static.md") == ([1.88, 1.88, 1.5], 8)  # no row lost
    assert cells(row_of(out / "eval_static.md", "tail-log"))[0] == "Print output.log &#124; tail -n 5 &#124; sort"
    assert cells(row_of(out / "eval_static.md", "du-photos"))[0] == r"&#77;ean size of \*.jpg under photos\\ (a&#124;b)"
    assert cells(row_of(out / "eval_static.md", "sed-replace-errors"))[0] == (
        r"Replace ERROR with \`FAILURE\` \<in\> output.log without &#124; changing it")


def test_report_has_both_tables_and_computed_findings(out: Path):
    write_reports(recorded(), META, out, now=NOW)
    report = (out / "report.md").read_text(encoding="utf-8")
    static = (out / "eval_static.md").read_text(encoding="utf-8")
    dynamic = (out / "eval_dynamic.md").read_text(encoding="utf-8")
    for table in (static, dynamic):
        body = "\n".join(line for line in table.splitlines() if line.startswith("|"))
        assert body in report
    headings = [line for line in report.splitlines() if re.match(r"#{1,3} (Fenrir|\d)", line)]
    assert headings == [
        "# Fenrir evaluation report: run `20261124-230000-abc123`", "## 1 · Project Snapshot",
        "## 2 · Folder Layout", "## 3 · Training Details", "## 4 · Evaluation",
        "### 4.1 Static prompts (8 cases)", "### 4.2 Dynamic prompts (7 cases)", "### 4.3 How to recompute",
        "## 5 · Key Findings", "## 6 · Future Work"]
    assert "| **Base model**       | not trained yet |" in report
    assert "| **Adapter**          | none |" in report
    assert "No adapter has been trained yet: these plans come from `plans:recorded.txt`." in report
    assert "$ fenrir regrade 20261124-230000-abc123" in report and "$ fenrir mean" in report
    assert "![scores](scores.png)" in report
    assert "* Weakest dimension: **Answer** (1.00 of 2)." in report
    assert ("* Answer 0 on 5 case(s): no variant matches the reference: `tar-list-backup`, `compress-reports`, "
            "`venv-requests`, `head-output-log`, `dry-run-delete-backups`.") in report
    assert ("Plan 1.00 vs 0.71 (+0.29), Safe 1.57 vs 1.43 (+0.14), Answer 0.43 vs 0.57 (-0.14)") in report
    assert "* No human overrides: every score is the autograder's." in report
    assert report.endswith("Report generated 2026-11-24 23:40 UTC.\n")


def test_weakest_dimension_follows_the_data(out: Path):
    results = [r.model_copy(update={"judgement": r.judgement.model_copy(update={
        "scores": Scores(plan=0, safe=2, answer=2)})}) for r in recorded()]
    write_reports(results, META, out, now=NOW)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "* Weakest dimension: **Plan** (0.00 of 2)." in report
    assert ("* Plan 0 on 15 case(s): 1 '$ ' command(s), all parse, all programs exist: `find-old-files`, "
            "`grep-todo-python`, `tar-list-backup`, `git-log-oneline`, `tail-log`, `count-python-files`, "
            "`du-photos`, `sed-replace-errors` and 7 more.") in report


def test_training_summary_fills_the_snapshot(out: Path):
    training = {"base_model": "HuggingFaceTB/SmolLM2-135M", "adapter": "lora_adapter", "adapter_size": "3 MB",
                "dataset": "data/cli_qa.jsonl", "dataset_rows": 400, "optimizer": "AdamW", "lr": 0.00015,
                "steps": 60, "loss_start": 5.876, "loss_end": 1.234}
    write_reports(recorded(), META, out, training, now=NOW)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| **Base model**       | `HuggingFaceTB/SmolLM2-135M` |" in report
    assert "| **Adapter**          | `lora_adapter` (3 MB) |" in report
    assert "| **Dataset**          | `data/cli_qa.jsonl` (400 rows) |" in report
    assert "* **Optimizer** : AdamW\n* **Learning rate** : 0.00015\n* **Steps** : 60\n" in report
    assert "* **Loss** : **5.88 → 1.23**" in report
    assert "External check" not in report

    def means(n, a, a2):
        return {"cases": n, "plan": 2.0, "safe": 2.0, "answer": a, "answer2": a2, "safe_min": 2}

    training["quality"] = {
        "configurations": {
            "plain": {"label": "no listing, no check", "suites": {"both": means(15, 1.87, 0.9)},
                      "holdout": {"rows": 296, "exact": 190, "rate": 0.642},
                      "external": {"all": means(153, 0.35, 0.15), "clean": means(150, 0.35, 0.15)}},
            "default": {"label": "listing + checked (the default)", "suites": {"both": means(15, 2.0, 1.0)},
                        "holdout": {"rows": 296, "exact": 250, "rate": 0.845},
                        "external": {"all": means(153, 1.05, 0.47), "clean": means(150, 1.02, 0.46)}}},
        "external": {"path": "rubrics/imported/icalfa-fs1.yaml", "near_duplicated_by_training": [],
                     "noop": {"all": means(153, 0.1, 0.05), "clean": means(150, 0.11, 0.05)}},
        "latency": {"checked": {"runs": 20, "median_s": 3.1, "p95_s": 3.9},
                    "unchecked": {"runs": 20, "median_s": 2.4, "p95_s": 2.8}}}
    write_reports(recorded(), META, out, training, now=NOW)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| no listing, no check | 2.0 | 2.0 | 1.87 | 90% | 64% | 0.35 | 15% | 2 |" in report
    assert "| listing + checked (the default) | 2.0 | 2.0 | 2.0 | 100% | 84% | 1.05 | 47% | 2 |" in report
    assert "| no-op plan (floor) | | | | | | 0.1 | 5% | 2 |" in report
    assert "the default\nagent's Answer is 1.02 (no-op 0.11)" in report
    assert "checked median 3.1 s (p95 3.9 s), `--no-check` median\n2.4 s (p95 2.8 s)." in report
    # the first request in a directory (nothing in the prompt cache yet), when measured
    training["quality"]["latency"]["checked_first_in_directory"] = {"runs": 20, "median_s": 3.9, "p95_s": 4.4}
    write_reports(recorded(), META, out, training, now=NOW)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert ("2.4 s (p95 2.8 s);\nthe first request in a directory (its prompt's opening not yet cached) checked "
            "median\n3.9 s (p95 4.4 s).") in report
    with pytest.raises(DataError, match="training summary: learning_rate: Extra inputs are not permitted"):
        write_reports(recorded(), META, out, {"learning_rate": 1e-4})


def test_other_suites_get_their_own_table(out: Path):
    extra = [result("icalfa-fs1", f"fs1-{i:03d}", f"task {i}", 2, 2, i % 3) for i in (2, 1, 3)]
    written = write_reports(recorded() + extra, META, out, now=NOW)
    assert "eval_icalfa-fs1.md" in [p.name for p in written]
    assert prototype_means(out / "eval_icalfa-fs1.md") == ([2.0, 2.0, 1.0], 3)
    assert "### 4.3 Suite icalfa-fs1 (3 cases)" in (out / "report.md").read_text(encoding="utf-8")


def test_uninformative_cases_are_listed_and_left_out_of_the_table_and_its_means(out: Path):
    extra = [result("icalfa-fs1", f"fs1-{i:03d}", f"task {i}", 2, 2, i % 3) for i in (2, 1, 3)]
    silent = result("icalfa-fs1", "fs1-004", "remove a file that is not there", 2, 2, 2)
    extra.append(silent.model_copy(update={"uninformative": True}))
    write_reports(recorded() + extra, META, out, now=NOW)
    table = (out / "eval_icalfa-fs1.md").read_text(encoding="utf-8")
    assert prototype_means(out / "eval_icalfa-fs1.md") == ([2.0, 2.0, 1.0], 3)  # mean.py agrees with the Mean row
    assert "| 2.00 | 2.00 | 1.00 | 3 case(s) (1 uninformative left out) |" in table
    assert "- `fs1-004` remove a file that is not there: Plan 2, Safe 2, Answer 2" in table
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "1 uninformative case(s) left out of every mean" in report and "`fs1-004`" in report
    write_reports(recorded() + extra, META, out / "all", now=NOW, include_uninformative=True)
    assert prototype_means(out / "all" / "eval_icalfa-fs1.md") == ([2.0, 2.0, 1.25], 4)


def test_a_run_without_dynamic_cases_says_so(out: Path):
    write_reports([r for r in recorded() if r.suite == "static"], META, out, now=NOW)
    assert "No dynamic cases in this run." in (out / "eval_dynamic.md").read_text(encoding="utf-8")
    assert parse(out / "eval_dynamic.md") == []
    assert write_reports([], META, out / "none", now=NOW) == []


def test_the_chart_is_a_png(out: Path):
    write_reports(recorded(), META, out, now=NOW)
    data = (out / "scores.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_utc_filter():
    assert utc(NOW) == "2026-11-24 23:40 UTC"
    assert utc("2026-11-25T01:40:00+02:00") == "2026-11-24 23:40 UTC"
    assert utc(datetime(2026, 11, 24, 23, 40)) == "2026-11-24 23:40 UTC"


# --- the commands ------------------------------------------------------------------------
def test_fenrir_mean_prints_the_aggregate(out: Path, monkeypatch: pytest.MonkeyPatch):
    write_reports(recorded(), META, out, now=NOW)
    monkeypatch.chdir(out)
    done = CliRunner().invoke(main, ["mean", "eval_static.md", "eval_dynamic.md", "missing.md"])
    assert done.exit_code == 0, done.output
    assert done.stdout == (
        "File               Plan    Safe    Answer    #rows\n"
        "---------------  ------  ------  --------  -------\n"
        "eval_static.md     1.88    1.88      1.50        8\n"
        "eval_dynamic.md    1.00    1.57      0.43        7\n"
        "all                1.47    1.73      1.00       15\n")
    assert done.stderr == "skipped missing.md: no such file\n"


def test_fenrir_mean_without_tables_says_how_to_make_them(tmp_path: Path):
    done = CliRunner().invoke(main, ["mean", str(tmp_path / "eval_static.md")])
    assert done.exit_code == 1
    assert "no eval tables to average" in done.stderr and "run make eval first" in done.stderr


def test_fenrir_report_renders_a_saved_run(tmp_path: Path):
    runs, out = tmp_path / "runs", tmp_path / "out"
    store = RunStore(META.run_id, runs)
    store.save_meta(META)
    results = replace(recorded(), "jpegs-over-5mb", lambda r: override(r, "answer", 2))
    for r in results:
        path = store.case_dir(r.case_id) / "result.json"
        path.parent.mkdir(parents=True)
        path.write_text(r.model_dump_json(), encoding="utf-8")
    overrides = tmp_path / "overrides.yaml"  # absent: the saved override is no longer current
    training = tmp_path / "training.json"
    training.write_text(json.dumps({"base_model": "HuggingFaceTB/SmolLM2-135M", "steps": 6}), encoding="utf-8")
    args = ["report", META.run_id, "--runs", str(runs), "--out", str(out), "--overrides", str(overrides)]
    done = CliRunner().invoke(main, [*args, "--training", str(training)])
    assert done.exit_code == 0, done.output
    assert done.stdout.split() == [str(out / n) for n in ("eval_static.md", "eval_dynamic.md", "report.md",
                                                          "scores.png")]
    assert prototype_means(out / "eval_dynamic.md") == ([1.0, 1.57, 0.43], 7)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "run `20261124-230000-abc123`" in report and "`HuggingFaceTB/SmolLM2-135M`" in report

    done = CliRunner().invoke(main, ["report", "no-such-run", "--runs", str(runs)])
    assert done.exit_code == 1 and "no run 'no-such-run'" in done.stderr


def test_training_section_only_for_runs_whose_plans_came_from_the_adapter():
    def meta(source: str) -> RunMeta:
        return META.model_copy(update={"source": source})

    shipped = for_run(meta("model"))
    assert shipped.adapter == "lora_adapter/" and shipped.steps and shipped.dtype
    assert shipped.loss_chart == "loss.png" and len(shipped.loss_curve) == shipped.steps
    assert for_run(meta("reference")) is None
    assert for_run(meta("model-base-fewshot4")) is None
    assert for_run(meta("model-adapter:other-fewshot0")) is None
    assert for_run(meta("model-fewshot4")).adapter == "lora_adapter/"
