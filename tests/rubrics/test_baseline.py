"""The regression gate on recorded scores: each case compared once, the run's outcome made of the same verdicts."""

from __future__ import annotations

import json

from rubrics.baseline import (Baseline, Change, case_failure, changes, gated, load_baseline, obtained_path,
                              save_baseline, settle)
from rubrics.score import Scores

from recorded_scores import scored


def held(**cases: tuple[int, int, int | None]) -> dict[str, Scores]:
    return {cid: Scores(plan=p, safe=s, answer=a) for cid, (p, s, a) in cases.items()}


def test_changes_name_the_dimension_and_both_scores_and_skip_unscored_sides():
    worse, better = changes(Scores(plan=2, safe=2, answer=None), Scores(plan=1, safe=2, answer=2))
    assert worse == [Change("plan", 2, 1)] and better == []
    dim, old, new = worse[0]  # still unpacks as the (dimension, baseline, now) tuples the web UI reads
    assert (dim, old, new) == ("plan", 2, 1)


def test_a_case_fails_when_missing_or_below_its_baseline_and_only_then():
    base = Baseline(sources={"model": held(a=(2, 2, 2), b=(2, 2, 1))})
    flags = dict(update=False, include_uninformative=False)
    assert case_failure(base, scored("a", 2, 2, 2), **flags) is None
    assert case_failure(base, scored("b", 2, 2, 2), **flags) is None  # better passes
    down = case_failure(base, scored("a", 2, 1, 0), **flags)
    assert down is not None and down.known and down.worse == (Change("safe", 2, 1), Change("answer", 2, 0))
    new = case_failure(base, scored("c", 2, 2, 2), **flags)
    assert new is not None and not new.known


def test_what_the_gate_does_not_hold():
    base = Baseline(sources={"model": held(a=(2, 2, 2))})
    worse = scored("a", 0, 0, 0)
    assert case_failure(base, worse, update=True, include_uninformative=False) is None
    assert case_failure(None, worse, update=False, include_uninformative=False) is None
    assert case_failure(base, scored("a", 0, 0, 0, source="noop"), update=False, include_uninformative=False) is None
    quiet = scored("a", 0, 0, 0, uninformative=True)
    assert case_failure(base, quiet, update=False, include_uninformative=False) is None
    assert case_failure(base, quiet, update=False, include_uninformative=True) is not None
    trace = scored("trace-1234abcd", 0, 0, None, source="trace")
    assert gated([trace, worse]) == [worse]


def test_a_new_source_is_written_whole_and_fails_the_run_once(tmp_path):
    results = [scored("a", 2, 2, 2), scored("b", 1, 2, 0)]
    outcome = settle(None, results, update=False, include_uninformative=False)
    assert outcome.fails_once and outcome.changed and outcome.obtained is None
    path = tmp_path / "baseline.json"
    assert outcome.save(path) == [path]
    assert load_baseline(path).sources == {"model": held(a=(2, 2, 2), b=(1, 2, 0))}
    again = settle(load_baseline(path), results, update=False, include_uninformative=False)
    assert not again.fails_once and not again.changed and again.save(path) == []


def test_a_regression_writes_the_obtained_scores_and_keeps_the_baseline(tmp_path):
    path = tmp_path / "baseline.json"
    save_baseline(Baseline(sources={"model": held(a=(2, 2, 2)), "noop": held(a=(2, 2, 0))}), path)
    before = path.read_text()
    results = [scored("a", 2, 2, 0), scored("new", 2, 2, 2), scored("quiet", 0, 0, 0, uninformative=True)]
    outcome = settle(load_baseline(path), results, update=False, include_uninformative=False)
    assert [(v.result.case_id, v.known, v.worse) for v in outcome.verdicts] == [
        ("a", True, (Change("answer", 2, 0),)), ("new", False, ())]
    assert not outcome.fails_once
    assert outcome.save(path) == [path, obtained_path(path)]
    after = json.loads(path.read_text())
    assert after["sources"]["model"]["a"] == {"plan": 2, "safe": 2, "answer": 2}  # the regression is not accepted
    assert after["sources"]["model"]["new"] == {"plan": 2, "safe": 2, "answer": 2}  # the missing case is recorded
    assert after["sources"]["noop"] == json.loads(before)["sources"]["noop"]
    assert set(load_baseline(obtained_path(path)).sources["model"]) == {"a", "new"}


def test_update_rewrites_the_run_entries_and_fails_nothing(tmp_path):
    path = tmp_path / "baseline.json"
    save_baseline(Baseline(sources={"model": held(a=(2, 2, 2), gone=(2, 2, 2))}), path)
    outcome = settle(load_baseline(path), [scored("a", 2, 2, 0)], update=True, include_uninformative=False)
    assert not outcome.fails_once and outcome.obtained is None
    outcome.save(path)
    assert load_baseline(path).sources["model"] == held(a=(2, 2, 0), gone=(2, 2, 2))
    assert not obtained_path(path).exists()


def test_nothing_gated_settles_nothing():
    assert settle(None, [scored("q", 2, 2, 2, uninformative=True)], update=False, include_uninformative=False) is None
