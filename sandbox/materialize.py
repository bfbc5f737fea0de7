"""Fixture spec -> a deterministic archive, built once and cached.

The archive (:mod:`sandbox.archive`) carries every entry's mode and mtime,
absolute or relative to load time.  Same spec -> same bytes -> same content
hash.  Specs with git repositories or a setup script are finished in a
throwaway container of the fixture's image (:mod:`sandbox.build`); the git
index's stat data is zeroed afterwards so even it is byte-identical.  How the
setup script went (its failing lines, what it left outside the roots) is kept
beside the archive and handed back on every load.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat as st
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from filelock import FileLock

from harness.atomic import write_bytes, write_text
from harness.errors import FixtureError
from harness.paths import cache_dir
from sandbox.archive import Entry, write_tar
from sandbox.build import build_in_container
from sandbox.content import generate
from sandbox.derived import ImageFile, ImageRecipe, ensure_derived
from sandbox.fixture import FixtureSpec
from sandbox.records import SetupFailure, SetupReport
from sandbox.units import parse_size

FORMAT_VERSION = "3"
PAGE = 4096


def pages(size: int) -> int:
    """Bytes a file of ``size`` bytes takes on a tmpfs (whole 4 KiB pages)."""
    return -(-size // PAGE) * PAGE


@dataclass(frozen=True)
class Fixture:
    """A materialised fixture, ready to load into a sandbox."""

    name: str
    """Fixture name."""
    roots: tuple[str, ...]
    """Absolute paths of the trees in the sandbox, each its own tmpfs."""
    workdir: str
    """Where plans run."""
    archive: Path
    """The cached PAX tar."""
    hash: str
    """sha256 of the archive bytes: the fixture's content hash."""
    files: int
    """Number of entries (files, dirs, symlinks)."""
    size: int
    """Total bytes of file content."""
    archive_size: int = 0
    """Bytes of the archive (what the host sends into a container)."""
    stored: int = 0
    """Bytes its files take on a tmpfs, each rounded up to whole 4 KiB pages."""
    image: ImageRecipe = ImageRecipe()
    """What the fixture needs on top of the sandbox image (packages, a setup copy outside the roots)."""
    setup: SetupReport = SetupReport()
    """How its setup script went (failing lines, paths left outside the roots)."""

    @property
    def root(self) -> str:
        """The first (for most fixtures the only) root."""
        return self.roots[0]

    @property
    def setup_failures(self) -> tuple[SetupFailure, ...]:
        return self.setup.failures

    def read(self) -> bytes:
        return self.archive.read_bytes()


def _tree(spec: FixtureSpec) -> dict[str, Entry]:
    """The declared files, named as in the archive (relative to the root, or to '/' with several roots)."""
    entries: dict[str, Entry] = {}
    tops = set() if len(spec.tree_roots) == 1 else {r.lstrip("/") for r in spec.tree_roots}

    def parents(path: str) -> None:
        for parent in reversed(PurePosixPath(path).parents[:-1]):
            key = str(parent)
            if key in tops or any(t.startswith(key + "/") for t in tops):
                continue  # a root, or above one: not part of the tree
            if key not in entries:
                entries[key] = Entry("d", 0o755)
            elif entries[key].type != "d":
                raise FixtureError(f"fixture {spec.name}: {key} is a file but {path} needs it as a directory")

    for f in spec.files:
        parents(f.path)
        if f.dir:
            entry = Entry("d", 0o755)
        elif f.symlink is not None:
            entry = Entry("l", 0o777, target=f.symlink)
        elif f.generate is not None:
            g = f.generate
            size = parse_size(g.size) if g.size is not None else None
            entry = Entry("f", 0o644, data=generate(g.kind, size, g.lines, g.seed))
        else:
            entry = Entry("f", 0o644, data=(f.text or "").encode())
        if f.mode is not None:
            entry.mode = f.mode
        if f.mtime is not None:
            entry.mtime = f.mtime
        if f.path in entries and entries[f.path].type == "d" and entry.type == "d":
            entries[f.path] = entry  # an explicit dir overrides the implicit one
        elif f.path in entries:
            raise FixtureError(f"fixture {spec.name}: {f.path} is declared twice (once as a parent directory)")
        else:
            entries[f.path] = entry
    return entries


def recipe_of(spec: FixtureSpec) -> ImageRecipe:
    """What the fixture's image adds to the sandbox image: its packages, and a setup copy outside its roots."""
    files = ()
    if spec.setup_copy and spec.root_of(spec.setup_copy) is None:
        files = (ImageFile(spec.setup_copy, spec.setup.encode(), 0o755),)
    return ImageRecipe(spec.packages, files)


def _add_setup_copy(spec: FixtureSpec, entries: dict[str, Entry]) -> None:
    """A setup copy inside a root becomes part of the tree, written after the setup ran (mode 0755)."""
    root = spec.root_of(spec.setup_copy) if spec.setup_copy else None
    if root is None:
        return
    if len(spec.tree_roots) == 1:
        rel = PurePosixPath(spec.setup_copy).relative_to(root).as_posix()
    else:
        rel = spec.setup_copy.lstrip("/")
    if rel == ".":
        raise FixtureError(f"fixture {spec.name}: setup_copy {spec.setup_copy} is a root; name a file inside it")
    parent = str(PurePosixPath(rel).parent)
    is_root = parent == "." or "/" + parent in spec.tree_roots
    if not is_root and (parent not in entries or entries[parent].type != "d"):
        raise FixtureError(f"fixture {spec.name}: setup_copy {spec.setup_copy}: the setup left no folder "
                           f"{PurePosixPath(spec.setup_copy).parent} to put it in")
    entries[rel] = Entry("f", 0o755, data=spec.setup.encode(), mtime="rel:0.0")


def spec_key(spec: FixtureSpec, image_digest: str | None) -> str:
    h = hashlib.sha256(f"v{FORMAT_VERSION}\n{spec.key_json()}\n{image_digest or ''}".encode())
    return h.hexdigest()[:24]


def materialise(spec: FixtureSpec) -> Fixture:
    """The cached archive for ``spec``, building it on first use (process-safe)."""
    recipe = recipe_of(spec)
    digest = image = None
    if spec.needs_container:
        image = ensure_derived(recipe)
        digest = image.digest
    key = spec_key(spec, digest)
    folder = cache_dir("fixtures")
    archive = folder / f"{spec.name}-{key}.tar"
    log = archive.with_suffix(".setup.json")
    with FileLock(str(archive) + ".lock"):
        if not archive.exists():
            entries = _tree(spec)
            report = SetupReport()
            if spec.needs_container:
                entries, report = build_in_container(spec, entries, image)
                _add_setup_copy(spec, entries)
            if spec.setup:
                write_text(log, report.model_dump_json(indent=1))
            write_bytes(archive, write_tar(entries))
    report = SetupReport.model_validate_json(log.read_text(encoding="utf-8")) if log.exists() else SetupReport()
    blob = archive.read_bytes()
    files = size = stored = 0
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        for info in tar:
            files += 1
            if info.isfile():
                size += info.size
                stored += pages(info.size)
    return Fixture(name=spec.name, roots=spec.tree_roots, workdir=spec.cwd, archive=archive,
                   hash=hashlib.sha256(blob).hexdigest(), files=files, size=size, archive_size=len(blob),
                   stored=stored, image=recipe, setup=report)


def from_directory(path: str | Path, root: str = "/work", limit: int = 128 * 1024 * 1024,
                   max_entries: int = 20_000) -> Fixture:
    """A fixture copied from a real directory (``fenrir --preview DIR``); DIR is only read.

    Files, directories and symlinks keep their modes and mtimes; symlinks are
    copied as links, never followed; other file types are skipped.  More than
    ``limit`` bytes of file content or ``max_entries`` entries is a FixtureError.
    """
    base = Path(path)
    if not base.is_dir():
        raise FixtureError(f"--preview {path}: not a directory")
    entries: dict[str, Entry] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        if len(entries) + len(dirnames) + len(filenames) > max_entries:
            raise FixtureError(f"--preview {path}: more than {max_entries:,} files and folders; "
                               f"preview a smaller directory")
        for name in sorted(dirnames) + sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(base).as_posix()
            info = full.lstat()
            mtime = f"abs:{info.st_mtime}"
            if st.S_ISLNK(info.st_mode):
                entries[rel] = Entry("l", 0o777, target=os.readlink(full), mtime=mtime)
            elif st.S_ISDIR(info.st_mode):
                entries[rel] = Entry("d", st.S_IMODE(info.st_mode), mtime=mtime)
            elif st.S_ISREG(info.st_mode):
                total += info.st_size
                if total > limit:
                    raise FixtureError(f"--preview {path}: more than {limit // 2**20} MiB of files; "
                                       f"preview a smaller directory")
                try:
                    data = full.read_bytes()
                except PermissionError:
                    raise FixtureError(f"--preview {path}: cannot read {rel}; fix its permissions") from None
                entries[rel] = Entry("f", st.S_IMODE(info.st_mode), data=data, mtime=mtime)
    blob = write_tar(entries)
    digest = hashlib.sha256(blob).hexdigest()
    archive = cache_dir("fixtures", "preview") / f"{digest[:24]}.tar"
    if not archive.exists():
        write_bytes(archive, blob)
    stored = sum(pages(len(e.data)) for e in entries.values() if e.type == "f")
    return Fixture(name=f"dir:{base.resolve().name}", roots=(root,), workdir=root, archive=archive, hash=digest,
                   files=len(entries), size=total, archive_size=len(blob), stored=stored)
