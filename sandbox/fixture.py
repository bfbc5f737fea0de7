"""Fixture specs: declarative file systems that plans run against.

A fixture is a YAML file (``fixtures/NAME.yaml``)::

    name: seed
    description: A project tree, photos, logs and backups.
    root: /work                 # where the tree lives; the plan's cwd
    files:
      - path: project/app/main.py
        text: "print('hi')\\n"
        mode: 0o644             # or 644 / "0644"
        mtime: -3d              # relative to load time, or "2024-01-01T00:00:00Z"
      - path: photos/beach.jpg
        generate: {kind: jpeg, size: 6MiB, seed: 1}
      - path: current
        symlink: project
      - path: empty
        dir: true
    git:
      - path: repo
        commits:
          - {message: "Initial commit", files: {README.md: "hello\\n"}}
        branches: [feature/login]
    setup: |                    # optional; runs in a throwaway sandbox container, as root, no network
      mkdir -p build && echo ok > build/status

A fixture may instead span several absolute roots, each captured, diffed and
reset, with the plans' working directory named apart (file and git paths are
then relative to ``/`` and lie inside a root)::

    roots: [/workspace, /backup]
    workdir: /
    image: {packages: [tree, psmisc]}    # extra Debian packages: a derived image
    setup_copy: /setup.sh               # a copy of the setup script, where the tasks read it

Errors name the file and the field.  Loading is pure: no Docker here.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import FixtureError
from harness.paths import fixtures_dir
from harness.yamlfile import invalid_message, read_mapping
from sandbox.units import parse_mode, parse_mtime, parse_size, relative_path

DEFAULT_ROOT = "/work"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Generate(_Spec):
    """Deterministic generated content."""

    kind: Literal["bytes", "jpeg", "png", "gzip", "pdf", "log", "text"] = "bytes"
    """bytes: seeded random bytes; jpeg/png/gzip/pdf: the same behind real magic bytes
    (so ``file`` names the type); log/text: readable lines."""
    size: int | str | None = None
    """Size in bytes ('6MiB', '5MB', 1200) for binary kinds."""
    lines: int | None = None
    """Number of lines for log/text."""
    seed: int = 0
    """Seed: same seed, same bytes."""

    @model_validator(mode="after")
    def _check(self) -> "Generate":
        if self.kind in ("log", "text"):
            if not self.lines or self.lines < 1:
                raise ValueError(f"generate.kind={self.kind} needs lines: N (N >= 1)")
        elif self.size is None:
            raise ValueError(f"generate.kind={self.kind} needs size: (e.g. 6MiB)")
        else:
            parse_size(self.size)
        return self


class FileSpec(_Spec):
    """One path in the tree: a file (text or generated), a directory or a symlink."""

    path: str
    """Relative path inside the tree."""
    text: str | None = None
    """Inline UTF-8 content."""
    generate: Generate | None = None
    """Generated content instead of text."""
    dir: bool = False
    """An (empty) directory; parents of files are created implicitly."""
    symlink: str | None = None
    """Make a symlink pointing here (relative or absolute target)."""
    mode: int | str | None = None
    """Permission bits; default 0644 for files, 0755 for directories."""
    mtime: int | float | str | None = None
    """Relative (-3d, -2h) or absolute (ISO 8601 or epoch) modification time."""

    _path = field_validator("path")(lambda cls, v: relative_path(v))

    @field_validator("mode")
    @classmethod
    def _mode(cls, v):
        return None if v is None else parse_mode(v)

    @field_validator("mtime")
    @classmethod
    def _mtime(cls, v):
        return None if v is None else parse_mtime(v)

    @model_validator(mode="after")
    def _one_kind(self) -> "FileSpec":
        kinds = [k for k, on in (("text", self.text is not None), ("generate", self.generate is not None),
                                 ("dir", self.dir), ("symlink", self.symlink is not None)) if on]
        if len(kinds) > 1:
            raise ValueError(f"{self.path}: give only one of text, generate, dir, symlink (got {', '.join(kinds)})")
        return self


class GitCommit(_Spec):
    """One commit: files written (or deleted with null), then `git add -A; git commit`."""

    message: str
    """Commit message."""
    files: dict[str, str | None] = Field(default_factory=dict)
    """Relative path inside the repo -> new content, or null to delete it."""
    branch: str | None = None
    """Commit on this branch (created from the current HEAD if missing)."""
    date: str | None = None
    """Author and committer date (ISO 8601); default: a fixed date per commit."""

    @field_validator("files")
    @classmethod
    def _paths(cls, v):
        for path in v:
            relative_path(path)
        return v


class GitRepo(_Spec):
    """A git repository built commit by commit with fixed dates (same spec, same hashes)."""

    path: str = "."
    """Where the repository lives inside the tree."""
    branch: str = "main"
    """The initial branch."""
    commits: list[GitCommit] = Field(min_length=1)
    """Commits in order."""
    branches: list[str] = Field(default_factory=list)
    """Extra branches created at the end, pointing at the final HEAD."""
    checkout: str | None = None
    """Branch checked out at the end (default: the initial branch)."""

    @field_validator("path")
    @classmethod
    def _path(cls, v):
        return "." if v in (".", "") else relative_path(v)


_SYSTEM_DIRS = frozenset({"proc", "sys", "dev", "etc", "usr", "bin", "sbin", "lib", "lib64", "tmp", "run", "opt",
                          "var", "boot", "root"})
_MOUNTED = ("/tmp", "/home/user", "/proc", "/sys", "/dev")  # the sandbox mounts over these
_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


def _absolute_root(value: str) -> str:
    p = PurePosixPath(value)
    if not p.is_absolute() or ".." in p.parts or str(p) == "/":
        raise ValueError(f"root must be an absolute directory other than '/': {value!r}")
    if str(p).split("/")[1] in _SYSTEM_DIRS:
        raise ValueError(f"root {value!r} would hide part of the system; use e.g. /work or /testbed")
    if any(str(p) == m or str(p).startswith(m + "/") or m.startswith(str(p) + "/") for m in _MOUNTED):
        raise ValueError(f"root {value!r} overlaps {', '.join(_MOUNTED)}, which the sandbox mounts itself")
    return str(p)


def _absolute(value: str, what: str) -> str:
    p = PurePosixPath(value)
    if not p.is_absolute() or ".." in p.parts:
        raise ValueError(f"{what} must be an absolute path without '..': {value!r}")
    return str(p)


def inside(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it (both absolute)."""
    return path == root or root == "/" or path.startswith(root.rstrip("/") + "/")


class ImageSpec(_Spec):
    """What a fixture or suite needs on top of the sandbox image: a derived image, built once per content."""

    packages: list[str] = Field(default_factory=list)
    """Debian (bookworm) package names, installed with apt-get in a RUN step on top of the sandbox image."""

    @field_validator("packages")
    @classmethod
    def _packages(cls, v: list[str]) -> list[str]:
        for name in v:
            if not isinstance(name, str) or not _PACKAGE.match(name):
                raise ValueError(f"{name!r} is not a Debian package name (lowercase letters, digits, '+', '-', '.')")
        twice = sorted({n for n in v if v.count(n) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed more than once")
        return v


class FixtureSpec(_Spec):
    """A whole fixture file system."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    """Fixture name, used on the command line and in results."""
    description: str = ""
    """What it is for."""
    root: str = DEFAULT_ROOT
    """Absolute path where the tree lives in the sandbox; the plan's working directory unless workdir says otherwise."""
    roots: list[str] | None = None
    """Several absolute roots instead of ``root``, each captured, diffed and reset; file and git paths are
    then relative to '/' and lie inside a root, and the diff names absolute paths.  One root behaves as ``root``."""
    workdir: str | None = None
    """The plans' (and the setup script's) working directory: any absolute directory of the fixture or of the
    image (e.g. '/'); default: the root.  Required with several roots."""
    image: ImageSpec | None = None
    """Extra Debian packages the fixture's tasks need (a derived image; the setup runs in it too)."""
    files: list[FileSpec] = Field(default_factory=list)
    """Paths in the tree."""
    git: list[GitRepo] = Field(default_factory=list)
    """Git repositories built on top of the files."""
    setup: str | None = None
    """Shell script run after files and git, in workdir, as root in a throwaway container of the fixture's image
    with no network, as a plain ``bash script`` (like a Dockerfile RUN step): a failing line does not stop it, it
    is listed as a warning with its exit status and stderr; only a script that leaves nothing in the roots fails."""
    setup_copy: str | None = None
    """Absolute path where a copy of the setup script is left (mode 0755), as InterCode's images COPY it to '/':
    inside a root it becomes part of the tree, elsewhere it is baked into the fixture's image (read-only)."""

    @field_validator("root")
    @classmethod
    def _root(cls, v):
        return _absolute_root(v)

    @field_validator("roots")
    @classmethod
    def _roots(cls, v):
        if v is None:
            return v
        if not v:
            raise ValueError("give at least one root (or leave roots out and use root)")
        out = [_absolute_root(r) for r in v]
        for a in out:
            for b in out:
                if a is not b and inside(a, b):
                    raise ValueError(f"{a} is the same as or inside {b}: roots must be distinct and not nested")
        return out

    @field_validator("workdir")
    @classmethod
    def _workdir(cls, v):
        return None if v is None else _absolute(v, "workdir")

    @field_validator("setup_copy")
    @classmethod
    def _setup_copy(cls, v):
        if v is None:
            return v
        v = _absolute(v, "setup_copy")
        if v == "/" or any(inside(v, m) for m in _MOUNTED):
            raise ValueError(f"setup_copy {v!r} would be hidden by the sandbox's own mounts ({', '.join(_MOUNTED)})")
        return v

    @model_validator(mode="after")
    def _layout(self) -> "FixtureSpec":
        if self.roots is not None and "root" in self.model_fields_set:
            raise ValueError("give root or roots, not both")
        if len(self.tree_roots) > 1:
            if self.workdir is None:
                raise ValueError(f"workdir is required with several roots ({', '.join(self.tree_roots)}); "
                                 f"e.g. workdir: / or workdir: {self.tree_roots[0]}")
            for field, paths in (("files", [f.path for f in self.files]), ("git", [g.path for g in self.git])):
                for i, path in enumerate(paths):
                    if self.root_of("/" + path) is None:
                        raise ValueError(f"{field}.{i}.path {path!r} is not inside any root; with several roots, "
                                         f"paths are relative to '/' (e.g. {self.tree_roots[0][1:]}/a.txt)")
        if self.setup_copy is not None and not self.setup:
            raise ValueError("setup_copy needs a setup script to copy")
        return self

    @model_validator(mode="after")
    def _unique(self) -> "FixtureSpec":
        seen = set()
        for f in self.files:
            if f.path in seen:
                raise ValueError(f"path {f.path!r} appears twice in files")
            seen.add(f.path)
        return self

    @property
    def tree_roots(self) -> tuple[str, ...]:
        """Every root, in the order given."""
        return tuple(self.roots) if self.roots else (self.root,)

    @property
    def cwd(self) -> str:
        """Where plans and the setup script run."""
        return self.workdir or self.tree_roots[0]

    def root_of(self, path: str) -> str | None:
        """The root an absolute path lies in, if any."""
        return next((r for r in self.tree_roots if inside(path, r)), None)

    @property
    def packages(self) -> tuple[str, ...]:
        """The extra Debian packages, sorted."""
        return tuple(sorted(self.image.packages)) if self.image else ()

    @property
    def needs_container(self) -> bool:
        """Git repositories and setup scripts are built inside the sandbox image."""
        return bool(self.git or self.setup)

    def key_json(self) -> str:
        """The spec as JSON for cache keys; fields added later are left out while unset, so keys of older
        specs do not move."""
        unset = {f for f in ("roots", "workdir", "image", "setup_copy") if getattr(self, f) is None}
        return self.model_dump_json(exclude=unset)


def load_spec(path: str | Path) -> FixtureSpec:
    """Read and validate one fixture YAML file."""
    path = Path(path)
    raw = read_mapping(path, "fixture", FixtureError, "at least 'name:' and 'files:'")
    raw.setdefault("name", path.stem)
    try:
        return FixtureSpec.model_validate(raw)
    except ValidationError as exc:
        raise FixtureError(invalid_message("fixture", str(path), exc)) from None


def available(directory: Path | None = None) -> dict[str, Path]:
    """Fixture name -> YAML file, for every fixture in ``directory`` (default: the shipped ``fixtures/``)."""
    return {p.stem: p for p in sorted((directory or fixtures_dir()).glob("*.yaml"))}


def find_spec(name_or_path: str | Path, directory: Path | None = None) -> FixtureSpec:
    """A fixture by name (``fixtures/NAME.yaml``) or by path to a YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return load_spec(candidate)
    known = available(directory)
    if str(name_or_path) not in known:
        names = ", ".join(known) or "(none)"
        raise FixtureError(f"unknown fixture {name_or_path!r}; known fixtures: {names} "
                           f"(or pass a path to a fixture YAML file)")
    return load_spec(known[str(name_or_path)])
