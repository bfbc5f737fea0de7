"""Checking the agent's candidate plans in the sandbox (the harness joins agent and sandbox).

:class:`SandboxRunner` is the :class:`agent.check.Runner` the agent's checks
use: it runs scripts in the warm pool against one fixture, which is either a
copy of the user's directory (:func:`runner_for_directory`, the ``--preview``
machinery: the directory itself is only read) or an eval case's first fixture
variant.  :func:`check_draft` runs a draft's distinct scripts once each and
lets :func:`agent.check.choose` pick.
"""

from __future__ import annotations

import dataclasses
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from agent.check import Candidate, Choice, Observation, choose, edit_preview_input, static_failure
from harness.errors import SandboxError, SandboxUnavailable
from sandbox.materialize import Fixture, from_directory
from sandbox.pool import Sandbox, default_sandbox
from sandbox.records import Execution, Limits

if TYPE_CHECKING:
    from agent.ask import Agent, Draft

CHECK_LIMITS = Limits(timeout=5)
"""Limits for a candidate: a plan that needs more than 5 s to answer a request is not a good answer."""
CHECK_COPY_LIMIT = 64 * 1024 * 1024
"""Largest directory (bytes of file content) copied into the sandbox for a check."""


def observe(ex: Execution) -> Observation:
    """What the check looks at in an execution: exit status, output, changes, limits."""
    changes = tuple(sorted(f"{c.kind} {c.path} {c.after.type if c.after else ''} "
                           f"{(c.after.sha256 or c.after.target or '') if c.after else ''}" for c in ex.changes))
    return Observation(exit_code=ex.exit_code, stdout=ex.stdout, stderr=ex.stderr, changes=changes,
                       limit=ex.resource_limit)


class SandboxRunner:
    """Runs candidate scripts on one fixture in the sandbox (never on the host)."""

    def __init__(self, fixture: Fixture, where: str, limits: Limits = CHECK_LIMITS,
                 epoch: float | None = None, sandbox: Sandbox | None = None) -> None:
        self.fixture, self.where, self.limits, self.epoch = fixture, where, limits, epoch
        self.sandbox = sandbox or default_sandbox(run="check")

    def warm(self) -> None:
        """Start a container and load the fixture now (so the first check does not wait for it)."""
        self.sandbox.prepare(self.fixture, self.limits, epoch=self.epoch)

    def __call__(self, scripts) -> list[Observation]:
        return [self._observe(s) for s in scripts]

    def _observe(self, script: str) -> Observation:
        """One script's observation; a script that leaves the sandbox unable to read the tree back (the
        supervisor reports an error) counts as a failed candidate, not as a failed check."""
        try:
            return observe(self.sandbox.run(script, self.fixture, self.limits, epoch=self.epoch))
        except SandboxUnavailable:
            raise
        except SandboxError as exc:
            return Observation(exit_code=-1, stdout="", stderr=f"sandbox: {str(exc).splitlines()[0][:200]}",
                               limit="sandbox error")


def runner_for_directory(directory: str | Path) -> SandboxRunner:
    """A runner on a copy of a real directory (raises FixtureError when it is too large to copy)."""
    fixture = from_directory(directory, limit=CHECK_COPY_LIMIT)
    return SandboxRunner(fixture, f"a copy of {Path(directory).resolve()} in the sandbox",
                         sandbox=default_sandbox(run="ask"))


def observe_candidates(candidates: list[Candidate], runner: SandboxRunner,
                       known: dict[str, Observation] | None = None) -> list[Observation | None]:
    """Run each distinct runnable script once; one observation per candidate (None: not run).
    Scripts in ``known`` (script -> observation, filled in here) are not run again.

    An edit preview (:func:`agent.check.edit_preview_input`, ``sed 's/a/b/g' f``) is run together with a
    ``cat`` of its file, in the same batch; when it printed the file as it was, its observation says
    ``unchanged`` (the check then ranks it with the plans that did nothing)."""
    known = {} if known is None else known
    fresh = {c.script: c.plan for c in candidates if static_failure(c) is None and c.script not in known}
    probes = {script: f"cat -- {shlex.quote(path)}\n" for script, plan in fresh.items()
              if (path := edit_preview_input(plan)) is not None}
    batch = list(fresh) + [p for p in dict.fromkeys(probes.values()) if p not in fresh]
    seen = dict(zip(batch, runner(batch) if batch else []))
    for script in fresh:
        observed, probe = seen[script], seen.get(probes.get(script, ""))
        if (probe is not None and probe.exit_code == 0 and not probe.limit and not observed.changes
                and observed.stdout == probe.stdout):
            observed = dataclasses.replace(observed, unchanged=True)
        known[script] = observed
    return [known[c.script] if static_failure(c) is None else None for c in candidates]


def check_candidates(candidates: list[Candidate], runner: SandboxRunner,
                     more: Callable[[], list[Candidate]] | None = None,
                     known: dict[str, Observation] | None = None) -> tuple[Choice, float]:
    """Run the candidates (each distinct script once), then choose; returns the choice and the seconds spent
    in the sandbox.

    When none of them ran cleanly, none ran out of time, and ``more`` is given, it
    is called once for a second round of candidates (:meth:`agent.ask.Agent.more`),
    those run too, and the choice is made among all of them.  A candidate that ran
    out of time has not been shown wrong, only slow: creating a virtualenv and
    installing a package from the image's wheels takes ~5 s on a 2-core machine,
    the check's limit, and a second round would then favour a quick plan that
    does something else (``pip list``).  Measured with ``bench/candidates.py
    score --round 4`` on candidates recorded 8 deep for the rows whose first 4
    had no survivor (our own held-out rows, never an eval suite): on
    data/holdout.jsonl 4 of 296 rows draw a second round and Answer 2 goes
    209 -> 211; on data/holdout_external.jsonl 65 of 367 rows do, and 91 -> 93
    of the 245 informative rows (169 -> 172 of all 367).

    ``known`` (script -> observation) is filled as in :func:`observe_candidates`, so a caller that wants the
    observations too reads them from it instead of running the scripts again.
    """
    spent = 0.0
    known = {} if known is None else known
    started = time.perf_counter()
    observations = observe_candidates(candidates, runner, known)
    spent += time.perf_counter() - started
    choice = choose(candidates, observations)
    slow = any(seen is not None and seen.slow for seen in observations)
    if choice.checked and not choice.survivors and not slow and more is not None:
        extra = more()
        if extra:
            started = time.perf_counter()
            candidates = list(candidates) + extra
            observations += observe_candidates(extra, runner, known)
            spent += time.perf_counter() - started
            choice = choose(candidates, observations)
    return choice, spent


def second_round(agent: Agent, draft: Draft) -> Callable[[], list[Candidate]]:
    """``check_candidates``' ``more`` for an agent's draft: the agent draws another round into the draft
    (:meth:`agent.ask.Agent.more`) and the new candidates are returned."""
    def more() -> list[Candidate]:
        before = len(draft.candidates)
        return agent.more(draft).candidates[before:]
    return more


UNCHECKED = Choice(index=0, checked=False, votes=0, survivors=0)
"""The choice when nothing could run: the greedy candidate (the reason goes in the note's ``where``)."""
