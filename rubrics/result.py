"""A scored case: the automatic judgement, the overrides, the effective scores."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from rubrics.overrides import Applied, Override, applicable
from rubrics.score import Judgement, Scores


class InfraRetry(BaseModel):
    """Work of a case that failed because its Docker engine was lost, and was done again on another engine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: str
    """The engine that was lost (its endpoint, as FENRIR_ENGINES names it)."""
    error: str
    """What failed there."""


class CaseResult(BaseModel):
    """Everything the reports and the regression gate need about one case in one run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    """The eval run."""
    suite: str
    """Suite name (static, dynamic, ...)."""
    case_id: str
    """Case id, or 'trace-<sha8>' for a row from logs/trace.jsonl."""
    prompt: str
    """The request."""
    source: str
    """Where the plan came from: reference, noop, plans:FILE, model, trace."""
    plan_text: str
    """The plan exactly as scored."""
    plan_sha256: str
    """Its sha256: the key for overrides and the execution cache."""
    case_fingerprint: str
    """Hash of the case definition the scores were computed against."""
    judgement: Judgement
    """The automatic scores and reasons."""
    overrides: list[Applied] = []
    """Human overrides bearing on this plan (stale ones are listed, not applied)."""
    uninformative: bool = False
    """The reference prints nothing and changes nothing (or the case says so): scored, but left out of means
    and the gate by default."""
    engine: str | None = None
    """The Docker engine (its endpoint) the case's plans ran on, or would have run on when every execution came
    from the execution cache (which all engines share); scores do not depend on it.  None in results saved
    before engines were recorded."""
    retries: list[InfraRetry] = []
    """Infrastructure retries: the engines lost while this case ran, whose work was done again on another
    engine.  Never part of the scores."""

    @property
    def automatic(self) -> Scores:
        return self.judgement.scores

    @property
    def scores(self) -> Scores:
        """The effective scores: automatic, with current (non-stale) overrides applied."""
        values = self.automatic.model_dump()
        for a in self.overrides:
            if not a.stale:
                values[a.override.dimension] = a.override.score
        return Scores(**values)

    @property
    def overridden(self) -> list[str]:
        return sorted(a.override.dimension for a in self.overrides if not a.stale)

    @property
    def stale(self) -> list[Override]:
        return [a.override for a in self.overrides if a.stale]

    def with_overrides(self, overrides: list[Override]) -> "CaseResult":
        return self.model_copy(update={"overrides": applicable(overrides, self.case_id, self.plan_sha256)})
