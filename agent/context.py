"""Grounding: a compact, deterministic listing of the directory a request is about.

The agent cannot answer "show the first line of sales.csv" without knowing that
the file is ``reports/2025/sales.csv``.  So the prompt carries a listing of the
working directory, the way ``find . -maxdepth 3`` would show it, trimmed::

    Directory /work (git repository, branch main):
    backup.tar.gz
    notes.txt
    photos/
    photos/beach.jpg
    photos/family/ (2 entries not shown)
    project/ (git repository, branch develop)
    project/src/app.py
    logs/latest.log -> server.log

**What is read**: names, types (file, directory, symbolic link and its target
name) and, for each git repository, its current branch (the one line of
``.git/HEAD``).  **What never is**: the contents of any file, sizes, times,
owners, and anything inside ``.git``.

**The bounds** (:class:`Bounds`): entries are taken breadth first (every name at
depth 1, then depth 2, ...) up to ``max_depth``, until ``max_entries`` or
``max_chars`` is reached; a directory whose entries were not all shown says how
many were left out.  Scanning a large tree stops early: at most
``scan_limit`` names are ever read.  Sorting is by path, bytewise, so the same
tree gives the same text on every machine.

The listing is built from a :class:`Tree` (relative paths and their kinds), so
a real directory (:func:`scan_directory`) and a fixture archive (the harness)
give exactly the same text for the same tree.  Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal

Kind = Literal["file", "dir", "link"]

NOT_EXPANDED = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox",
                          ".mypy_cache", ".pytest_cache", ".cache", ".idea"})
"""Directories whose contents are never listed (they are shown, with their entry count)."""


@dataclass(frozen=True)
class Bounds:
    """How much of a tree a listing may show."""

    max_depth: int = 3
    """Deepest level shown (1: only the directory's own entries)."""
    max_entries: int = 60
    """Most entries shown."""
    max_chars: int = 1600
    """Most characters of listing text (about 500 tokens for SmolLM2's tokenizer)."""
    scan_limit: int = 5000
    """Most names read from disk while scanning a real directory."""


DEFAULT_BOUNDS = Bounds()


@dataclass(frozen=True)
class Node:
    """One entry of a tree."""

    path: str
    """Path relative to the listed directory, '/'-separated, no leading './'."""
    kind: Kind
    """file, dir or link."""
    target: str = ""
    """A symbolic link's target, as stored in the link."""


@dataclass
class Tree:
    """The names in a directory (possibly only the first part of a huge one) and its git repositories."""

    nodes: dict[str, Node] = field(default_factory=dict)
    """Every entry read, by path."""
    branches: dict[str, str] = field(default_factory=dict)
    """Git repository (relative path, '' for the directory itself) -> current branch (or 'detached')."""
    counts: dict[str, int] = field(default_factory=dict)
    """Entry count of directories whose entries were not all read (scan limit, or never expanded)."""

    def add(self, path: str, kind: Kind, target: str = "") -> None:
        self.nodes[path] = Node(path, kind, target)

    def children(self) -> dict[str, list[str]]:
        """Directory ('' for the root) -> its entries' paths, sorted."""
        out: dict[str, list[str]] = {}
        for path in self.nodes:
            parent = path.rpartition("/")[0]
            out.setdefault(parent, []).append(path)
        for paths in out.values():
            paths.sort()
        return out


@dataclass(frozen=True)
class Listing:
    """A rendered listing and what a trace needs to identify it."""

    text: str
    """The listing as it goes into the prompt."""
    shown: int
    """Entries shown."""
    total: int
    """Entries known (read from disk, or in the archive); more may exist beyond the scan limit."""
    truncated: bool
    """Whether some entries were left out."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def chars(self) -> int:
        return len(self.text)


def branch_of(head: str) -> str:
    """The branch named by the text of a ``.git/HEAD`` file ('detached' for a bare commit id)."""
    head = head.strip()
    if head.startswith("ref:"):
        ref = head[4:].strip()
        return ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref
    return "detached"


def _is_dir(path: Path) -> bool:
    """Whether ``path`` is a directory; False when it cannot be looked at (permissions)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _read_head(git_dir: Path) -> str | None:
    try:
        with open(git_dir / "HEAD", encoding="utf-8", errors="replace") as fh:
            return branch_of(fh.read(256))
    except OSError:
        return None


def scan_directory(path: str | Path, bounds: Bounds = DEFAULT_BOUNDS) -> Tree:
    """Read the names under ``path`` breadth first, never following symbolic links.

    Only names and types are read (``os.scandir``), plus ``.git/HEAD`` of each
    repository.  Directories that cannot be read are listed as empty.
    """
    base = Path(path)
    tree = Tree()
    head = _read_head(base / ".git") if _is_dir(base / ".git") else None
    if head is not None:
        tree.branches[""] = head
    level = [""]
    read = 0
    for depth in range(1, bounds.max_depth + 1):
        below: list[str] = []
        for rel in level:
            try:
                with os.scandir(base / rel if rel else base) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            if read + len(entries) > bounds.scan_limit:
                tree.counts[rel] = len(entries)
                continue
            read += len(entries)
            for entry in entries:
                child = f"{rel}/{entry.name}" if rel else entry.name
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError:
                    continue
                if stat.S_ISLNK(mode):
                    try:
                        target = os.readlink(entry.path)
                    except OSError:
                        target = "?"
                    tree.add(child, "link", target)
                elif stat.S_ISDIR(mode):
                    tree.add(child, "dir")
                    git_dir = Path(entry.path) / ".git"
                    if entry.name not in NOT_EXPANDED and _is_dir(git_dir):
                        branch = _read_head(git_dir)
                        if branch is not None:
                            tree.branches[child] = branch
                    if entry.name in NOT_EXPANDED:
                        tree.counts[child] = _count(entry.path)
                    else:
                        below.append(child)
                else:
                    tree.add(child, "file")
        level = below
    for rel in level:  # one level past the deepest shown: how many entries each has
        tree.counts[rel] = _count(base / rel)
    return tree


def _count(path: str | Path) -> int:
    try:
        with os.scandir(path) as it:
            return sum(1 for _ in it)
    except OSError:
        return 0


def tree_from_paths(items: Iterable[tuple[str, Kind, str]], heads: dict[str, str] | None = None) -> Tree:
    """A :class:`Tree` from ``(path, kind, link target)`` triples (e.g. a fixture archive's members).

    ``heads`` maps a repository's relative path to the text of its ``.git/HEAD``.
    Entries inside never-expanded directories (``.git``, ``node_modules``, ...)
    are counted, not kept, exactly as :func:`scan_directory` sees them.
    """
    tree = Tree()
    for path, kind, target in items:
        path = path.strip("/")
        if path.startswith("./"):
            path = path[2:]
        if not path or path == ".":
            continue
        parts = path.split("/")
        hidden = next((i for i, part in enumerate(parts[:-1]) if part in NOT_EXPANDED), None)
        if hidden is not None:
            folder = "/".join(parts[:hidden + 1])
            if hidden + 2 == len(parts):
                tree.counts[folder] = tree.counts.get(folder, 0) + 1
            continue
        tree.add(path, kind, target)
        if parts[-1] in NOT_EXPANDED and kind == "dir":
            tree.counts.setdefault(path, 0)
    for repo, head in (heads or {}).items():
        tree.branches[repo.strip("/")] = branch_of(head)
    return tree


def _line(node: Node, tree: Tree, hidden: int) -> str:
    if node.kind == "link":
        return f"{node.path} -> {node.target}"
    if node.kind == "file":
        return node.path
    notes = []
    if node.path in tree.branches:
        notes.append(f"git repository, branch {tree.branches[node.path]}")
    if hidden:
        notes.append(f"{hidden} entr{'y' if hidden == 1 else 'ies'} not shown")
    return f"{node.path}/" + (f" ({', '.join(notes)})" if notes else "")


def _cost(node: Node) -> int:
    """Characters a node's line may take (directories leave room for their note)."""
    if node.kind == "link":
        return len(node.path) + len(node.target) + 5
    return len(node.path) + (40 if node.kind == "dir" else 1)


def _select(tree: Tree, children: dict[str, list[str]], bounds: Bounds, budget: int) -> list[str]:
    """Paths shown: level by level; within a level, round robin over the directories (the first
    entry of each, then the second of each, ...), so no directory takes the whole budget."""
    chosen: list[str] = []
    parents, depth = [""], 1
    while parents and depth <= bounds.max_depth:
        groups = [children.get(p, []) for p in parents]
        order = [g[i] for i in range(max(map(len, groups), default=0)) for g in groups if i < len(g)]
        below: list[str] = []
        for path in order:
            node = tree.nodes[path]
            if len(chosen) >= bounds.max_entries or _cost(node) > budget:
                return chosen
            chosen.append(path)
            budget -= _cost(node)
        below = sorted(p for p in order if tree.nodes[p].kind == "dir")
        parents, depth = below, depth + 1
    return chosen


def render(tree: Tree, where: str, bounds: Bounds = DEFAULT_BOUNDS) -> Listing:
    """The listing text of ``tree`` as seen from directory ``where`` (an absolute path, for the header)."""
    visible = Tree({p: n for p, n in tree.nodes.items() if p.rpartition("/")[2] != ".git"},
                   tree.branches, {p: c for p, c in tree.counts.items() if p.rpartition("/")[2] != ".git"})
    header = f"Directory {where}"
    if "" in visible.branches:
        header += f" (git repository, branch {visible.branches['']})"
    header += ":"
    children = visible.children()
    chosen = _select(visible, children, bounds, bounds.max_chars - len(header) - 40)
    shown = set(chosen)

    def hidden_under(path: str) -> int:
        kids = children.get(path, [])
        seen = sum(1 for k in kids if k in shown)
        return max(len(kids), visible.counts.get(path, 0)) - seen

    lines = [header] + [_line(visible.nodes[p], visible, hidden_under(p)) for p in sorted(chosen)]
    top = hidden_under("")
    if not visible.nodes:
        lines.append("(empty)")
    elif top:
        lines.append(f"({top} more entr{'y' if top == 1 else 'ies'} not shown)")
    truncated = any(hidden_under(p) for p in [""] + chosen)
    return Listing(text="\n".join(lines), shown=len(chosen), total=len(visible.nodes), truncated=truncated)


def list_directory(path: str | Path, bounds: Bounds = DEFAULT_BOUNDS) -> Listing:
    """The listing of a real directory, headed by its absolute path."""
    base = Path(path).expanduser()
    return render(scan_directory(base, bounds), str(base.resolve()), bounds)
