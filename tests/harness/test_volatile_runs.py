"""A reference whose output changes by itself runs again after the candidate, in the real sandbox."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from harness.runner import Evaluator, RunMeta, RunStore, day_epoch, regrade
from rubrics.suite import Case
from tests.harness.test_cli_judge import fixture, judge  # noqa: F401  (the module's fixture file)

pytestmark = pytest.mark.docker


def _evaluator(tmp_path):
    from sandbox.engine import ensure_image
    from sandbox.programs import programs

    image = ensure_image()
    meta = RunMeta(run_id="volatile", created=datetime.now(timezone.utc).isoformat(), epoch=day_epoch(),
                   source="test", suites=["v"], image=image.tag, image_digest=image.digest,
                   programs=sorted(programs(image)))
    store = RunStore("volatile", root=tmp_path / "runs")
    store.save_meta(meta)
    return Evaluator(store, meta, overrides_path=tmp_path / "no-overrides.yaml")


def test_a_pid_or_a_process_list_scores_2_against_an_equivalent_command(tmp_path):
    ev = _evaluator(tmp_path)
    pid = Case(id="pid", prompt="print the shell's PID", fixtures=["seed"], kind="output", reference="$ echo $$\n")
    assert ev.evaluate("v", pid, '$ echo "$$"\n', "test").scores.answer == 2
    run = ev.store.load_case("pid")[2][0]
    assert run.reference_again is not None and run.reference_again.stdout != run.reference.stdout
    assert ev.store.result("pid").judgement.variants[0].volatile
    # what the reference determines still counts: a word is not a PID, two PIDs are not one
    for i, wrong in enumerate(["$ echo hello\n", "$ echo $$ $$\n"]):
        assert ev.evaluate("v", pid.model_copy(update={"id": f"pid-{i}"}), wrong, "test").scores.answer == 0

    procs = Case(id="ps", prompt="list my processes", fixtures=["seed"], kind="output", reference="$ ps\n")
    assert ev.evaluate("v", procs, "$ ps -u user\n", "test").scores.answer == 2
    # re-scored from the stored executions (no sandbox), the second run still counts
    again = {r.case_id: r.scores.answer for r in regrade("volatile", tmp_path / "no-overrides.yaml",
                                                         root=tmp_path / "runs")}
    assert again == {"pid": 2, "pid-0": 0, "pid-1": 0, "ps": 2}


def test_fenrir_judge_leaves_open_what_changes_when_a_runs_again(fixture):  # noqa: F811
    same = judge("echo $$", 'echo "$$"', "--fixture", fixture)
    assert same.returncode == 0, same.stdout
    assert same.stdout.splitlines()[:2] == [
        "equivalent",
        "  note: A's stdout changed in 1 place(s) when A ran again after B (PIDs, the clock, counters); those were "
        "not compared"]
    assert judge("ps", "ps", "--fixture", fixture).returncode == 0
    other = judge("echo $$", "echo hello", "--fixture", fixture)
    assert other.returncode == 1 and other.stdout.startswith("different\n  first difference: stdout line 1: A '")
