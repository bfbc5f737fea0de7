"""What a materialised fixture holds: the names an imported row may use.

:func:`catalog` reads the fixture's cached archive (``sandbox.load_fixture``) -- the tree exactly as a
plan sees it, files made by git and ``setup`` included -- and keeps every path outside ``.git``
folders with its type, size, mode and (for small UTF-8 files) its text.  ``data.tldr`` fills
placeholders from it; the tests check that a row's names exist in it.
"""

from __future__ import annotations

import functools
import posixpath
import tarfile
from dataclasses import dataclass
from typing import Literal

import sandbox

TEXT_LIMIT = 64 * 1024
"""Files up to this size whose bytes decode as UTF-8 keep their text."""


@dataclass(frozen=True)
class Entry:
    """One path of a fixture tree."""

    path: str
    """Relative to the fixture root, no leading ``./``."""
    kind: Literal["file", "dir", "symlink"]
    """What it is."""
    size: int = 0
    """Bytes (files)."""
    mode: int = 0o644
    """Permission bits."""
    text: str | None = None
    """The content of a small UTF-8 file, else None."""

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def hidden(self) -> bool:
        return any(part.startswith(".") for part in self.path.split("/"))


@dataclass(frozen=True)
class Catalog:
    """Every entry of one fixture, plus its git repositories and their branches."""

    fixture: str
    """Fixture name."""
    entries: tuple[Entry, ...]
    """Paths outside ``.git`` folders, sorted."""
    repos: tuple[str, ...]
    """Folders holding a ``.git`` directory (``.`` for the root)."""
    branches: dict[str, tuple[str, ...]]
    """Repository -> its local branch names (``refs/heads``), sorted."""

    @functools.cached_property
    def paths(self) -> frozenset[str]:
        return frozenset(e.path for e in self.entries)

    def files(self, ext: str | None = None, *, text: bool = False, under: str = "") -> list[Entry]:
        """Visible regular files, optionally with extension ``ext`` (``tar.gz``), text only, or under a folder."""
        prefix = "" if under in ("", ".") else under.rstrip("/") + "/"
        return [e for e in self.entries if e.kind == "file" and not e.hidden and e.path.startswith(prefix)
                and (ext is None or e.name.endswith("." + ext)) and (not text or bool(e.text and e.text.strip()))]

    def dirs(self) -> list[Entry]:
        """Visible folders that hold at least one visible file."""
        full = {posixpath.dirname(e.path) for e in self.files()}
        return [e for e in self.entries if e.kind == "dir" and not e.hidden and e.path in full]

    def exists(self, path: str) -> bool:
        clean = posixpath.normpath(path.removeprefix("./"))
        return clean == "." or clean in self.paths


def _text(data: bytes) -> str | None:
    if len(data) > TEXT_LIMIT or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@functools.lru_cache(maxsize=16)
def catalog(fixture: str) -> Catalog:
    """The catalog of a fixture by name (materialised on first use, then read from the cache)."""
    fx = sandbox.load_fixture(fixture)
    entries: list[Entry] = []
    repos: list[str] = []
    branches: dict[str, list[str]] = {}
    with tarfile.open(fx.archive) as tar:
        for member in tar.getmembers():
            path = posixpath.normpath(member.name.removeprefix("./"))
            parts = path.split("/")
            if ".git" in parts:
                i = parts.index(".git")
                repo = "/".join(parts[:i]) or "."
                if path.endswith("/.git") or path == ".git":
                    repos.append(repo)
                if parts[i + 1:i + 3] == ["refs", "heads"] and member.isfile():
                    branches.setdefault(repo, []).append("/".join(parts[i + 3:]))
                continue
            if member.isdir():
                entries.append(Entry(path, "dir", mode=member.mode & 0o7777))
            elif member.issym():
                entries.append(Entry(path, "symlink", mode=member.mode & 0o7777))
            elif member.isfile():
                data = tar.extractfile(member).read() if member.size <= TEXT_LIMIT else b""
                entries.append(Entry(path, "file", member.size, member.mode & 0o7777,
                                     _text(data) if member.size <= TEXT_LIMIT else None))
    return Catalog(fixture, tuple(sorted(entries, key=lambda e: e.path)), tuple(sorted(repos)),
                   {r: tuple(sorted(b)) for r, b in sorted(branches.items())})
