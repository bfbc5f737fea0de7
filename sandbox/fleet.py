"""Plans across several Docker engines: one pool per engine, and a lost engine's work moved to the next.

A :class:`Fleet` serves one run in one process.  It prefers the engine the
process is bound to (:func:`sandbox.endpoints.worker_slot`: pytest-xdist
worker gwN takes engine N mod the number of engines) and keeps the others, in
the order ``FENRIR_ENGINES`` lists them, as where its work goes when that
engine is lost.  An engine is *lost* when a sandbox call on it fails and it
then no longer answers a ping: its daemon stopped (a stopping dockerd closes
its API at once, and kills the containers ten seconds later), or the
connection to it dropped.  The call is made again on the next engine that is
not lost, and the answer carries a :class:`Retry` for each engine it left, so
the harness records infrastructure retries apart from scores.  A failure on an
engine that still answers (an out-of-memory supervisor, a plan the sandbox
refuses, an image that does not build) is the same error it is on one engine.
With no engine left, :class:`~harness.errors.EngineLost` names every engine
and why it was lost.
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from harness.errors import EngineLost, PlanError, SandboxError
from sandbox.endpoints import configured, worker_slot
from sandbox.engine import Image, answers
from sandbox.materialize import Fixture
from sandbox.pool import DEFAULT_RUN, Sandbox
from sandbox.records import Execution, Limits

T = TypeVar("T")


@dataclass(frozen=True)
class Retry:
    """A call that failed because its engine was lost, and was made again on another engine."""

    engine: str
    """The engine that was lost (its endpoint)."""
    error: str
    """What failed there."""


@dataclass(frozen=True)
class Served:
    """A plan's execution and where it ran."""

    execution: Execution
    """What the sandbox observed."""
    engine: str
    """The engine (its endpoint) it ran on."""
    retries: tuple[Retry, ...] = ()
    """Engines lost while this execution was tried, in order."""


class Fleet:
    """Pools on several engines for one run, the bound engine first.  Thread-safe."""

    def __init__(self, engines: tuple[str, ...] | None = None, first: int | None = None,
                 run: str = DEFAULT_RUN):
        """``engines`` (default: :func:`~sandbox.endpoints.configured`), preferring ``engines[first]`` (default:
        the one this pytest-xdist worker is bound to); ``run`` labels every container (``fenrir.run``)."""
        engines = tuple(engines or configured())
        first = worker_slot(len(engines)) if first is None else first % len(engines)
        self.engines = engines[first:] + engines[:first]
        """Every engine, in the order this fleet uses them: the bound one, then the ones after it."""
        self.run_label = run
        """The ``fenrir.run`` label of every container its pools start."""
        self._pools: dict[str, Sandbox] = {}
        self._lost: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def lost(self) -> dict[str, str]:
        """The engines lost so far, with what failed there."""
        with self._lock:
            return dict(self._lost)

    @property
    def current(self) -> str:
        """The engine calls go to now: the first one not lost; EngineLost when every one is."""
        with self._lock:
            left = [e for e in self.engines if e not in self._lost]
            if left:
                return left[0]
            lost = "; ".join(f"{e} ({why})" for e, why in self._lost.items())
        raise EngineLost(f"no Docker engine left: every engine this run uses stopped answering: {lost}")

    @property
    def where(self) -> str:
        """The engine calls go to now, or the bound one when every engine is lost (never raises)."""
        with self._lock:
            return next((e for e in self.engines if e not in self._lost), self.engines[0])

    def pool(self, engine: str) -> Sandbox:
        """The pool on ``engine`` (made on first use)."""
        with self._lock:
            if engine not in self._pools:
                self._pools[engine] = Sandbox(run=self.run_label, engine=engine)
            return self._pools[engine]

    def _lose(self, engine: str, error: SandboxError) -> None:
        with self._lock:
            self._lost.setdefault(engine, str(error))
            pool = self._pools.pop(engine, None)
            left = [e for e in self.engines if e not in self._lost]
        if pool is not None:
            pool.close()  # its containers went with the engine; this forgets them
        where = f"its work moves to {left[0]}" if left else "no engine is left"
        print(f"fenrir: engine {engine} stopped answering ({error}); {where}", file=sys.stderr)

    def serve(self, call: Callable[[Sandbox], T]) -> tuple[T, str, tuple[Retry, ...]]:
        """``call(pool)`` on the current engine, made again on the next one each time an engine is lost:
        its answer, the engine that gave it, and the retries on the way."""
        retries: list[Retry] = []
        while True:
            engine = self.current
            try:
                return call(self.pool(engine)), engine, tuple(retries)
            except PlanError:
                raise  # the plan's own fault, on any engine
            except SandboxError as exc:
                if answers(engine):
                    raise  # the engine is fine: the failure is what it is on one engine
                self._lose(engine, exc)
                retries.append(Retry(engine=engine, error=str(exc)))

    def run(self, plan: str | bytes, fixture: Fixture, limits: Limits | None = None, *, epoch: float | None = None,
            probe: str | None = None, packages=(), workdir: str | None = None) -> Served:
        """:meth:`Sandbox.run <sandbox.pool.Sandbox.run>` on the current engine, moved off lost ones."""
        execution, engine, retries = self.serve(
            lambda pool: pool.run(plan, fixture, limits, epoch=epoch, probe=probe, packages=packages,
                                  workdir=workdir))
        return Served(execution=execution, engine=engine, retries=retries)

    def image_for(self, fixture: Fixture, packages=()) -> Image:
        """The image ``fixture`` runs in (with ``packages``), on the current engine."""
        return self.serve(lambda pool: pool.image_for(fixture, packages))[0]

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


_fleets: dict[str, Fleet] = {}
_fleet_lock = threading.Lock()


def default_fleet(run: str = DEFAULT_RUN) -> Fleet:
    """The process-wide fleet for ``run`` over the configured engines, closed (containers removed) at exit."""
    with _fleet_lock:
        if run not in _fleets:
            _fleets[run] = Fleet(run=run)
            atexit.register(_fleets[run].close)
        return _fleets[run]
