"""The eval runner's containers carry its run id (``docker ps --filter label=fenrir.run=RUN_ID``)."""

from __future__ import annotations

from harness.runner import Evaluator, RunMeta, RunStore


def test_an_evaluator_runs_plans_in_a_pool_labelled_with_its_run_id(tmp_path):
    meta = RunMeta(run_id="20250101-000000-abcdef", created="2025-01-01T00:00:00+00:00", epoch=0.0,
                   source="reference", suites=["static"], image="fenrir-sandbox:x", image_digest="sha256:x",
                   programs=[])
    evaluator = Evaluator(RunStore(meta.run_id, root=tmp_path), meta, overrides_path=tmp_path / "none.yaml")
    assert evaluator.sandbox.run_label == "20250101-000000-abcdef"
