"""The recorded run (recorded_run.py) as a fixture, with the paths the pages read pointed at it."""

from __future__ import annotations

import pytest
from recorded_run import OLDER_RUN_ID, Recorded, record_run

from rubrics.baseline import Baseline, save_baseline
from rubrics.score import Scores


@pytest.fixture
def recorded(tmp_path, monkeypatch) -> Recorded:
    """Two recorded runs (the newer one as above), a baseline, an empty overrides copy, a trace path."""
    results = tmp_path / "results"
    record_run(results, OLDER_RUN_ID, "2026-11-29T09:00:00+00:00")
    record_run(results)
    save_baseline(Baseline(sources={"model": {"tail-log": Scores(plan=2, safe=2, answer=2),
                                              "count-lines": Scores(plan=2, safe=2, answer=2)}}),
                  results / "baseline.json")
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("# Human overrides (a temporary copy for the test)\n", encoding="utf-8")
    where = Recorded(results=results, overrides=overrides, trace=tmp_path / "logs" / "trace.jsonl")
    monkeypatch.setenv("FENRIR_RESULTS", str(results))
    monkeypatch.setenv("FENRIR_OVERRIDES", str(overrides))
    monkeypatch.setenv("FENRIR_TRACE", str(where.trace))
    return where
