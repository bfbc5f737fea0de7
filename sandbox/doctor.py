"""What ``fenrir sandbox doctor`` finds: which runtimes run sandbox plans on an engine, and why not.

For each runtime Fenrir knows (:data:`sandbox.records.RUNTIMES`): is it
registered with the engine, does a container of the sandbox image start and
run ``true`` under it (:func:`sandbox.runtimes.check_runtime`), and does a
plan run in a sandbox container under it and look at paths as under runc
(``ls -ld /`` and ``stat``: gVisor 20221219, Debian bookworm's runsc, fails
both, see the README).  It sits above the pool, which it runs plans in.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import SandboxError
from sandbox.engine import Image, engine_name, ensure_image, find_image
from sandbox.fixture import FixtureSpec
from sandbox.materialize import materialise
from sandbox.pool import Sandbox
from sandbox.records import RUNTIMES, Limits, Runtime
from sandbox.runtimes import RuntimeCheck, check_runtime, registered

RUN_LABEL = "doctor"
"""The ``fenrir.run`` label of the containers the doctor starts."""
PLAN = "ls -ld / >/dev/null && stat -c %a / >/dev/null && echo ok"
"""The plan each runtime must run (it prints ``ok``): what plans do most, look at paths."""


@dataclass(frozen=True)
class RuntimeReport:
    """One runtime on one engine."""

    check: RuntimeCheck
    """Registered, and whether a container starts and runs ``true``."""
    plan_error: str | None = None
    """Why the sandbox plan did not print ``ok`` (its stderr, or the sandbox's error); None when it did."""

    @property
    def works(self) -> bool:
        """Plans run under it as they do under runc."""
        return self.check.starts and self.plan_error is None


@dataclass(frozen=True)
class Diagnosis:
    """Every runtime on one engine."""

    engine: str
    """The engine asked (its endpoint)."""
    runtimes: tuple[str, ...]
    """What the engine has registered."""
    image: Image
    """The sandbox image the checks ran."""
    reports: tuple[RuntimeReport, ...]
    """One per runtime Fenrir knows, runc first."""


def _plan_error(runtime: Runtime, image: Image, engine: str | None) -> str | None:
    empty = materialise(FixtureSpec(name="empty", files=[{"path": ".keep", "text": ""}]))
    try:
        with Sandbox(image=image, engine=engine, run=RUN_LABEL) as pool:
            ex = pool.run(PLAN, empty, Limits(runtime=runtime))
    except SandboxError as exc:
        return str(exc)
    return None if ex.stdout == "ok\n" else (ex.stderr.strip() or f"exit {ex.exit_code}, no message")


def diagnose(engine: str | None = None) -> Diagnosis:
    """Check every runtime on ``engine`` (None: the default one, whose sandbox image is built if missing)."""
    image = ensure_image() if engine is None else find_image(engine)
    if image is None:
        raise SandboxError(f"the engine at {engine} has no sandbox image for this checkout; load it there "
                           f"(docker save | docker load) or point DOCKER_HOST at it and run 'fenrir sandbox build'")
    reports = []
    for runtime in RUNTIMES:
        check = check_runtime(runtime, image, engine)
        reports.append(RuntimeReport(check, _plan_error(runtime, image, engine) if check.starts else None))
    return Diagnosis(engine=engine_name(engine), runtimes=registered(engine), image=image, reports=tuple(reports))
