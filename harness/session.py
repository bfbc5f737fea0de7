"""One eval run as the pytest plugin drives it: which cases, which plans, their scores, the gate, the summary.

The plugin (``harness/plugin.py``) only parses options, calls these functions
from its hooks and fixtures, and turns their answers into pytest outcomes.
What runs where:

* every process: :func:`select` (the cases of ``--suite``, each fixture it
  names checked at collection) and :func:`trace_rows`;
* each process that runs tests (each xdist worker, or the only process): one
  :class:`EvalSession`, which opens the run (:func:`open_run`), plans, scores
  and gates each case (:meth:`EvalSession.failure`);
* the controller, once, after every test: :func:`finish` (the baseline's
  :class:`~rubrics.baseline.Outcome`, written), :func:`summary` and
  :func:`render`.

Per-case artifacts on disk are the source of truth, so a dead worker loses no
finished case and a rerun with the same ``--run-id`` resumes.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from tabulate import tabulate

from agent.trace import TraceRecord
from harness.atomic import write_text
from harness.errors import FixtureError, SuiteError
from harness.paths import overrides_path, results_dir, trace_path
from harness.report import render_run
from harness.runner import Evaluator, RunMeta, RunStore, await_review, start_run
from harness.sources import PlanSource, make_source, normalise_prompt
from rubrics.baseline import Baseline, Outcome, case_failure, load_baseline, settle
from rubrics.dimensions import DIMENSIONS
from rubrics.means import Means, counted
from rubrics.overrides import load_overrides
from rubrics.result import CaseResult
from rubrics.suite import Case, Kind, resolve_suites
from sandbox.fixture import find_spec
from sandbox.records import Runtime
from sandbox.runtimes import require_runtime

TRACE_SUITE = "dynamic"
"""The suite trace rows are reported under."""


@dataclass(frozen=True)
class Options:
    """The eval's options, as the plugin read them from the command line."""

    run_id: str
    """The run (folder under results/runs/); reusing one resumes it."""
    suite: str = "all"
    """static, dynamic, all, or suite YAML paths (comma-separated)."""
    agent: str = "reference"
    """The plan source: reference, noop or model."""
    plans: str | None = None
    """A JSONL file of plans to score instead of --agent."""
    baseline: Path | None = None
    """The baseline file (None: baseline.json in the results folder)."""
    update_baseline: bool = False
    """Rewrite the baseline entries of this run instead of gating against them."""
    include_uninformative: bool = False
    """Count uninformative cases in the means and the gate."""
    reports: bool = True
    """Render results/*.md and scores.png at the end."""
    fewshot: int | None = None
    """With --agent model: in-context examples (None: the agent's default)."""
    adapter: str | None = None
    """With --agent model: a LoRA adapter folder, or 'none' (None: the shipped one)."""
    base_model: str | None = None
    """With --agent model: another base model (None: the embedded SmolLM2)."""
    offload: str | None = None
    """With --agent model: offload folder."""
    max_memory: str | None = None
    """With --agent model: most memory the base's weights may take."""
    context: bool = True
    """With --agent model: give the agent the listing of the case's fixture."""
    check: bool = True
    """With --agent model: run candidate plans in the sandbox and keep the one most agree on."""
    candidates: int | None = None
    """With --agent model: candidates to check (None: the agent's default)."""
    runtime: Runtime = "runc"
    """The OCI runtime plans run under (runsc: gVisor)."""

    @property
    def baseline_path(self) -> Path:
        return self.baseline if self.baseline is not None else results_dir() / "baseline.json"


# --- collection (every process) ------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def select(selector: str) -> tuple[tuple[str, Case], ...]:
    """(suite, case) for every case ``selector`` names, every fixture they use checked to exist and parse.

    SuiteError names the suite, the case and the fixture, and the fix, so a bad suite stops
    the run at collection, before anything is created."""
    suites = resolve_suites(selector)
    checked: dict[str, str | None] = {}
    for suite in suites:
        for case in suite.cases:
            for name in case.fixtures:
                if name not in checked:
                    try:
                        find_spec(name)
                        checked[name] = None
                    except FixtureError as exc:
                        checked[name] = str(exc)
                if checked[name] is not None:
                    raise SuiteError(f"suite {suite.suite}, case {case.id}: {checked[name]}; "
                                     f"fix the case's 'fixtures:' or add fixtures/{name}.yaml")
    return tuple((s.suite, c) for s in suites for c in s.cases)


def trace_rows(n: int) -> list[TraceRecord]:
    """The latest ``n`` rows of the agent's run log (none when it does not exist)."""
    path = trace_path()
    if n <= 0 or not path.exists():
        return []
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()][-n:]
    return [TraceRecord.model_validate_json(ln) for ln in lines]


def trace_id(request: str, plan_text: str) -> str:
    """The case id of a trace row: the same request and plan always get the same id."""
    return "trace-" + hashlib.sha256(f"{request}\0{plan_text}".encode()).hexdigest()[:8]


# --- the run (each process that runs tests) -----------------------------------------------------------
def resume_hint(source: str) -> str:
    """The options that give plan source ``source`` again."""
    if source.startswith("plans:"):
        return f"--plans {source.removeprefix('plans:')}"
    if source.startswith("model"):
        return "--agent model with the options that run used"
    return f"--agent {source}"


def open_run(store: RunStore, source: str, suites: list[str], runtime: Runtime = "runc") -> RunMeta:
    """The run's metadata: resumed when ``store`` exists and scored the same plan source under the same
    runtime, else started.

    Starting needs the sandbox image (built if missing): with no Docker engine it raises
    SandboxUnavailable before anything is written.  SuiteError when the run scored another
    source or ran under another runtime.  xdist workers open runs one at a time (a lock beside the
    run folders, so a run that cannot start leaves no folder behind)."""
    store.dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(store.dir.parent / ".open.lock")):
        if not store.meta_path.exists():
            return start_run(store, source, suites, runtime)
        meta = store.meta()
    if meta.source != source:
        raise SuiteError(f"run {meta.run_id} was scored with plan source {meta.source!r} ({store.meta_path}); "
                         f"it cannot resume with {source!r}. Pass a new --run-id (or none, for a fresh one), "
                         f"or resume it with {resume_hint(meta.source)}")
    if meta.runtime != runtime:
        raise SuiteError(f"run {meta.run_id} ran its plans under {meta.runtime} ({store.meta_path}); it cannot "
                         f"resume under {runtime}. Pass a new --run-id (or none, for a fresh one), or resume it "
                         f"with --runtime {meta.runtime}")
    return meta


class EvalSession:
    """One per process that runs tests: the run's store, plan source, evaluator and baseline."""

    def __init__(self, options: Options):
        self.options = options
        self.store = RunStore(options.run_id)
        self.cases = {c.id: c for _, c in select(options.suite)}
        self.source: PlanSource = make_source(
            options.agent, options.plans, list(self.cases.values()), self.store.dir, options.fewshot,
            options.adapter, options.context, options.check, options.candidates, base_model=options.base_model,
            offload=options.offload, max_memory=options.max_memory)
        # a malformed baseline or overrides file stops the run before it starts, not once per case
        self.baseline: Baseline | None = load_baseline(options.baseline_path)
        load_overrides(overrides_path())
        if options.runtime != "runc":  # one message before the run starts, not at the first case
            require_runtime(options.runtime)
        self.meta = open_run(self.store, self.source.name, options.suite.split(","), options.runtime)
        self.evaluator = Evaluator(self.store, self.meta)

    def plan_for(self, case: Case) -> str:
        done = self.store.result(case.id)
        if done is not None and done.source == self.source.name and done.case_fingerprint == case.fingerprint:
            return done.plan_text  # resume without asking the model again
        return self.source.plan_for(case)

    def evaluate(self, suite: str, case: Case) -> CaseResult:
        """The plan source's plan for ``case``, scored (or read back when the run already scored it)."""
        return self.evaluator.evaluate(suite, case, self.plan_for(case), self.source.name)

    def failure(self, result: CaseResult) -> str | None:
        """Why ``result`` fails the gate (missing from the baseline, or below it), or None when it passes."""
        found = case_failure(self.baseline, result, update=self.options.update_baseline,
                             include_uninformative=self.options.include_uninformative)
        if found is None:
            return None
        if not found.known:
            return (f"no baseline for case {result.case_id} (agent {result.source}); "
                    f"recorded it in {self.options.baseline_path} - run again")
        lines = [f"regression in {result.suite}/{result.case_id} (agent {result.source}):"]
        lines += [f"  {c.dimension}: {c.baseline} -> {c.now}   ({result.judgement.reasons[c.dimension]})"
                  for c in found.worse]
        lines += ["  plan:"] + [f"    {ln}" for ln in result.plan_text.strip().splitlines()]
        lines.append(f"  artifacts: {self.store.case_dir(result.case_id)}")
        return "\n".join(lines)

    def score_trace(self, row: TraceRecord) -> CaseResult:
        """Plan and Safe always; Answer when the request matches a case with a reference, else left to a person."""
        rid = trace_id(row.request, row.plan_text)
        matched = next((c for c in self.cases.values()
                        if normalise_prompt(c.prompt) == normalise_prompt(row.request)), None)
        if matched is not None:
            case = matched.model_copy(update={"id": rid})
        else:
            # no reference: run on the seed fixture against a plan that changes nothing
            case = Case(id=rid, prompt=row.request, fixtures=["seed"], kind=Kind.OUTPUT, reference="$ true",
                        category="trace")
        result = self.evaluator.evaluate(TRACE_SUITE, case, row.plan_text, "trace")
        if matched is None:
            result = await_review(result).with_overrides(load_overrides(self.evaluator.overrides_path))
            write_text(self.store.case_dir(rid) / "result.json", result.model_dump_json(indent=2))
        return result

    def harm(self, result: CaseResult) -> str:
        """What a trace row's Safe 0 means, with the plan and where its artifacts are."""
        lines = [f"trace row {result.case_id} ({result.prompt!r}): Safe 0 ({result.judgement.reasons['safe']}); "
                 f"the agent logged a plan that harms the fixture:"]
        lines += [f"    {ln}" for ln in result.plan_text.strip().splitlines()]
        lines.append(f"  artifacts: {self.store.case_dir(result.case_id)}")
        return "\n".join(lines)


# --- the end of the run (the controller, once) -----------------------------------------------------------
def finish(results: list[CaseResult], options: Options) -> Outcome | None:
    """The run against the baseline, decided once; the baseline (and obtained scores) written."""
    outcome = settle(load_baseline(options.baseline_path), results, update=options.update_baseline,
                     include_uninformative=options.include_uninformative)
    if outcome is not None:
        outcome.save(options.baseline_path)
    return outcome


def summary(results: list[CaseResult], outcome: Outcome | None, options: Options) -> list[str]:
    """The terminal summary: per suite, cases, means and changes against the baseline the run was held to."""
    include = options.include_uninformative
    moved = {v.result.case_id: [f"{v.result.case_id}.{c.dimension} {c.baseline}->{c.now}"
                                for c in v.worse + v.better] for v in (outcome.verdicts if outcome else ())}
    rows, left_out = [], []
    for suite in sorted({r.suite for r in results}):
        rs = counted([r for r in results if r.suite == suite], include)
        left_out += [r for r in results if r.suite == suite and r not in rs]
        m = Means.of(rs, include_uninformative=True)
        means = [f"{v:.2f}" if v is not None else "-" for v in map(m.get, DIMENSIONS)]
        changes = [text for r in rs for text in moved.get(r.case_id, [])]
        rows.append((suite, len(rs), *means, ", ".join(changes) or "-"))
    lines = [f"source: {results[0].source}   run: {RunStore(options.run_id).dir}",
             tabulate(rows, headers=("suite", "cases", *DIMENSIONS, "changes vs baseline"))]
    if left_out:
        ids = ", ".join(r.case_id for r in left_out[:10]) + (" ..." if len(left_out) > 10 else "")
        lines.append(f"{len(left_out)} uninformative case(s) scored but left out of the means and the gate "
                     f"(--include-uninformative counts them): {ids}")
    return lines + engine_lines(results)


def _ids(results: list[CaseResult]) -> str:
    return ", ".join(r.case_id for r in results[:10]) + (" ..." if len(results) > 10 else "")


def engine_lines(results: list[CaseResult]) -> list[str]:
    """Where the cases ran, when on more than one engine, and the infrastructure retries, when there were any."""
    per_engine = Counter(r.engine for r in results if r.engine)
    lines = []
    if len(per_engine) > 1:
        lines.append("engines: " + ", ".join(f"{e} {n} case(s)" for e, n in sorted(per_engine.items())))
    retried = [r for r in results if r.retries]
    if retried:
        count = sum(len(r.retries) for r in retried)
        lost = sorted({t.engine for r in retried for t in r.retries})
        lines.append(f"{count} infrastructure retr{'y' if count == 1 else 'ies'} in {len(retried)} case(s): "
                     f"engine {', '.join(lost)} lost; their work was done again on the remaining engines and "
                     f"scored there, never as a failure of the plan: {_ids(retried)}")
    return lines


def missing_baseline_line(outcome: Outcome | None, options: Options) -> str | None:
    """The line that says why a run whose source had no baseline fails once, or None."""
    if outcome is None or not outcome.fails_once:
        return None
    return (f"baseline for {outcome.source!r} was missing: written to {options.baseline_path}; "
            f"the run fails once - run again.")


def render(results: list[CaseResult], options: Options) -> list[Path]:
    """The run's eval tables, report and chart in the results folder (from its saved cases when it has them)."""
    store = RunStore(options.run_id)
    return render_run(store, results_dir(), results=store.results() or results,
                      include_uninformative=options.include_uninformative).write()
