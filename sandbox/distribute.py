"""Images on several engines: built once on the home engine, streamed to the others.

Every engine that runs plans needs the sandbox image, and the derived images
(:mod:`sandbox.derived`) of the fixtures it runs.  An image an engine lacks
comes, in this order of preference:

1. from another engine that has it: ``docker save`` there streamed into
   ``docker load`` here, through this process, chunk by chunk (nothing held
   whole in memory; 342 MB took 6-10 s between two local engines).  An engine
   without network access (the extra local engines of ``sandbox/engine.sh``)
   gets its images this way;
2. else built on the home engine (:func:`sandbox.endpoints.home`), then
   streamed here;
3. else, when the home engine does not answer, built here.

Streaming comes first, even for an engine that could build, because a
streamed image keeps its id: every engine runs the very image the run
recorded (``RunMeta.image_digest``, ``Execution.image_digest``), the
execution cache is shared by all engines, and derived images (whose tags
hash their base's id) are the same everywhere; a build there would make
another id.  A load that gives another id is refused, and an engine whose
sandbox image differs from the home engine's (after ``fenrir sandbox build
--rebuild`` there) gets the home engine's.  A file lock per (engine, tag)
keeps two processes from streaming the same image to one engine at once.
"""

from __future__ import annotations

import hashlib
import sys
import time

from filelock import FileLock

from harness.errors import SandboxUnavailable
from harness.paths import cache_dir
from sandbox.derived import ImageRecipe, ensure_derived
from sandbox.endpoints import configured, home
from sandbox.engine import Image, answers, client, ensure_image, find_image


def _say(message: str) -> None:
    print(message, file=sys.stderr)  # never on stdout: `fenrir sandbox run --json` prints its record there


def _lookup(tag: str, engine: str) -> str | None:
    """The id of ``tag`` on ``engine``, or None when it has no such image."""
    from docker.errors import ImageNotFound

    try:
        return client(engine).images.get(tag).id
    except ImageNotFound:
        return None


def _others(target: str) -> list[str]:
    """The configured engines other than ``target`` that answer, home first."""
    return [e for e in configured() if e != target and answers(e)]


def copy_image(image: Image, source: str, target: str, *, log=_say) -> Image:
    """``image`` (on ``source``) loaded into ``target`` by streaming ``docker save`` into ``docker load``.

    SandboxUnavailable when the transfer fails or ``target`` ends up with another image id."""
    from docker.errors import DockerException

    key = hashlib.sha256(f"{target}|{image.tag}".encode()).hexdigest()[:20]
    with FileLock(str(cache_dir("images") / f"load-{key}.lock")):
        if _lookup(image.tag, target) == image.digest:
            return image  # another process streamed it meanwhile
        log(f"fenrir: streaming {image.tag} from {source} to {target} (docker save | docker load) ...")
        started = time.perf_counter()
        try:
            client(target).images.load(client(source).api.get_image(image.tag))
        except (DockerException, OSError) as exc:
            raise SandboxUnavailable(f"could not stream {image.tag} from {source} to {target}: {exc}") from exc
        loaded = _lookup(image.tag, target)
        if loaded != image.digest:
            raise SandboxUnavailable(f"engine {target} loaded {image.tag} as {loaded}, not {image.digest}: "
                                     f"results there would not be comparable; remove that image on {target}")
        log(f"fenrir: {image.tag} is on {target} ({time.perf_counter() - started:.1f} s)")
    return image


def sandbox_image(target: str | None = None, *, log=_say) -> Image:
    """The sandbox image on ``target`` (default: home): already there, streamed from an engine that has it,
    or built on the home engine (then streamed)."""
    target = target or home()
    found = find_image(target)
    if found is not None and target != home() and answers(home()):
        at_home = find_image(home())
        if at_home is not None and at_home.digest != found.digest:  # rebuilt at home since: take that one
            return copy_image(at_home, home(), target, log=log)
    if found is not None:
        return found
    for source in _others(target):
        found = find_image(source)
        if found is not None:
            return copy_image(found, source, target, log=log)
    built_on = home() if target != home() and answers(home()) else target
    built = ensure_image(log=log, engine=built_on)
    return built if built_on == target else copy_image(built, built_on, target, log=log)


def derived_image(recipe: ImageRecipe, base: Image, target: str | None = None, *, log=_say) -> Image:
    """The derived image of ``recipe`` on ``base`` on ``target`` (default: home), obtained as
    :func:`sandbox_image` obtains the sandbox image; ``base`` must be the image ``target`` has."""
    target = target or home()
    if recipe.empty:
        return base
    tag = recipe.tag(base)
    digest = _lookup(tag, target)
    if digest is not None:
        return Image(tag=tag, digest=digest, base=base.tag)
    if target == home():
        return ensure_derived(recipe, base, log=log, engine=target)
    for source in _others(target):
        digest = _lookup(tag, source)
        if digest is not None:
            return copy_image(Image(tag=tag, digest=digest, base=base.tag), source, target, log=log)
    if not answers(home()):
        return ensure_derived(recipe, base, log=log, engine=target)
    built = ensure_derived(recipe, sandbox_image(home(), log=log), log=log, engine=home())
    return copy_image(built, home(), target, log=log)
