"""Derived sandbox images: the sandbox image plus what a fixture or suite needs.

A fixture or suite may name extra Debian packages (``image: {packages: [tree,
psmisc]}``), and a fixture may leave a copy of its setup script outside its
roots (``setup_copy: /setup.sh``, as InterCode's images COPY it to ``/``).
Both become an :class:`ImageRecipe`; :func:`ensure_derived` builds it once on
top of the sandbox image::

    FROM fenrir-sandbox:<context hash>
    RUN apt-get update && apt-get install -y --no-install-recommends PACKAGES ...
    COPY files/0 /setup.sh

tagged ``fenrir-sandbox:<base context hash>-<recipe hash>``, so the same
recipe on the same base is never built twice.  The installed versions are
written to ``/etc/fenrir-packages.txt`` as in the base image, and the derived
image's digest is what every Execution run in it records.  Containers reach
the Debian mirror during the build; plans never have a network.
"""

from __future__ import annotations

import hashlib
import io
import re
import shlex
import sys
import tarfile
from dataclasses import dataclass, field

from filelock import FileLock

from harness.errors import ImageError
from harness.paths import cache_dir
from sandbox.endpoints import home
from sandbox.engine import LABEL, Image, client, ensure_image

RECIPE_VERSION = "1"


@dataclass(frozen=True)
class ImageFile:
    """A file baked into a derived image (read-only for plans: the root file system is)."""

    path: str
    """Absolute path in the image."""
    data: bytes
    """Its bytes."""
    mode: int = 0o755
    """Permission bits (owner root)."""


@dataclass(frozen=True)
class ImageRecipe:
    """What a derived image adds to the sandbox image; the empty recipe is the sandbox image itself."""

    packages: tuple[str, ...] = ()
    """Debian package names, sorted and unique."""
    files: tuple[ImageFile, ...] = field(default=())
    """Files copied in after the packages."""

    @property
    def empty(self) -> bool:
        return not self.packages and not self.files

    def plus(self, packages) -> "ImageRecipe":
        """This recipe with more packages (a suite's on top of a fixture's)."""
        return ImageRecipe(tuple(sorted(set(self.packages) | set(packages))), self.files)

    def key(self, base: Image) -> str:
        """Hash of the recipe and the base it builds on: the derived image's tag suffix."""
        h = hashlib.sha256(f"v{RECIPE_VERSION}\n{base.digest}\n".encode())
        h.update(("\n".join(self.packages) + "\n").encode())
        for f in self.files:
            h.update(f"{f.path}\0{f.mode:o}\0{hashlib.sha256(f.data).hexdigest()}\n".encode())
        return h.hexdigest()[:16]

    def tag(self, base: Image) -> str:
        repo, _, base_tag = base.tag.partition(":")
        return f"{repo}:{base_tag}-{self.key(base)}"

    def dockerfile(self, base: Image) -> str:
        lines = [f"FROM {base.tag}"]
        if self.packages:
            names = " ".join(shlex.quote(p) for p in self.packages)
            lines.append("RUN apt-get update \\\n && apt-get install -y --no-install-recommends " + names + " \\\n"
                         " && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \\\n"
                         " && dpkg-query -W -f '${Package}=${Version}\\n' > /etc/fenrir-packages.txt")
        for i, f in enumerate(self.files):
            lines.append(f"COPY files/{i} {f.path}")
        return "\n".join(lines) + "\n"

    def context(self, base: Image) -> bytes:
        """The build context: the Dockerfile and the files (their modes carried by the tar)."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            def add(name: str, data: bytes, mode: int) -> None:
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), mode, 0
                tar.addfile(info, io.BytesIO(data))
            add("Dockerfile", self.dockerfile(base).encode(), 0o644)
            for i, f in enumerate(self.files):
                add(f"files/{i}", f.data, f.mode)
        return buf.getvalue()


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)  # never on stdout: `fenrir sandbox run --json` prints the record there


def ensure_derived(recipe: ImageRecipe, base: Image | None = None, *, log=_to_stderr,
                   engine: str | None = None) -> Image:
    """The image for ``recipe`` on ``base`` (default: the sandbox image), built on ``engine`` (default: the home
    engine) if it is missing there; ``base`` must be on that engine."""
    from docker.errors import APIError, BuildError, ImageNotFound

    engine = engine or home()
    base = base or ensure_image(log=log, engine=engine)
    if recipe.empty:
        return base
    tag = recipe.tag(base)
    cl = client(engine)
    where = "" if engine == home() else "-" + hashlib.sha256(engine.encode()).hexdigest()[:12]
    with FileLock(str(cache_dir("images") / f"{tag.replace(':', '-')}{where}.lock")):
        try:
            return Image(tag=tag, digest=cl.images.get(tag).id, base=base.tag)
        except ImageNotFound:
            pass
        what = ", ".join(recipe.packages) or "no packages"
        log(f"fenrir: building {tag} on {base.tag} ({what}; {len(recipe.files)} file(s)) ...")
        try:
            img, _ = cl.images.build(fileobj=io.BytesIO(recipe.context(base)), custom_context=True, tag=tag,
                                     rm=True, forcerm=True, labels={LABEL: "image"}, network_mode="default")
        except BuildError as exc:
            log_text = re.sub(r"\x1b\[[0-9;]*m", "", "".join(c.get("stream", "") for c in exc.build_log
                                                             if isinstance(c, dict)))
            said = [ln.strip() for ln in log_text.splitlines() if ln.strip().startswith(("E:", "W:"))]
            why = "; ".join(said) or log_text.strip()[-800:] or exc.msg
            raise ImageError(f"building the sandbox image with packages [{what}] failed: {why}; "
                             f"check the package names (Debian bookworm) under image.packages") from exc
        except (APIError, OSError) as exc:  # OSError: the engine's connection (requests raises those)
            raise ImageError(f"building the sandbox image with packages [{what}] failed: {exc}") from exc
    log(f"fenrir: built {tag} ({img.id[:19]})")
    return Image(tag=tag, digest=img.id, base=base.tag)
