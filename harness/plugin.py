"""The pytest plugin: one test per eval case, scored in the sandbox, gated by a baseline.

Named by the root ``conftest.py``.  Options (group "fenrir")::

    --suite static|dynamic|all|PATH[,..]   which cases (default all)
    --agent reference|noop|model          the plan source (default reference)
    --plans FILE.jsonl                    plans from a file instead
    --update-baseline                     rewrite results/baseline.json for this source
    --run-id ID                           resume (or name) a run under results/runs/
    --trace-runs N                        also score the latest N runs of logs/trace.jsonl
    --base-model ID|DIR, --offload DIR, --max-memory SIZE
                                          with --agent model: another base, loaded offloaded to disk
    --include-uninformative               count uninformative cases in means and the gate

Workers score cases and attach each CaseResult to its report; only the
controller (``not hasattr(config, "workerinput")``) merges them, writes the
baseline and renders the reports.  Per-case artifacts on disk are the source
of truth, so a dead worker loses no finished case and a rerun resumes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from filelock import FileLock

from harness.errors import SuiteError
from harness.report import Means, counted, render_run
from harness.runner import RESULTS, Evaluator, RunMeta, RunStore, await_review, new_run_id, start_run
from rubrics.baseline import Baseline, changes, load_baseline, save_baseline
from rubrics.result import CaseResult
from rubrics.suite import Case, Kind, resolve_suites

RESULT_PROPERTY = "fenrir_result"
TRACE_SUITE = "dynamic"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("fenrir", "Fenrir eval (tests/eval)")
    g.addoption("--suite", default="all", help="static, dynamic, all, or a suite YAML path (comma-separated).")
    g.addoption("--agent", default="reference", choices=("reference", "noop", "model"),
                help="Plan source to score (default: reference, the oracle).")
    g.addoption("--plans", default=None, metavar="FILE.jsonl", help="Score plans from a JSONL file instead.")
    g.addoption("--update-baseline", action="store_true", help="Rewrite the baseline for this plan source.")
    g.addoption("--run-id", default=None, help="Run id under results/runs/ (reuse one to resume).")
    g.addoption("--baseline", default=str(RESULTS / "baseline.json"), help="Baseline file.")
    g.addoption("--trace-runs", type=int, default=0, metavar="N",
                help="Also score the latest N runs from logs/trace.jsonl (dynamic eval).")
    g.addoption("--no-reports", action="store_true", help="Do not render results/*.md.")
    g.addoption("--include-uninformative", action="store_true",
                help="Count uninformative cases (the reference prints nothing and changes nothing) in the means "
                     "and the gate; by default they are scored, listed and left out.")
    g.addoption("--fewshot", type=int, default=None, metavar="K",
                help="With --agent model: in-context examples (default: the agent's measured best).")
    g.addoption("--adapter", default=None, metavar="DIR|none",
                help="With --agent model: a LoRA adapter, or 'none' for the base alone (default: ./lora_adapter if present).")
    g.addoption("--base-model", default=None, metavar="ID|DIR",
                help="With --agent model: a Hugging Face model id or local folder (default: the embedded SmolLM2).")
    g.addoption("--offload", default=None, metavar="DIR",
                help="With --agent model: offload what does not fit in memory to disk under DIR "
                     "(default: $FENRIR_OFFLOAD).")
    g.addoption("--max-memory", default=None, metavar="SIZE",
                help="With --agent model: most memory the base's weights may take, e.g. 2GiB; the rest is offloaded "
                     "(default: $FENRIR_MAX_MEMORY).")
    g.addoption("--no-context", action="store_true",
                help="With --agent model: do not give the agent the listing of the case's fixture.")
    g.addoption("--no-check", action="store_true",
                help="With --agent model: the greedy plan, without running candidates in the sandbox.")
    g.addoption("--candidates", type=int, default=None, metavar="N",
                help="With --agent model: candidate plans per case to check (default: the agent's).")


@dataclass(eq=False)  # registered as a plugin: must stay hashable
class _Controller:
    """Controller-side state; registered as a plugin to receive every worker's reports."""

    results: list[CaseResult] = field(default_factory=list)
    missing_source: bool = False

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY:
                self.results.append(CaseResult.model_validate_json(value))


CONTROLLER = pytest.StashKey[_Controller]()
SESSION = pytest.StashKey["EvalSession"]()


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if _is_controller(config):
        if not config.getoption("--run-id"):
            config.option.run_id = new_run_id()
        config.stash[CONTROLLER] = _Controller()
        config.pluginmanager.register(config.stash[CONTROLLER], "fenrir-controller")
    else:
        config.option.run_id = config.workerinput["fenrir_run_id"]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist: every worker scores into the controller's run."""
    node.workerinput["fenrir_run_id"] = node.config.getoption("--run-id")


def _selected(config: pytest.Config) -> list[tuple[str, Case]]:
    return [(s.suite, c) for s in resolve_suites(config.getoption("--suite")) for c in s.cases]


def _trace_rows(config: pytest.Config) -> list:
    n = config.getoption("--trace-runs")
    if n <= 0:
        return []
    from agent.trace import TraceRecord
    from harness.paths import trace_path

    path = trace_path()
    if not path.exists():
        return []
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()][-n:]
    return [TraceRecord.model_validate_json(ln) for ln in lines]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "fenrir_case" in metafunc.fixturenames:
        try:
            cases = _selected(metafunc.config)
        except SuiteError as exc:
            raise pytest.UsageError(str(exc)) from None
        metafunc.parametrize("fenrir_case", cases, ids=[c.id for _, c in cases])
    if "fenrir_trace_row" in metafunc.fixturenames:
        rows = _trace_rows(metafunc.config)
        metafunc.parametrize("fenrir_trace_row", rows, ids=[trace_id(r.request, r.plan_text) for r in rows])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without --trace there are no trace rows: drop the empty parametrisation quietly."""
    if config.getoption("--trace-runs") > 0 and _trace_rows(config):
        return
    keep, drop = [], []
    for item in items:
        (drop if "fenrir_trace_row" in getattr(item, "fixturenames", ()) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def trace_id(request: str, plan_text: str) -> str:
    import hashlib

    return "trace-" + hashlib.sha256(f"{request}\0{plan_text}".encode()).hexdigest()[:8]


class EvalSession:
    """One per process: the run's store, evaluator, plan source and baseline."""

    def __init__(self, config: pytest.Config):
        from harness.sources import make_source

        self.config = config
        self.store = RunStore(config.getoption("--run-id"))
        cases = [c for _, c in _selected(config)]
        offload = config.getoption("--offload") or os.environ.get("FENRIR_OFFLOAD") or None
        max_memory = config.getoption("--max-memory") or os.environ.get("FENRIR_MAX_MEMORY") or None
        self.source = make_source(config.getoption("--agent"), config.getoption("--plans"), cases, self.store.dir,
                                  config.getoption("--fewshot"), config.getoption("--adapter"),
                                  not config.getoption("--no-context"), not config.getoption("--no-check"),
                                  config.getoption("--candidates"), base_model=config.getoption("--base-model"),
                                  offload=offload, max_memory=max_memory)
        self.meta = self._meta()
        self.evaluator = Evaluator(self.store, self.meta)
        self.baseline = load_baseline(Path(config.getoption("--baseline")))
        self.cases = {c.id: c for c in cases}

    def _meta(self) -> RunMeta:
        self.store.dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.store.dir / ".lock")):
            if self.store.meta_path.exists():
                meta = self.store.meta()
                if meta.source != self.source.name:
                    raise SuiteError(f"run {meta.run_id} scored plan source {meta.source!r}; "
                                     f"it cannot resume with {self.source.name!r} (use another --run-id)")
                return meta
            return start_run(self.store, self.source.name, self.config.getoption("--suite").split(","))

    def plan_for(self, case: Case) -> str:
        done = self.store.result(case.id)
        if done is not None and done.source == self.source.name and done.case_fingerprint == case.fingerprint:
            return done.plan_text  # resume without asking the model again
        return self.source.plan_for(case)

    def check(self, node: pytest.Item, suite: str, case: Case) -> CaseResult:
        result = self.evaluator.evaluate(suite, case, self.plan_for(case), self.source.name)
        node.user_properties.append((RESULT_PROPERTY, result.model_dump_json()))
        self.gate(result)
        return result

    def gate(self, result: CaseResult) -> None:
        if self.config.getoption("--update-baseline") or self.baseline is None:
            return
        if result.uninformative and not self.config.getoption("--include-uninformative"):
            return  # any silent plan matches its reference: its score says nothing to hold
        known = self.baseline.sources.get(self.source.name)
        if known is None:
            return  # the controller writes it and fails the run once
        if result.case_id not in known:
            pytest.fail(f"no baseline for case {result.case_id} (agent {self.source.name}); "
                        f"recorded it in {self.config.getoption('--baseline')} - run again", pytrace=False)
        worse, _ = changes(known[result.case_id], result.scores)
        if worse:
            lines = [f"regression in {result.suite}/{result.case_id} (agent {self.source.name}):"]
            lines += [f"  {dim}: {old} -> {new}   ({result.judgement.reasons[dim]})" for dim, old, new in worse]
            lines += ["  plan:"] + [f"    {ln}" for ln in result.plan_text.strip().splitlines()]
            lines.append(f"  artifacts: {self.store.case_dir(result.case_id)}")
            pytest.fail("\n".join(lines), pytrace=False)


@pytest.fixture(scope="session")
def fenrir_eval(request: pytest.FixtureRequest) -> EvalSession:
    config = request.config
    if SESSION not in config.stash:
        try:
            config.stash[SESSION] = EvalSession(config)
        except SuiteError as exc:
            pytest.exit(str(exc), returncode=4)
    return config.stash[SESSION]


def score_trace_row(session: EvalSession, row) -> CaseResult:
    """Plan and Safe always; Answer when the request matches a case with a reference."""
    from harness.sources import normalise_prompt

    rid = trace_id(row.request, row.plan_text)
    matched = next((c for c in session.cases.values()
                    if normalise_prompt(c.prompt) == normalise_prompt(row.request)), None)
    if matched is not None:
        case = matched.model_copy(update={"id": rid})
    else:
        # no reference: run on the seed fixture against a plan that changes nothing
        case = Case(id=rid, prompt=row.request, fixtures=["seed"], kind=Kind.OUTPUT, reference="$ true",
                    category="trace")
    result = session.evaluator.evaluate(TRACE_SUITE, case, row.plan_text, "trace")
    if matched is None:
        result = await_review(result)
        from rubrics.overrides import load_overrides

        result = result.with_overrides(load_overrides(session.evaluator.overrides_path))
        session.store.case_dir(rid).joinpath("result.json").write_text(result.model_dump_json(indent=2))
    return result


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not _is_controller(config) or not config.stash[CONTROLLER].results:
        return
    ctl = config.stash[CONTROLLER]
    gated = [r for r in counted(ctl.results, config.getoption("--include-uninformative")) if r.source != "trace"]
    if gated:
        path = Path(config.getoption("--baseline"))
        source = gated[0].source
        update = config.getoption("--update-baseline")
        baseline = load_baseline(path) or Baseline()
        entries = baseline.sources.setdefault(source, {})
        ctl.missing_source = not entries
        missing = [r for r in gated if r.case_id not in entries]
        regressed = [r for r in gated if r.case_id in entries and changes(entries[r.case_id], r.scores)[0]]
        for r in gated if update else missing:
            entries[r.case_id] = r.scores
        if update or missing:
            save_baseline(baseline, path)
        if regressed and not update:
            got = Baseline(sources={source: {r.case_id: r.scores for r in gated}})
            save_baseline(got, path.with_suffix(".obtained.json"))
        if ctl.missing_source and not update:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if not config.getoption("--no-reports"):
        _render(config, ctl.results)


def _render(config: pytest.Config, results: list[CaseResult]) -> None:
    store = RunStore(config.getoption("--run-id"))
    render_run(store, results=store.results() or results,
               include_uninformative=config.getoption("--include-uninformative")).write()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _is_controller(config) or CONTROLLER not in config.stash:
        return
    ctl = config.stash[CONTROLLER]
    if not ctl.results:
        return
    from tabulate import tabulate

    baseline = load_baseline(Path(config.getoption("--baseline")))
    include = config.getoption("--include-uninformative")
    rows, left_out = [], []
    for suite in sorted({r.suite for r in ctl.results}):
        rs = counted([r for r in ctl.results if r.suite == suite], include)
        left_out += [r for r in ctl.results if r.suite == suite and r not in rs]
        m = Means.of(rs, include_uninformative=True)
        means = [f"{v:.2f}" if v is not None else "-" for v in (m.plan, m.safe, m.answer)]
        moved = []
        for r in rs:
            old = baseline.sources.get(r.source, {}).get(r.case_id) if baseline else None
            if old is None:
                continue
            worse, better = changes(old, r.scores)
            moved += [f"{r.case_id}.{d} {a}->{b}" for d, a, b in worse + better]
        rows.append((suite, len(rs), *means, ", ".join(moved) or "-"))
    tr = terminalreporter
    tr.section("fenrir eval")
    tr.write_line(f"source: {ctl.results[0].source}   run: results/runs/{config.getoption('--run-id')}")
    tr.write_line(tabulate(rows, headers=("suite", "cases", "plan", "safe", "answer", "changes vs baseline")))
    if left_out:
        ids = ", ".join(r.case_id for r in left_out[:10]) + (" ..." if len(left_out) > 10 else "")
        tr.write_line(f"{len(left_out)} uninformative case(s) scored but left out of the means and the gate "
                      f"(--include-uninformative counts them): {ids}")
    if ctl.missing_source and not config.getoption("--update-baseline"):
        tr.write_line(f"baseline for {ctl.results[0].source!r} was missing: written to "
                      f"{config.getoption('--baseline')}; the run fails once - run again.", red=True)
