"""The sandbox: plans run hardened against fixture file systems.

    from sandbox import run
    execution = run('find . -name "*.jpg" -size +5M', "seed")

``run`` uses a process-wide warm pool of containers (removed at exit).  For
explicit control use :class:`sandbox.pool.Sandbox` as a context manager.

The modules, bottom up (each imports only those before it):

* :mod:`sandbox.records` (limits, executions), :mod:`sandbox.units`,
  :mod:`sandbox.content`, :mod:`sandbox.archive`, :mod:`sandbox.endpoints`
  (which engines: ``FENRIR_ENGINES``): pure, no Docker;
* :mod:`sandbox.engine`: a Docker engine and the sandbox image;
  :mod:`sandbox.owners`: which process owns a container, and cleanup;
  :mod:`sandbox.runtimes`: which OCI runtimes (runc, runsc) an engine has;
* :mod:`sandbox.derived` (images with extra packages), :mod:`sandbox.fixture`
  (specs), :mod:`sandbox.build` and :mod:`sandbox.materialize` (archives);
  :mod:`sandbox.distribute` (images streamed to engines that lack them);
* :mod:`sandbox.capacity` (does a fixture fit the limits),
  :mod:`sandbox.channel` and :mod:`sandbox.container` (one container);
* :mod:`sandbox.gvisor`: an engine with runsc, for the tests and the bench;
* :mod:`sandbox.pool` (the warm pool on one engine), then :mod:`sandbox.fleet`
  (a pool per engine, a lost engine's work moved on), :mod:`sandbox.programs`,
  which asks an image what commands it has by running one in the pool, and
  :mod:`sandbox.doctor`, which runs one under each runtime.
"""

from __future__ import annotations

import functools

from sandbox.fixture import FixtureSpec, find_spec
from sandbox.materialize import Fixture, materialise
from sandbox.pool import DEFAULT_RUN, default_sandbox
from sandbox.records import Change, Execution, Limits, PathState

__all__ = ["Change", "Execution", "Limits", "PathState", "load_fixture", "run"]


@functools.lru_cache(maxsize=64)
def _fixture_by_name(name: str) -> Fixture:
    return materialise(find_spec(name))


def load_fixture(ref) -> Fixture:
    """A materialised fixture from a name, a YAML path, a FixtureSpec or a Fixture."""
    if isinstance(ref, Fixture):
        return ref
    if isinstance(ref, FixtureSpec):
        return materialise(ref)
    return _fixture_by_name(str(ref))


def run(plan: str | bytes, fixture_ref, limits: Limits | None = None, *, epoch: float | None = None,
        probe: str | None = None, packages=(), workdir: str | None = None, run: str = DEFAULT_RUN) -> Execution:
    """Run ``plan`` (a shell script) against a pristine copy of the fixture.

    See :meth:`sandbox.pool.Sandbox.run` for ``epoch``, ``probe``, ``packages`` and ``workdir``; ``run``
    labels the containers (``fenrir.run``) with what the caller is (see :func:`sandbox.pool.default_sandbox`).
    """
    return default_sandbox(run).run(plan, load_fixture(fixture_ref), limits, epoch=epoch, probe=probe,
                                 packages=packages, workdir=workdir)
