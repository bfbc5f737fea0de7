"""The eval runner: plans in, scored results out, every step kept on disk.

``results/runs/<run_id>/`` is the source of truth::

    run.json                      RunMeta: epoch, image, programs, source
    cases/<case_id>/case.json     the case as scored
    cases/<case_id>/plan.txt      the plan as scored
    cases/<case_id>/executions.json   reference and candidate Execution per variant
    cases/<case_id>/result.json   CaseResult (scores, reasons, overrides)
    images/<digest>.json          programs of a derived image the run used (for the Plan score)

A rerun with the same run id resumes (finished cases are not run again), and
``fenrir regrade RUN_ID`` re-scores the saved executions with neither the
model nor Docker.  Executions are also cached across runs by (image digest,
container version, fixture hash, roots, workdir, epoch, plan, probe, limits) under
``~/.cache/fenrir/executions``.  A case whose fixture (or its own ``image``)
names packages runs in a derived image; its Executions carry that image.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock
from pydantic import BaseModel, ConfigDict

from harness.atomic import write_text
from harness.errors import SuiteError
from harness.paths import cache_dir, overrides_path as default_overrides, results_dir, runs_dir
from rubrics.compare import ARCHIVE_PROBE, silent
from rubrics.overrides import load_overrides
from rubrics.result import CaseResult, InfraRetry
from rubrics.score import Scores, judge, plan_sha256, script_of
from rubrics.suite import Case, Comparator
from sandbox.fleet import Fleet, Served, default_fleet
from sandbox.records import Execution, Limits

EVAL_LIMITS = Limits(timeout=60)


def __getattr__(name: str) -> Path:
    """``RESULTS`` and ``RUNS``, read when asked for (harness.paths), for the modules that still import them.

    Transitional: new code calls ``harness.paths.results_dir()`` / ``runs_dir()`` itself."""
    if name == "RESULTS":
        return results_dir()
    if name == "RUNS":
        return runs_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class RunMeta(BaseModel):
    """What every case of a run shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    """The run's id (folder name)."""
    created: str
    """UTC start time, ISO 8601."""
    epoch: float
    """Time the fixtures' relative mtimes resolve against (UTC midnight of the start day)."""
    source: str
    """Plan source: reference, noop, plans:FILE, model."""
    suites: list[str]
    """The suites selected."""
    image: str
    """Sandbox image tag."""
    image_digest: str
    """Sandbox image id."""
    programs: list[str]
    """Command names available in the image (for the Plan score)."""


class CaseRun(BaseModel):
    """The executions behind one case's scores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fixture: str
    """Fixture variant."""
    root: str
    """Where its tree lives in the sandbox (the first root of a fixture with several)."""
    workdir: str = ""
    """Where the plans ran ('' in runs saved before workdirs existed: the root)."""
    reference: Execution
    """The reference plan's execution."""
    candidate: Execution | None
    """The candidate's, or None when its plan had nothing to run."""


def start_run(store: "RunStore", source: str, suites: list[str]) -> RunMeta:
    """Metadata for a new run on the current sandbox image (built if needed), saved in its folder."""
    from sandbox.engine import ensure_image
    from sandbox.programs import programs

    image = ensure_image()
    meta = RunMeta(run_id=store.run_id, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   epoch=day_epoch(), source=source, suites=suites, image=image.tag,
                   image_digest=image.digest, programs=sorted(programs(image)))
    store.save_meta(meta)
    return meta


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def day_epoch(now: float | None = None) -> float:
    now = time.time() if now is None else now
    return float(int(now // 86400) * 86400)


class RunStore:
    """The on-disk folder of one run."""

    def __init__(self, run_id: str, root: Path | None = None):
        """The run ``run_id`` under ``root`` (default: harness.paths.runs_dir(), read now)."""
        self.run_id = run_id
        self.dir = (root if root is not None else runs_dir()) / run_id

    @property
    def meta_path(self) -> Path:
        return self.dir / "run.json"

    def meta(self) -> RunMeta:
        if not self.meta_path.exists():
            raise SuiteError(f"no run {self.run_id!r} under {self.dir.parent} (run.json missing)")
        return RunMeta.model_validate_json(self.meta_path.read_text(encoding="utf-8"))

    def save_meta(self, meta: RunMeta) -> None:
        write_text(self.meta_path, meta.model_dump_json(indent=2))

    def case_dir(self, case_id: str) -> Path:
        return self.dir / "cases" / case_id

    def result(self, case_id: str) -> CaseResult | None:
        path = self.case_dir(case_id) / "result.json"
        if not path.exists():
            return None
        return CaseResult.model_validate_json(path.read_text(encoding="utf-8"))

    def results(self) -> list[CaseResult]:
        out = []
        for path in sorted((self.dir / "cases").glob("*/result.json")):
            out.append(CaseResult.model_validate_json(path.read_text(encoding="utf-8")))
        return out

    def save_case(self, case: Case, plan_text: str, runs: list[CaseRun], result: CaseResult) -> None:
        d = self.case_dir(result.case_id)
        write_text(d / "case.json", case.model_dump_json(indent=2))
        write_text(d / "plan.txt", plan_text)
        write_text(d / "executions.json", json.dumps([r.model_dump(mode="json") for r in runs], indent=1))
        write_text(d / "result.json", result.model_dump_json(indent=2))

    def save_programs(self, digest: str, names: frozenset[str]) -> None:
        path = self.dir / "images" / f"{digest.replace(':', '-')}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):  # xdist workers and bench threads share a run
            if not path.exists():
                write_text(path, json.dumps(sorted(names)))

    def programs(self, digest: str) -> frozenset[str] | None:
        """The programs of a derived image this run used, or None if it saved none."""
        path = self.dir / "images" / f"{digest.replace(':', '-')}.json"
        return frozenset(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None

    def load_case(self, case_id: str) -> tuple[Case, str, list[CaseRun], CaseResult]:
        d = self.case_dir(case_id)
        case = Case.model_validate_json((d / "case.json").read_text(encoding="utf-8"))
        plan = (d / "plan.txt").read_text(encoding="utf-8")
        runs = [CaseRun.model_validate(r) for r in json.loads((d / "executions.json").read_text(encoding="utf-8"))]
        result = CaseResult.model_validate_json((d / "result.json").read_text(encoding="utf-8"))
        return case, plan, runs, result


class Evaluator:
    """Executes and scores plans for one run (one per process: xdist workers each have their own)."""

    def __init__(self, store: RunStore, meta: RunMeta, overrides_path: Path | None = None):
        self.store, self.meta = store, meta
        self.programs = frozenset(meta.programs)
        self.overrides_path = overrides_path if overrides_path is not None else default_overrides()
        self._sandbox = None

    @property
    def sandbox(self) -> Fleet:
        """The run's pools on the configured engines (FENRIR_ENGINES), this process's bound engine first."""
        if self._sandbox is None:
            self._sandbox = default_fleet(run=self.store.run_id)  # its containers: fenrir.run=RUN_ID
        return self._sandbox

    def execute(self, script: str, fixture_name: str, probe: str | None, packages=(),
                served: list[Served] | None = None) -> Execution:
        """Run once per (image, fixture, roots, workdir, epoch, plan, probe, limits); later calls read the cache.

        An execution that ran (not read from the cache) is appended to ``served``: where it ran, and the
        engines lost on the way."""
        from sandbox import load_fixture

        fixture = load_fixture(fixture_name)
        digest = self.meta.image_digest
        if not fixture.image.plus(packages).empty:
            image = self.sandbox.image_for(fixture, packages)
            digest = image.digest
            if self.store.programs(digest) is None:
                from sandbox.programs import programs

                self.store.save_programs(digest, programs(image))
        from sandbox.pool import CONTAINER_VERSION

        key_src = json.dumps([digest, CONTAINER_VERSION, fixture.hash, list(fixture.roots), fixture.workdir,
                              self.meta.epoch, script, probe, EVAL_LIMITS.model_dump()])
        path = cache_dir("executions") / f"{hashlib.sha256(key_src.encode()).hexdigest()}.json"
        if path.exists():
            return Execution.model_validate_json(path.read_text(encoding="utf-8"))
        done = self.sandbox.run(script, fixture, EVAL_LIMITS, epoch=self.meta.epoch, probe=probe, packages=packages)
        write_text(path, done.execution.model_dump_json())
        if served is not None:
            served.append(done)
        return done.execution

    def programs_for(self, runs: list[CaseRun]) -> frozenset[str]:
        """The programs of the image the case ran in (the Plan score asks whether each exists there)."""
        digest = runs[0].reference.image_digest if runs else self.meta.image_digest
        if digest == self.meta.image_digest:
            return self.programs
        saved = self.store.programs(digest)
        return saved if saved is not None else self.programs

    def evaluate(self, suite: str, case: Case, plan_text: str, source: str) -> CaseResult:
        """Score one plan for one case, resuming from disk when nothing changed."""
        sha = plan_sha256(plan_text)
        overrides = load_overrides(self.overrides_path)
        done = self.store.result(case.id)
        if done is not None and done.plan_sha256 == sha and done.case_fingerprint == case.fingerprint:
            return done.with_overrides(overrides)
        from sandbox import load_fixture

        probe = ARCHIVE_PROBE if Comparator.ARCHIVE_CONTENTS in case.compare else None
        ref_script = script_of(case.reference)
        cand_script = script_of(plan_text)
        runs, served = [], []
        for name in case.fixtures:
            reference = self.execute(ref_script, name, probe, case.packages, served)
            candidate = self.execute(cand_script, name, probe, case.packages, served) if cand_script.strip() else None
            fixture = load_fixture(name)
            runs.append(CaseRun(fixture=name, root=fixture.root, workdir=fixture.workdir, reference=reference,
                                candidate=candidate))
        result = self.score(suite, case, plan_text, source, runs).with_overrides(overrides)
        # where it ran: the engine of its last execution (the current one when every execution was cached)
        result = result.model_copy(update={
            "engine": served[-1].engine if served else self.sandbox.where.url,
            "retries": [InfraRetry(engine=r.engine, error=r.error) for s in served for r in s.retries]})
        self.store.save_case(case, plan_text, runs, result)
        return result

    def score(self, suite: str, case: Case, plan_text: str, source: str, runs: list[CaseRun]) -> CaseResult:
        root = runs[0].root if runs else ""
        workdir = (runs[0].workdir or root) if runs else None
        judgement = judge(case, plan_text, [(r.candidate, r.reference) for r in runs], self.programs_for(runs),
                          root, workdir)
        return CaseResult(run_id=self.store.run_id, suite=suite, case_id=case.id, prompt=case.prompt,
                          source=source, plan_text=plan_text, plan_sha256=plan_sha256(plan_text),
                          case_fingerprint=case.fingerprint, judgement=judgement,
                          uninformative=uninformative(case, runs))


def uninformative(case: Case, runs: list[CaseRun]) -> bool:
    """Declared so, or the reference prints nothing and changes nothing on every variant (any silent plan
    matches it): scored, but left out of means and the gate."""
    return case.uninformative or bool(runs) and all(silent(r.reference) for r in runs)


AWAITING_REASON = "awaiting review: no case with a reference matches"


def await_review(result: CaseResult) -> CaseResult:
    """A trace row no case matches: Plan and Safe stay scored, Answer is left to a person (None).

    Its placeholder reference prints nothing, but the row is not uninformative: it awaits a human.
    """
    s = result.automatic
    judgement = result.judgement.model_copy(update={
        "scores": Scores(plan=s.plan, safe=s.safe, answer=None),
        "reasons": {**result.judgement.reasons, "answer": AWAITING_REASON}})
    return result.model_copy(update={"judgement": judgement, "uninformative": False})


def latest_run_with(case_id: str, root: Path | None = None) -> RunStore:
    """The most recent run that scored ``case_id`` (under ``root``, default harness.paths.runs_dir())."""
    root = root if root is not None else runs_dir()
    runs = sorted((p.parents[2] for p in root.glob(f"*/cases/{case_id}/result.json")),
                  key=lambda d: d.name, reverse=True)  # run ids start with their UTC start time
    if not runs:
        raise SuiteError(f"no run under {root} has scored case {case_id!r}; run the eval first (make eval)")
    return RunStore(runs[0].name, root)


def regrade(run_id: str, overrides_path: Path | None = None, root: Path | None = None) -> list[CaseResult]:
    """Re-score every saved case of a run from its stored executions (no model, no Docker)."""
    store = RunStore(run_id, root)
    meta = store.meta()
    ev = Evaluator(store, meta, overrides_path)
    overrides = load_overrides(ev.overrides_path)
    out = []
    for path in sorted((store.dir / "cases").glob("*/result.json")):
        case, plan, runs, old = store.load_case(path.parent.name)
        result = ev.score(old.suite, case, plan, old.source, runs)
        result = result.model_copy(update={"engine": old.engine, "retries": old.retries})  # facts of the run
        if old.source == "trace" and old.automatic.answer is None:  # still no reference: still a person's call
            result = await_review(result)
        result = result.with_overrides(overrides)
        write_text(path, result.model_dump_json(indent=2))
        out.append(result)
    return out
