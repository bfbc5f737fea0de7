"""A warm pool of hardened sandbox containers.

Containers (:mod:`sandbox.container`) are keyed by (image, fixture roots,
container-level limits): a fixture that names packages (or a suite that does)
runs in its derived image (:mod:`sandbox.derived`), one tmpfs per root.  A
process owns its containers; parallel pytest-xdist workers each have their
own, with unique names and labels.  A pool serves one run (``fenrir.run``, see
:func:`default_sandbox`).  Before its first container a process removes the
containers of Fenrir processes that died without cleaning up
(:mod:`sandbox.owners`); ``fenrir sandbox cleanup`` does the same on demand.

A fixture that cannot fit the limits (:mod:`sandbox.capacity`) is refused
before any container starts.  A pool serves one engine (``engine``; its
images come as :mod:`sandbox.distribute` says); :mod:`sandbox.fleet` holds
one pool per engine.
"""

from __future__ import annotations

import atexit
import os
import threading

from sandbox.capacity import check_fits
from sandbox.container import CONTAINER_VERSION, DEFAULT_RUN, SandboxContainer, check_plan
from sandbox.derived import ImageRecipe
from sandbox.distribute import derived_image, sandbox_image
from sandbox.engine import Image
from sandbox.materialize import Fixture
from sandbox.owners import reap_dead
from sandbox.records import Execution, Limits

__all__ = ["CONTAINER_VERSION", "DEFAULT_RUN", "Sandbox", "default_sandbox"]


class Sandbox:
    """Runs plans against fixtures in pooled containers.  Thread-safe."""

    def __init__(self, image: Image | None = None, worker: str | None = None, run: str = DEFAULT_RUN,
                 engine: str | None = None):
        self._image = image
        self.engine = engine
        """The Docker endpoint its containers run on (None: the home engine, :func:`sandbox.endpoints.home`); its
        images come there as :mod:`sandbox.distribute` says, unless ``image`` is given (as it is on that engine)."""
        self.worker = worker or os.environ.get("PYTEST_XDIST_WORKER") or f"p{os.getpid()}"
        self.run_label = run
        """The ``fenrir.run`` label of every container this pool starts."""
        self._free: dict[tuple, list[SandboxContainer]] = {}
        self._all: list[SandboxContainer] = []
        self._derived: dict[ImageRecipe, Image] = {}
        self._lock = threading.Lock()

    @property
    def image(self) -> Image:
        """The sandbox image (plans of fixtures that need nothing more run in it)."""
        if self._image is None:
            self._image = sandbox_image(self.engine)
        return self._image

    def image_for(self, fixture: Fixture, packages=()) -> Image:
        """The image ``fixture`` runs in, with ``packages`` (a suite's or case's) on top of its own."""
        recipe = fixture.image.plus(packages)
        if recipe.empty:
            return self.image
        with self._lock:
            known = self._derived.get(recipe)
        if known is None:
            known = derived_image(recipe, self.image, self.engine)
            with self._lock:
                self._derived[recipe] = known
        return known

    @staticmethod
    def _key(image: Image, roots: tuple[str, ...], limits: Limits) -> tuple:
        return (image.tag, tuple(sorted(roots)), limits.container_key())

    def _acquire(self, image: Image, roots: tuple[str, ...], limits: Limits) -> SandboxContainer:
        with self._lock:
            free = self._free.setdefault(self._key(image, roots, limits), [])
            if free:
                return free.pop()
        reap_dead(self.engine)  # before this process's first container there: what dead processes left behind
        box = SandboxContainer(image, roots, limits, self.worker, self.run_label, self.engine)
        with self._lock:
            self._all.append(box)
        return box

    def _release(self, box: SandboxContainer) -> None:
        with self._lock:
            if box.container is None:
                self._all.remove(box)
            else:
                self._free.setdefault(self._key(box.image, box.roots, box.limits), []).append(box)

    def run(self, plan: str | bytes, fixture: Fixture, limits: Limits | None = None, *,
            epoch: float | None = None, probe: str | None = None, packages=(),
            workdir: str | None = None, image: Image | None = None) -> Execution:
        """Run ``plan`` against a pristine copy of ``fixture``.

        ``epoch`` pins the time relative mtimes resolve against (the harness
        uses one per eval run, so a reference and a candidate see byte-identical
        trees); ``probe`` is a grader's read-only script run after the plan and
        all its processes are gone, its stdout kept apart in ``probe_stdout``.
        ``packages`` adds Debian packages to the fixture's own (a derived image);
        ``workdir`` runs the plan elsewhere than the fixture's working directory;
        ``image`` names the image outright instead.
        """
        plan = check_plan(plan)
        limits = limits or Limits()
        check_fits(fixture, limits)
        image = image or self.image_for(fixture, packages)
        box = self._acquire(image, fixture.roots, limits)
        try:
            return box.run(plan, fixture, limits, epoch=epoch, probe=probe, workdir=workdir)
        finally:
            self._release(box)

    def prepare(self, fixture: Fixture, limits: Limits | None = None, *, epoch: float | None = None) -> None:
        """Start a container for ``fixture`` and load it, so a later ``run`` starts at once."""
        limits = limits or Limits()
        check_fits(fixture, limits)
        box = self._acquire(self.image_for(fixture, ()), fixture.roots, limits)
        try:
            box.load(fixture, epoch)
        finally:
            self._release(box)

    def close(self) -> None:
        with self._lock:
            boxes, self._all, self._free = self._all, [], {}
        for box in boxes:
            box.remove()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_defaults: dict[str, Sandbox] = {}
_default_lock = threading.Lock()


def default_sandbox(run: str = DEFAULT_RUN) -> Sandbox:
    """The process-wide pool for ``run``, closed (containers removed) at exit.

    ``run`` labels its containers ``fenrir.run=RUN``: an eval run passes its
    run id, other callers what they are (``ask``, ``preview``, ``judge`` ...).
    Each label has its own pool, so a container only ever serves one run.
    """
    with _default_lock:
        if run not in _defaults:
            _defaults[run] = Sandbox(run=run)
            atexit.register(_defaults[run].close)
        return _defaults[run]
