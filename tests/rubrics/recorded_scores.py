"""Scored cases as recorded data, for the pure tests of the means and the gate (no Docker, no model)."""

from __future__ import annotations

from rubrics.result import CaseResult
from rubrics.score import Judgement, Scores


def scored(case_id: str, plan: int, safe: int, answer: int | None, *, source: str = "model", suite: str = "static",
           uninformative: bool = False) -> CaseResult:
    """A CaseResult with the given automatic scores."""
    judgement = Judgement(scores=Scores(plan=plan, safe=safe, answer=answer),
                          reasons={"plan": "p", "safe": "s", "answer": "a"}, variants=[])
    return CaseResult(run_id="r", suite=suite, case_id=case_id, prompt=f"do {case_id}", source=source,
                      plan_text=f"$ {case_id}\n", plan_sha256="0" * 64, case_fingerprint="f", judgement=judgement,
                      uninformative=uninformative)
