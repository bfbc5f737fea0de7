"""tldr ``{{placeholders}}``: what each one asks for, and a value for it from a fixture.

:func:`slot` reads one placeholder's text into a :class:`Slot` (or None when there is no rule for it;
the example is then dropped as ``unfillable``):

==============================  =============================================================================
placeholder                     filled with
==============================  =============================================================================
``[-c|--check]``                the short option (``-c``): the form the template rows use; a long-only choice
                                keeps its first form
``a|b|c`` (no brackets)         no rule: a choice the request cannot name without rewriting its meaning
``path/to/file``, ``file1``...  an existing visible text file of the fixture (``path/to/file.EXT``: a file
                                with that extension, any content)
``path/to/directory``           an existing folder holding files
``path/to/file_or_directory``   an existing text file
``path/to/symlink``             an existing symlink
``... path/to/file2 ...``       two existing files of the same kind, in one folder where possible
``new_*``, ``output*``,         a new name that does not exist in the fixture (``output.txt``, ``backup.tar.gz``,
``target*``, ``dest*``          folder ``backup``...), with the placeholder's extension
``*.ext``                       ``*.EXT`` for an extension present (in the chosen folder when there is one)
``10``, ``-1``, ``+5``          kept as written
``Hello World``                 kept as written (text with spaces that names no generic thing and has no
                                snake_case placeholder name such as ``function_name1``)
numbers (``n``, ``count``...)   :data:`NUMBERS`
patterns (``search_pattern``..) a word that occurs in the chosen file (or folder): so the command finds it
git (``commit``, ``branch``..)  ``HEAD~1``, an existing branch other than the current one, a new branch name...
``username``, ``group``         ``user`` (the sandbox's plan user and group)
==============================  =============================================================================

Devices (``/dev/sdXN``), binaries, pipes, URLs, hosts, remotes, packages, process ids, variables and
commands (``{{command}}``) have no rule.
"""

from __future__ import annotations

import posixpath
import random
import re
from dataclasses import dataclass
from typing import Literal

from data.catalog import Catalog, Entry

NUMBERS = {
    "n": "3", "count": "3", "number": "3", "num": "3", "lines": "5", "line_count": "5", "number_of_lines": "5",
    "num_lines": "5", "line_number": "2", "bytes": "20", "byte_count": "20", "characters": "20", "width": "30",
    "depth": "2", "max_depth": "2", "level": "2", "days": "7", "seconds": "1", "column_number": "2",
    "field_number": "2", "column": "2", "field": "2", "k": "2", "start_line": "2", "end_line": "4",
    "number_of_commits": "3", "size": "10",
}
"""Numeric placeholders -> the value used (small, so the command prints a little)."""
PATTERNS = frozenset({
    "pattern", "search_pattern", "regex", "regular_expression", "search_string", "string", "word", "text",
    "keyword", "substring", "search_term", "query", "search_text", "find_text", "pattern_1", "pattern1",
    "search_pattern1", "string1",
})
"""Placeholders for text to look for: filled with a word of the chosen file."""
WORDS = {"replacement": "REPLACED", "replace_text": "REPLACED", "replacement_text": "REPLACED",
         "replacement_string": "REPLACED", "new_text": "REPLACED", "replace": "REPLACED",
         "extension": "txt", "ext": "txt", "message": "Update the notes",
         "commit_message": "Update the notes", "tag": "v1.0", "tag_name": "v1.0", "username": "user",
         "user": "user", "user_name": "user", "owner": "user", "group": "user", "group_name": "user",
         "commit": "HEAD~1", "commit_hash": "HEAD~1", "commit-ish": "HEAD~1", "commit_id": "HEAD~1",
         "revision": "HEAD~1", "rev": "HEAD~1", "tree-ish": "HEAD~1", "new_branch": "feature/search",
         "new_branch_name": "feature/search"}
"""Other named placeholders -> a fixed value."""
BRANCHES = frozenset({"branch", "branch_name", "base_branch", "target_branch", "source_branch", "local_branch"})
"""Filled with an existing branch of the repository (not the checked-out one)."""
GENERIC = frozenset({"command", "commands", "argument", "arguments", "arg", "args", "option", "options", "flags",
                     "file", "path", "name", "value", "pattern", "string", "text", "variable", "program", "..."})
_NEW = re.compile(r"new|output|^out\b|^out_|target|destination|^dest|result|copy")
_SAFE_NAME = re.compile(r"^[\w.\-/]+$")
NEW_STEMS = ("output", "result", "combined", "copy", "backup", "extracted")
"""Stems for new names, tried in order until one is free."""


@dataclass(frozen=True)
class Slot:
    """What one placeholder asks for."""

    raw: str
    """The placeholder's text, braces removed."""
    kind: Literal["option", "literal", "path", "glob", "number", "pattern", "word", "branch"]
    """How it is filled."""
    label: str = ""
    """How the request may name it when no phrase does (``file``, ``target directory``, ``count``)."""
    want: Literal["file", "dir", "symlink", ""] = ""
    """path: what must exist (or, new, what is made)."""
    ext: str = ""
    """path: the extension asked for (``tar.gz``), glob: the fixed extension (empty: any)."""
    multi: bool = False
    """path: several paths (``path/to/file1 path/to/file2 ...``)."""
    new: bool = False
    """path: a name to create, not an existing one."""


def _label(name: str) -> str:
    return name.split(".", 1)[0].replace("_", " ").replace("-", " ").strip() or name


def slot(raw: str) -> Slot | None:
    """The rule for one placeholder's text, or None when there is none."""
    text = raw.strip()
    option = re.fullmatch(r"\[(-[^|\]]*(?:\|[^|\]]*)+)\]", text)
    if option:
        forms = option.group(1).split("|")
        short = [f for f in forms if re.match(r"-[^-]", f)]
        return Slot(raw, "option", label=(short or forms)[0])
    if "|" in text or "{" in text or "}" in text or "$" in text or text.startswith("/"):
        return None
    if re.fullmatch(r"[+-]?\d+(?:\.\d+)?[A-Za-z%]?", text):
        return Slot(raw, "literal", label=text)
    if "path/to/" in text or re.fullmatch(r"(?:file|filename|file_name|directory|dir|folder)\d*", text):
        return _path_slot(raw, text)
    if text.startswith("*."):
        ext = text[2:]
        return Slot(raw, "glob", label="files", ext="" if ext in ("ext", "extension") else ext)
    if " " in text and not set(re.findall(r"[A-Za-z_.]+", text.lower())) & GENERIC and re.fullmatch(r"[\w ,.:!?+-]+", text) \
            and "_" not in text:
        return Slot(raw, "literal", label=text)
    name = text.lower()
    if name in NUMBERS:
        return Slot(raw, "number", label=_label(name))
    if name in PATTERNS:
        return Slot(raw, "pattern", label=_label(name))
    if name in BRANCHES:
        return Slot(raw, "branch", label="branch")
    if name in WORDS:
        return Slot(raw, "word", label=_label(name))
    return None


PATH_STEM = re.compile(
    r"(?:(?:new|old|output|input|source|target|destination|dest|reference|compressed|uncompressed|original|"
    r"text|data|existing|modified|merged|random|temporary|tar|parent)_)*"
    r"(?:file|filename|files|directory|folder|archive|compressed|script|file_or_directory|target|destination|"
    r"source|output|symlink|log|logfile|a|b|c)\d*")
"""Path placeholder names with a rule (``file``, ``file2``, ``source_directory``, ``new_file``, ``archive``...):
names for special things (``shell``, ``binary``, ``device_file``, ``typescript``, ``private`` keys...) have none."""


def _path_slot(raw: str, text: str) -> Slot | None:
    items = text.split()
    multi = "..." in items or len(items) > 1
    base = items[0].rsplit("/", 1)[-1]
    stem, _, ext = base.partition(".")
    if not PATH_STEM.fullmatch(stem) or not re.fullmatch(r"[A-Za-z0-9.]*", ext):
        return None
    if "symlink" in stem or stem == "link":
        want = "symlink"
    elif re.search(r"dir|folder", stem) and "file_or" not in stem:
        want = "dir"
    else:
        want = "file"
    new = bool(_NEW.search(stem)) and want != "symlink"
    label = re.sub(r"\d+$", "", _label(stem)) + "s" if multi else _label(stem)
    return Slot(raw, "path", label=label, want=want, ext=ext, multi=multi, new=new)


def _usable(entry: Entry) -> bool:
    return bool(_SAFE_NAME.match(entry.path))


def _new_name(cat: Catalog, slot_: Slot, used: set[str], scope: str) -> str | None:
    suffix = f".{slot_.ext}" if slot_.ext else ("" if slot_.want == "dir" else ".txt")
    for stem in NEW_STEMS:
        name = stem + suffix
        full = posixpath.join(scope, name) if scope not in ("", ".") else name
        if not cat.exists(full) and name not in used:
            return name
    return None


def choose_paths(cat: Catalog, slot_: Slot, rng: random.Random, used: set[str], scope: str = "") -> list[str] | None:
    """Path(s) for a path slot, relative to ``scope`` (a git repository's folder, or the root); None when the
    fixture has nothing that fits."""
    if slot_.new:
        name = _new_name(cat, slot_, used, scope)
        return None if name is None else [name]
    if slot_.want == "dir":
        pool = [e for e in cat.dirs() if _usable(e) and e.path.startswith(scope + "/" if scope else "")]
    elif slot_.want == "symlink":
        pool = [e for e in cat.entries if e.kind == "symlink" and _usable(e) and not e.hidden]
    else:
        pool = [e for e in cat.files(slot_.ext or None, text=not slot_.ext, under=scope) if _usable(e)]
    pool = [e for e in pool if e.path not in used]
    if not pool:
        return None
    if slot_.multi:
        by_dir: dict[str, list[Entry]] = {}
        for e in pool:
            by_dir.setdefault(posixpath.dirname(e.path), []).append(e)
        groups = [g for _, g in sorted(by_dir.items()) if len(g) >= 2]
        if not groups:
            return None
        picked = sorted(rng.sample(rng.choice(groups), 2), key=lambda e: e.path)
    else:
        picked = [rng.choice(pool)]
    return [_relative(e.path, scope) for e in picked]


def _relative(path: str, scope: str) -> str:
    return posixpath.relpath(path, scope) if scope not in ("", ".") else path


def choose_word(texts: list[str], rng: random.Random) -> str | None:
    """A word (letters, 3+ long) that occurs in the given texts, or None."""
    words = sorted({w for t in texts for w in re.findall(r"\b[A-Za-z][A-Za-z]{2,}\b", t)})
    return rng.choice(words) if words else None


def choose_glob(cat: Catalog, scope: str, rng: random.Random) -> str | None:
    """``*.EXT`` for an extension that files under ``scope`` have."""
    exts = sorted({e.name.rsplit(".", 1)[1] for e in cat.files(under=scope) if "." in e.name.strip(".")
                   and _SAFE_NAME.match(e.name)})
    return f"*.{rng.choice(exts)}" if exts else None
