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
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from harness.atomic import write_text
from harness.errors import RunError, SuiteError
from harness.paths import cache_dir, overrides_path as default_overrides, runs_dir
from rubrics.compare import ARCHIVE_PROBE, silent, worth_running_again
from rubrics.overrides import Override, load_overrides
from rubrics.result import CaseResult, InfraRetry
from rubrics.score import Scores, judge, plan_sha256, script_of
from rubrics.suite import Case, Comparator
from sandbox import load_fixture
from sandbox.engine import ensure_image
from sandbox.fleet import Fleet, Served, default_fleet
from sandbox.pool import CONTAINER_VERSION
from sandbox.programs import programs
from sandbox.records import Execution, Limits, Runtime

EVAL_LIMITS = Limits(timeout=60)


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
    runtime: Runtime = "runc"
    """The OCI runtime every plan of the run runs under (runs saved before runtimes existed: runc)."""


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
    reference_again: Execution | None = None
    """The reference run a second time, after the candidate, when their stdouts differed in a way that
    could be the reference's own (PIDs, the clock): what changed between its two runs is not compared."""


def start_run(store: "RunStore", source: str, suites: list[str], runtime: Runtime = "runc") -> RunMeta:
    """Metadata for a new run on the current sandbox image (built if needed) under ``runtime``, saved in its
    folder."""

    image = ensure_image()
    meta = RunMeta(run_id=store.run_id, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   epoch=day_epoch(), source=source, suites=suites, image=image.tag,
                   image_digest=image.digest, programs=sorted(programs(image)), runtime=runtime)
    store.save_meta(meta)
    return meta


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def day_epoch(now: float | None = None) -> float:
    now = time.time() if now is None else now
    return float(int(now // 86400) * 86400)


def _problem(exc: Exception) -> str:
    """What is wrong with a file, in one line (pydantic's first error, the JSON or OS error)."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return f"{where}: {err['msg']}" if where else err["msg"]
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc).splitlines()[0]


_READ_ERRORS = (OSError, UnicodeDecodeError, ValidationError, ValueError)
_EXECUTIONS = TypeAdapter(list[CaseRun])


def recent_runs(root: Path, limit: int = 5) -> list[str]:
    """The ids of the runs under ``root`` that have a run.json, most recently started first."""
    metas = sorted(root.glob("*/run.json"), key=lambda p: p.stat().st_mtime, reverse=True) if root.is_dir() else []
    return [p.parent.name for p in metas[:limit]]


class RunStore:
    """The on-disk folder of one run (under ``results/runs/`` unless ``root`` says otherwise).

    Every read names the file it could not read and what to do about it (:class:`RunError`).
    """

    def __init__(self, run_id: str, root: Path | None = None):
        """The run ``run_id`` under ``root`` (default: harness.paths.runs_dir(), read now)."""
        self.run_id = run_id
        self.dir = (root if root is not None else runs_dir()) / run_id

    @property
    def meta_path(self) -> Path:
        return self.dir / "run.json"

    def _rescore_hint(self, case_id: str) -> str:
        return (f"delete {self.case_dir(case_id)} and score the case again: pytest tests/eval --run-id "
                f"{self.run_id} with the run's --suite and plan source (a rerun scores only what is missing)")

    def _read(self, path: Path, parse, fix: str):
        try:
            return parse(path.read_text(encoding="utf-8"))
        except _READ_ERRORS as exc:
            raise RunError(f"{path} cannot be read ({_problem(exc)}): {fix}; nothing was changed") from None

    def exists(self) -> bool:
        """True when the run has a run.json."""
        return self.meta_path.is_file()

    def meta(self) -> RunMeta:
        if not self.meta_path.exists():
            recent = recent_runs(self.dir.parent)
            known = (f"the latest runs there: {', '.join(recent)}" if recent
                     else "there are no runs there: score the suites first (make eval)")
            raise RunError(f"no run {self.run_id!r} under {self.dir.parent} (no {self.meta_path.name} there); "
                           f"{known}; runs are looked for in $FENRIR_RESULTS/runs (default results/runs)")
        return self._read(self.meta_path, RunMeta.model_validate_json,
                          "restore it from a backup, or score the suites again into a new run (make eval)")

    def save_meta(self, meta: RunMeta) -> None:
        write_text(self.meta_path, meta.model_dump_json(indent=2))

    def case_dir(self, case_id: str) -> Path:
        return self.dir / "cases" / case_id

    def case_ids(self) -> list[str]:
        """The cases of the run that have a result, by id."""
        return [p.parent.name for p in sorted((self.dir / "cases").glob("*/result.json"))]

    def result(self, case_id: str) -> CaseResult | None:
        path = self.case_dir(case_id) / "result.json"
        if not path.exists():
            return None
        return self._read(path, CaseResult.model_validate_json, self._rescore_hint(case_id))

    def results(self) -> list[CaseResult]:
        return [self.result(case_id) for case_id in self.case_ids()]

    def save_case(self, case: Case, plan_text: str, runs: list[CaseRun], result: CaseResult) -> None:
        d = self.case_dir(result.case_id)
        write_text(d / "case.json", case.model_dump_json(indent=2))
        write_text(d / "plan.txt", plan_text)
        write_text(d / "executions.json", json.dumps([r.model_dump(mode="json") for r in runs], indent=1))
        write_text(d / "result.json", result.model_dump_json(indent=2))

    def save_result(self, result: CaseResult) -> Path:
        """Replace one case's result.json (atomically)."""
        return write_text(self.case_dir(result.case_id) / "result.json", result.model_dump_json(indent=2))

    def save_programs(self, digest: str, names: frozenset[str]) -> None:
        path = self.dir / "images" / f"{digest.replace(':', '-')}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):  # xdist workers and bench threads share a run
            if not path.exists():
                write_text(path, json.dumps(sorted(names)))

    def programs(self, digest: str) -> frozenset[str] | None:
        """The programs of a derived image this run used, or None if it saved none."""
        path = self.dir / "images" / f"{digest.replace(':', '-')}.json"
        if not path.exists():
            return None
        names = self._read(path, TypeAdapter(list[str]).validate_json,
                           f"delete it and rerun the run (pytest tests/eval --run-id {self.run_id}), which saves "
                           f"it again")
        return frozenset(names)

    def load_case(self, case_id: str) -> tuple[Case, str, list[CaseRun], CaseResult]:
        d = self.case_dir(case_id)
        fix = self._rescore_hint(case_id)
        case = self._read(d / "case.json", Case.model_validate_json, fix)
        plan = self._read(d / "plan.txt", str, fix)
        runs = self._read(d / "executions.json", _EXECUTIONS.validate_json, fix)
        result = self._read(d / "result.json", CaseResult.model_validate_json, fix)
        return case, plan, runs, result


class Evaluator:
    """Executes and scores plans for one run (one per process: xdist workers each have their own)."""

    def __init__(self, store: RunStore, meta: RunMeta, overrides_path: Path | None = None):
        self.store, self.meta = store, meta
        self.programs = frozenset(meta.programs)
        self.limits = EVAL_LIMITS.model_copy(update={"runtime": meta.runtime})
        """What every plan of the run runs under (the run's runtime)."""
        self.overrides_path = overrides_path if overrides_path is not None else default_overrides()
        self._sandbox = None

    @property
    def sandbox(self) -> Fleet:
        """The run's pools on the configured engines (FENRIR_ENGINES), this process's bound engine first."""
        if self._sandbox is None:
            self._sandbox = default_fleet(run=self.store.run_id)  # its containers: fenrir.run=RUN_ID
        return self._sandbox

    def execute(self, script: str, fixture_name: str, probe: str | None, packages=(),
                served: list[Served] | None = None, after: str | None = None) -> Execution:
        """Run once per (image, fixture, roots, workdir, epoch, plan, probe, limits); later calls read the cache.

        An execution that ran (not read from the cache) is appended to ``served``: where it ran, and the
        engines lost on the way.  ``after``: this is a second run, after the candidate script ``after``
        (cached apart from the first)."""

        fixture = load_fixture(fixture_name)
        digest = self.meta.image_digest
        if not fixture.image.plus(packages).empty:
            image = self.sandbox.image_for(fixture, packages)
            digest = image.digest
            if self.store.programs(digest) is None:
            
                self.store.save_programs(digest, programs(image))

        key_src = json.dumps([digest, CONTAINER_VERSION, fixture.hash, list(fixture.roots), fixture.workdir,
                              self.meta.epoch, script, probe, self.limits.model_dump()]
                             + ([{"again_after": after}] if after is not None else []))
        path = cache_dir("executions") / f"{hashlib.sha256(key_src.encode()).hexdigest()}.json"
        if path.exists():
            return Execution.model_validate_json(path.read_text(encoding="utf-8"))
        done = self.sandbox.run(script, fixture, self.limits, epoch=self.meta.epoch, probe=probe, packages=packages)
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

        probe = ARCHIVE_PROBE if Comparator.ARCHIVE_CONTENTS in case.compare else None
        ref_script = script_of(case.reference)
        cand_script = script_of(plan_text)
        runs, served = [], []
        for name in case.fixtures:
            reference = self.execute(ref_script, name, probe, case.packages, served)
            candidate = self.execute(cand_script, name, probe, case.packages, served) if cand_script.strip() else None
            again = None
            if candidate is not None and worth_running_again(candidate, reference):
                again = self.execute(ref_script, name, probe, case.packages, served, after=cand_script)
            fixture = load_fixture(name)
            runs.append(CaseRun(fixture=name, root=fixture.root, workdir=fixture.workdir, reference=reference,
                                candidate=candidate, reference_again=again))
        result = self.score(suite, case, plan_text, source, runs).with_overrides(overrides)
        # where it ran: the engine of its last execution (the current one when every execution was cached)
        result = result.model_copy(update={
            "engine": served[-1].engine if served else self.sandbox.where,
            "retries": [InfraRetry(engine=r.engine, error=r.error) for s in served for r in s.retries]})
        self.store.save_case(case, plan_text, runs, result)
        return result

    def score(self, suite: str, case: Case, plan_text: str, source: str, runs: list[CaseRun]) -> CaseResult:
        root = runs[0].root if runs else ""
        workdir = (runs[0].workdir or root) if runs else None
        judgement = judge(case, plan_text, [(r.candidate, r.reference, r.reference_again) for r in runs],
                          self.programs_for(runs), root, workdir)
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


def rescore(store: RunStore, overrides: list[Override]) -> list[CaseResult]:
    """Every saved case of a run scored again from its stored executions, with ``overrides``; nothing written.

    Every file of the run is read first: one that cannot be read is a :class:`RunError` naming it.
    """
    ev = Evaluator(store, store.meta())
    out = []
    for case_id in store.case_ids():
        case, plan, runs, old = store.load_case(case_id)
        result = ev.score(old.suite, case, plan, old.source, runs)
        result = result.model_copy(update={"engine": old.engine, "retries": old.retries})  # facts of the run
        if old.source == "trace" and old.automatic.answer is None:  # still no reference: still a person's call
            result = await_review(result)
        out.append(result.with_overrides(overrides))
    return out


def regrade(run_id: str, overrides_path: Path | None = None, root: Path | None = None) -> list[CaseResult]:
    """Re-score every saved case of a run from its stored executions (no model, no Docker).

    Everything is read and scored before the first result.json is replaced, so a run that
    cannot be read is left exactly as it was.
    """
    store = RunStore(run_id, root)
    results = rescore(store, load_overrides(overrides_path or default_overrides()))
    for result in results:
        store.save_result(result)
    return results
