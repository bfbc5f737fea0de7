"""Plan sources: where the plans being scored come from.

* ``reference``: each case's own reference plan (the oracle: all 2s).
* ``noop``: a plan that does nothing (Answer 0 everywhere).
* ``plans:FILE.jsonl``: ``{"prompt": ..., "plan": ...}`` (or ``"id"`` instead of
  ``"prompt"``) per line, e.g. another model's outputs.
* ``model``: the agent (embedded model or ``--base-model``, optionally offloaded to disk), batched.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from filelock import FileLock

from agent.ask import DEFAULT_CANDIDATES, Agent
from agent.model import load_model
from harness.atomic import write_text
from harness.check import SandboxRunner, check_candidates, second_round
from harness.errors import SuiteError
from harness.grounding import fixture_listing
from rubrics.suite import Case
from sandbox import load_fixture

NOOP_PLAN = "# no-op: changes nothing, prints nothing\n$ true\n"


def normalise_prompt(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s.~*/-]", " ", text.lower()).split())


class PlanSource:
    name = "base"

    def plan_for(self, case: Case) -> str:
        raise NotImplementedError


class ReferenceSource(PlanSource):
    name = "reference"

    def plan_for(self, case: Case) -> str:
        return case.reference


class NoopSource(PlanSource):
    name = "noop"

    def plan_for(self, case: Case) -> str:
        return NOOP_PLAN


class PlansFileSource(PlanSource):
    """Plans read from a JSONL file, matched by case id or by prompt."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = f"plans:{self.path.name}"
        self.by_id: dict[str, str] = {}
        self.by_prompt: dict[str, str] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise SuiteError(f"plans file {self.path} does not exist") from None
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SuiteError(f"plans file {self.path}, line {n}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("plan"), str):
                raise SuiteError(f"plans file {self.path}, line {n}: needs a string field 'plan' "
                                 f"and 'prompt' or 'id'")
            if isinstance(row.get("id"), str):
                self.by_id[row["id"]] = row["plan"]
            elif isinstance(row.get("prompt"), str):
                self.by_prompt[normalise_prompt(row["prompt"])] = row["plan"]
            else:
                raise SuiteError(f"plans file {self.path}, line {n}: needs 'prompt' or 'id' next to 'plan'")

    def plan_for(self, case: Case) -> str:
        plan = self.by_id.get(case.id)
        if plan is None:
            plan = self.by_prompt.get(normalise_prompt(case.prompt))
        if plan is None:
            raise SuiteError(f"plans file {self.path} has no plan for case {case.id} "
                             f"(prompt {case.prompt!r}); add a line with its id or prompt")
        return plan


class ModelSource(PlanSource):
    """The agent, batched over all cases once per run.

    By default the agent is grounded (each case's prompt carries the listing of
    its first fixture variant, as the sandbox holds it) and checked (its
    candidate plans run on that variant and the one most agree on is kept);
    ``context=False`` / ``check=False`` turn either off.  The first process to
    need a plan generates every case's plan and writes them to
    ``<run>/plans.json`` (and the full trace records to ``<run>/agent.jsonl``)
    under a file lock; pytest-xdist workers and resumed runs read that file
    instead of loading the model again.
    """

    def __init__(self, cases: list[Case], run_dir: Path | None = None, fewshot_k: int | None = None,
                 adapter: str | None = None, context: bool = True, check: bool = True,
                 candidates: int | None = None, base_model: str | None = None, offload: str | None = None,
                 max_memory: str | None = None):
        self.cases = cases
        self.run_dir = run_dir
        self.fewshot_k = fewshot_k
        self.context, self.check, self.n = context, check, candidates
        # the source's name keys the baseline: each configuration is gated against itself
        self.name = "model"
        if base_model is not None:
            self.name += f"-base:{Path(base_model).name}"  # offloading changes no plan: not in the name
        if adapter == "none":
            self.name += "-base"
        elif adapter:
            self.name += f"-adapter:{Path(adapter).name}"
        if fewshot_k is not None:
            self.name += f"-fewshot{fewshot_k}"
        if not context:
            self.name += "-nocontext"
        if not check:
            self.name += "-nocheck"
        elif candidates is not None:
            self.name += f"-candidates{candidates}"
        self.load_options = {"use_adapter": False} if adapter == "none" else {"adapter": adapter}
        self.load_options.update(base_model=base_model, offload=offload, max_memory=max_memory)
        self._plans: dict[str, str] | None = None

    def records(self) -> list:
        """Trace records of the agent's plans for ``self.cases`` (grounded and checked as configured)."""
        n = (self.n or DEFAULT_CANDIDATES) if self.check else 1
        agent = Agent(load_model(**self.load_options, fast=True), fewshot_k=self.fewshot_k, candidates=n)
        return agent_records(agent, [c.prompt for c in self.cases], [c.fixtures[0] for c in self.cases],
                             context=self.context, check=self.check)

    def _generate(self) -> dict[str, str]:
        records = self.records()
        if self.run_dir is not None:
            with open(self.run_dir / "agent.jsonl", "a", encoding="utf-8") as fh:
                fh.writelines(r.model_dump_json() + "\n" for r in records)
        return {c.id: r.plan_text for c, r in zip(self.cases, records)}

    def _load(self) -> dict[str, str]:
        if self.run_dir is None:
            return self._generate()
        path = self.run_dir / "plans.json"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):
            plans = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            missing = [c for c in self.cases if c.id not in plans]
            if missing:
                self.cases = missing
                plans.update(self._generate())
                write_text(path, json.dumps(plans, indent=1))
        return plans

    def plan_for(self, case: Case) -> str:
        if self._plans is None:
            self._plans = self._load()
        if case.id not in self._plans:
            raise SuiteError(f"case {case.id} was not among the cases the model planned for")
        return self._plans[case.id]


def agent_records(agent, requests: list[str], fixtures: list[str], context: bool = True,
                  check: bool = True) -> list:
    """The agent's trace records for ``requests``, each about one fixture (a name or YAML path).

    ``context``: the prompt carries the fixture's listing as the sandbox holds
    it; ``check``: the agent's candidates run on the fixture and the result
    most agree on wins (``agent.candidates`` of them; 1 gives the greedy plan).
    """
    loaded = [load_fixture(f) for f in fixtures]
    contexts = [(f.root, fixture_listing(f)) for f in loaded] if context else None
    drafts = agent.draft_many(requests, contexts)
    if not check:
        return [agent.finish(d) for d in drafts]
    records = []
    for fixture, draft in zip(loaded, drafts):
        runner = SandboxRunner(fixture, f"fixture {fixture.name} in the sandbox")
        choice, seconds = check_candidates(draft.candidates, runner, second_round(agent, draft))
        records.append(agent.finish(draft, choice, runner.where, seconds))
    return records


def make_source(agent: str, plans: str | None, cases: list[Case], run_dir: Path | None = None,
                fewshot_k: int | None = None, adapter: str | None = None, context: bool = True,
                check: bool = True, candidates: int | None = None, base_model: str | None = None,
                offload: str | None = None, max_memory: str | None = None) -> PlanSource:
    if plans:
        return PlansFileSource(plans)
    if agent == "reference":
        return ReferenceSource()
    if agent == "noop":
        return NoopSource()
    if agent == "model":
        return ModelSource(cases, run_dir, fewshot_k, adapter, context, check, candidates, base_model, offload,
                           max_memory)
    raise SuiteError(f"unknown plan source {agent!r}; use reference, noop, model or --plans FILE.jsonl")
