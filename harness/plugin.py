"""The pytest plugin: one test per eval case, scored in the sandbox, gated by a baseline.

Named by the root ``conftest.py``.  Options (group "fenrir")::

    --suite static|dynamic|all|PATH[,..]   which cases (default all)
    --agent reference|noop|model          the plan source (default reference)
    --plans FILE.jsonl                    plans from a file instead
    --update-baseline                     rewrite results/baseline.json for this source
    --run-id ID                           resume (or name) a run under results/runs/
    --engines URL[,URL...]                Docker engines (FENRIR_ENGINES), xdist workers bound round-robin
    --trace-runs N                        also score the latest N runs of logs/trace.jsonl
    --base-model ID|DIR, --offload DIR, --max-memory SIZE
                                          with --agent model: another base, loaded offloaded to disk
    --include-uninformative               count uninformative cases in means and the gate
    --runtime runc|runsc                  the containers' OCI runtime (default $FENRIR_RUNTIME, else runc)

Options, hooks and fixtures only: what they do is in ``harness/session.py``.
Workers score cases and attach each CaseResult to its report; only the
controller (``not hasattr(config, "workerinput")``) merges them, settles the
baseline and renders the reports.

A failure that no case can get past (a suite naming an unknown fixture, no
Docker engine, a run id that scored another plan source, a malformed baseline or
overrides file) ends the run with one message: at collection for the suite, else
when the first test opens the run (``session.shouldstop`` carries the message to
the xdist controller, which prints it as the reason the run was interrupted).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import EngineConfigError, FenrirError, SandboxUnavailable, SuiteError
from harness.runner import RunStore, new_run_id
from harness.session import EvalSession, Options, finish, missing_baseline_line, render, select, summary, \
    trace_id, trace_rows
from rubrics.baseline import Outcome
from rubrics.result import CaseResult
from sandbox.endpoints import VARIABLE, configured, parse_engines
from sandbox.records import RUNTIMES

RESULT_PROPERTY = "fenrir_result"
"""The user property a test records its CaseResult (JSON) under, for the controller to merge."""

class _Collector:
    """Registered on the controller only: merges every worker's results (user properties survive the trip)."""

    def __init__(self) -> None:
        self.results: list[CaseResult] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY:
                self.results.append(CaseResult.model_validate_json(value))


COLLECTOR = pytest.StashKey[_Collector]()
OUTCOME = pytest.StashKey["Outcome | None"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("fenrir", "Fenrir eval (tests/eval)")
    g.addoption("--suite", default="all", help="static, dynamic, all, or a suite YAML path (comma-separated).")
    g.addoption("--agent", default="reference", choices=("reference", "noop", "model"),
                help="Plan source to score (default: reference, the oracle).")
    g.addoption("--plans", default=None, metavar="FILE.jsonl", help="Score plans from a JSONL file instead.")
    g.addoption("--update-baseline", action="store_true", help="Rewrite the baseline for this plan source.")
    g.addoption("--run-id", default=None, help="Run id under results/runs/ (reuse one to resume).")
    g.addoption("--engines", default=None, metavar="URL[,URL...]",
                help=f"Docker engines to run plans on, home first (sets {VARIABLE}): unix:///path, tcp://host:port "
                     f"or ssh://user@host; xdist workers are bound to them round-robin, a lost engine's cases move "
                     f"to the others (default: ${VARIABLE}, else DOCKER_HOST or the default socket).")
    g.addoption("--baseline", default=None, help="Baseline file (default: baseline.json in the results folder).")
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
    g.addoption("--runtime", default=None, choices=RUNTIMES,
                help="OCI runtime of the sandbox containers: runsc is gVisor, which the engine must have "
                     "('fenrir sandbox doctor'); default: $FENRIR_RUNTIME, else runc.")


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def _options(config: pytest.Config) -> Options:
    get = config.getoption
    return Options(run_id=get("--run-id"), suite=get("--suite"), agent=get("--agent"), plans=get("--plans"),
                   baseline=Path(get("--baseline")) if get("--baseline") else None,
                   update_baseline=get("--update-baseline"), include_uninformative=get("--include-uninformative"),
                   reports=not get("--no-reports"), fewshot=get("--fewshot"),
                   adapter=get("--adapter"), base_model=get("--base-model"),
                   offload=get("--offload") or os.environ.get("FENRIR_OFFLOAD") or None,
                   max_memory=get("--max-memory") or os.environ.get("FENRIR_MAX_MEMORY") or None,
                   context=not get("--no-context"), check=not get("--no-check"), candidates=get("--candidates"),
                   runtime=get("--runtime") or os.environ.get("FENRIR_RUNTIME") or "runc")


def _engines(config: pytest.Config) -> None:
    """--engines becomes FENRIR_ENGINES (the sandbox reads it; xdist workers inherit it); either is checked now."""
    engines = config.getoption("--engines")
    try:
        if engines is not None:
            parse_engines(engines, "--engines")
            os.environ[VARIABLE] = engines
        configured()
    except EngineConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    _engines(config)
    runtime = os.environ.get("FENRIR_RUNTIME")
    if not config.getoption("--runtime") and runtime and runtime not in RUNTIMES:
        raise pytest.UsageError(f"FENRIR_RUNTIME={runtime!r} is no runtime Fenrir knows: give one of "
                                f"{', '.join(RUNTIMES)} (or unset it: runc)")
    if _is_controller(config):
        if not config.getoption("--run-id"):
            config.option.run_id = new_run_id()
        config.stash[COLLECTOR] = _Collector()
        config.pluginmanager.register(config.stash[COLLECTOR], "fenrir-collector")
    else:
        config.option.run_id = config.workerinput["fenrir_run_id"]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist: every worker scores into the controller's run."""
    node.workerinput["fenrir_run_id"] = node.config.getoption("--run-id")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if "fenrir_case" in metafunc.fixturenames:
        try:
            cases = select(config.getoption("--suite"))
        except SuiteError as exc:  # one line, no traceback, nothing created
            raise pytest.Collector.CollectError(f"--suite {config.getoption('--suite')}: {exc}") from None
        metafunc.parametrize("fenrir_case", cases, ids=[c.id for _, c in cases])
    if "fenrir_trace_row" in metafunc.fixturenames:
        rows = trace_rows(config.getoption("--trace-runs"))
        metafunc.parametrize("fenrir_trace_row", rows, ids=[trace_id(r.request, r.plan_text) for r in rows])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without --trace-runs there are no trace rows: drop the empty parametrisation quietly."""
    if trace_rows(config.getoption("--trace-runs")):
        return
    keep, drop = [], []
    for item in items:
        (drop if "fenrir_trace_row" in getattr(item, "fixturenames", ()) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _stop(session: pytest.Session, message: str) -> None:
    """End the whole run with ``message``, exit status 2 (interrupted) with or without xdist.

    A worker hands the message to the controller through ``shouldstop``; it must not exit with
    status 2 itself, which xdist reads as a worker killed by Ctrl-C."""
    session.shouldstop = message
    worker = not _is_controller(session.config)
    pytest.exit(message, returncode=pytest.ExitCode.TESTS_FAILED if worker else pytest.ExitCode.INTERRUPTED)


@pytest.fixture(scope="session")
def fenrir_eval(request: pytest.FixtureRequest) -> EvalSession:
    """The run this process scores into (opened by the first test that asks)."""
    try:
        return EvalSession(_options(request.config))
    except SandboxUnavailable as exc:
        _stop(request.session, f"{exc} Nothing was scored and no run folder was made: run 'sh sandbox/engine.sh' "
                               f"(or point DOCKER_HOST or {VARIABLE} at engines that answer), then the same command "
                               f"again.")
    except FenrirError as exc:
        _stop(request.session, str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    """An eval test that hits a Fenrir error fails with its message alone; a lost engine stops the run."""
    if "fenrir_eval" not in pyfuncitem.fixturenames:
        return (yield)
    try:
        return (yield)
    except SandboxUnavailable as exc:
        run = RunStore(pyfuncitem.config.getoption("--run-id"))
        _stop(pyfuncitem.session, f"{exc} The cases scored so far are kept in {run.dir}: rerun with "
                                  f"--run-id {run.run_id} to resume once an engine answers.")
    except FenrirError as exc:
        pytest.fail(str(exc), pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    results = config.stash[COLLECTOR].results if _is_controller(config) else []
    if not results:
        return
    options = _options(config)
    outcome = config.stash[OUTCOME] = finish(results, options)
    if outcome is not None and outcome.fails_once:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if options.reports:
        render(results, options)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash[COLLECTOR].results if _is_controller(config) else []
    if not results:
        return
    options = _options(config)
    outcome = config.stash.get(OUTCOME, None)
    terminalreporter.section("fenrir eval")
    for line in summary(results, outcome, options):
        terminalreporter.write_line(line)
    missing = missing_baseline_line(outcome, options)
    if missing:
        terminalreporter.write_line(missing, red=True)
