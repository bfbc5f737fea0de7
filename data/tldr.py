"""tldr-pages examples (CC BY 4.0, tldr-pages contributors) -> candidate rows with every name said.

An example is taken when its page's program is in the sandbox image (the page ``tar`` runs ``tar``;
``git-log`` runs ``git log``).  Each is filled on one training fixture (``train-a``, ``train-b``,
``train-c``, ``train-nl2bash``, tried in a seeded order until one has fitting names): placeholders get
values by the rules of :mod:`data.placeholders`; ``git`` commands run in one of the fixture's
repositories as ``git -C REPO ...`` (the templates' form), with paths relative to it.

**The request names every value.**  tldr descriptions are generic ("Display the contents of a
file"), so the description is rewritten by these deterministic steps (:func:`describe`):

1. a placeholder the description quotes in backticks (``the last `count` lines``) is replaced by its
   value;
2. ``[x]`` mnemonic brackets and backticks are removed, and so are parenthetical remarks, every sentence
   after the first and a final period;
3. a value the description already says (``10`` in "the first 10 lines") needs nothing more;
4. a generic phrase is replaced by the value: "a file", "the specified file", "a text file" ->
   ``notes/todo.txt``; "two files", "multiple files" -> ``a.txt and b.txt``; "a directory" -> ``the
   logs directory``; "a pattern", "a string" -> the word; "a branch" -> ``branch develop``; "a commit"
   -> ``commit HEAD~1``; "a user" -> ``user user``; "the current repository" -> ``the webapp
   repository`` (or `` in the webapp repository`` is added); a new name keeps its phrase (``an output
   file output.txt``);
5. what is left is appended: ``: VALUE`` for one, `` (label: VALUE, label: VALUE)`` for several.

Then every filled value must occur in the request, and every absolute or home path the command keeps
from the page must too; otherwise the example is dropped (``unnamed``).
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from data.candidate import Candidate
from data.catalog import Catalog, catalog
from data.placeholders import NUMBERS, WORDS, Slot, choose_glob, choose_paths, choose_word, slot
from data.screen import Drop, Dropped, out_of_tree_paths
from harness.errors import DataError
from harness.jsonlfile import read_records

HINT = " (set FENRIR_EXTERNAL to the folder holding tldr/pages.jsonl)"

FIXTURES = ("train-a", "train-b", "train-c", "train-nl2bash")
"""Fixtures tldr placeholders are filled from."""
COMPARERS = frozenset({"diff", "cmp", "comm", "sdiff", "diff3", "zdiff", "bzdiff", "xzdiff", "zcmp", "bzcmp", "xzcmp"})
"""Programs whose ``old_file``/``new_file`` are two existing versions, not a name to create."""
PLACEHOLDER = re.compile(r"\{\{(.+?)\}\}")


class TldrExample(BaseModel):
    """One example of a page."""

    model_config = ConfigDict(extra="forbid")

    description: str
    """The imperative description ("Create a gzipped archive ...")."""
    command: str
    """The command with ``{{placeholders}}``."""


class Page(BaseModel):
    """One tldr page as stored in ``pages.jsonl``."""

    model_config = ConfigDict(extra="forbid")

    page: str
    """The page name (``tar``, ``git-log``)."""
    platform: str
    """``common`` or ``linux``."""
    description: str
    """What the tool is."""
    examples: list[TldrExample]
    """Its examples."""


def load(path: Path | str) -> list[Page]:
    """Every page of the file, in order; a bad line is a DataError naming file and line."""
    return [page for _, page in read_records(path, Page, "tldr page", DataError, HINT)]


def runs_in_image(page: str, command: str, programs: frozenset[str]) -> bool:
    """The example runs the page's own program, and the image has it."""
    words = command.split()
    if not words:
        return False
    if words[0] == page:
        return page in programs
    head, _, sub = page.partition("-")
    return bool(sub) and words[0] == head and words[1:2] == [sub] and head in programs


@dataclass(frozen=True)
class _Value:
    """A placeholder's value."""

    slot: Slot
    """The rule it was filled by."""
    text: str
    """What goes into the command."""
    items: tuple[str, ...]
    """What the request must name (each path of a multi-path value)."""


def _phrases(value: _Value) -> list[tuple[str, str]]:
    """(phrase regex, replacement) in the order to try, for one value."""
    s, items = value.slot, value.items
    adj = r"(?:(?:given|specific|specified|single|text|compressed|local|plain|gzipped|zip|tar|csv|json|existing|regular|source|input|log|bundle)\s+)*"
    if s.kind == "path" and s.want in ("file", "symlink"):
        noun = r"(?:file|archive|script|document|symlink|symbolic link|link|path)"
        if s.multi:
            return [(r"\b(?:(?:multiple|several|two|many|the|all|one or more|specific|given)\s+)?" + adj + r"(?:files|archives)\b",
                     " and ".join(items))]
        if s.new:
            return [(r"\b(?:a|an|the)\s+(?:(?:specified|given|specific)\s+)*(?:(?:new|output|target|destination|empty)\s+)+"
                     + noun + r"\b(?!s)", r"\g<0> " + items[0])]
        return [(r"\b(?:a|the|one)\s+" + adj + r"file(?:/| or )(?:directory|folder)\b", items[0]),
                (r"\b(?:a|an|the|one)\s+" + adj + noun + r"\b(?![s/])", items[0]),
                (r"(?<![\w/-])(?:file|path)\b(?![s/-])", items[0])]
    if s.kind == "path" and s.want == "dir":
        if s.new:
            return [(r"\b(?:a|an|the)\s+(?:(?:specified|given|specific)\s+)*(?:(?:new|output|target|destination|empty)\s+)+"
                     r"(?:directory|folder)\b(?!s)", r"\g<0> " + items[0])]
        if s.multi:
            return [(r"\b(?:(?:multiple|several|two|many|the|all|one or more|specific|given)\s+)?(?:directories|folders)\b",
                     " and ".join(items))]
        return [(r"\b(?:a|an|the)\s+(?:(?:given|specific|specified|existing|source|target|destination)\s+)*"
                 r"(?:directory|folder)\b(?![s/])", f"the {items[0]} directory"),
                (r"(?<![\w/-])(?:directory|folder)\b(?![s/-])", items[0])]
    if s.kind == "pattern":
        return [(r"\b(?:a|the|given|specific|specified)\s+(?:(?:search|given|specific|specified|exact)\s+)*"
                 r"(?:pattern|string|regex|regular expression|word|text|substring|keyword)\b", items[0])]
    if s.kind == "branch":
        return [(r"\b(?:a|the|given|specific|specified)\s+(?:(?:given|specific|specified|local|source|target)\s+)*branch\b(?!es)",
                 f"branch {items[0]}")]
    if s.kind == "word" and items[0] == WORDS["commit"]:
        return [(r"\b(?:a|the|given|specific|specified)\s+(?:(?:given|specific|specified)\s+)*commit\b(?!s)",
                 f"commit {items[0]}")]
    if s.kind == "word" and items[0] == WORDS["user"] and s.label in ("username", "user", "user name", "owner"):
        return [(r"\b(?:a|the|given|specific|specified)\s+(?:(?:given|specific|specified)\s+)*user\b(?!s)",
                 f"user {items[0]}")]
    return []


def said(item: str, text: str) -> bool:
    """``item`` occurs in ``text`` as a whole name (not inside a longer path or word)."""
    return re.search(r"(?<![\w/.~-])" + re.escape(item) + r"(?![\w/-]|\.\w)", text) is not None


def describe(description: str, values: list[_Value], repo: str = "") -> str:
    """The request: the description rewritten so that it names every value (see the module docstring)."""
    text = description.strip()
    pending = [v for v in values if v.slot.kind != "option"]
    for v in list(pending):  # 1. backticked placeholder names
        names = {v.slot.raw, v.slot.raw.rsplit("/", 1)[-1], v.slot.raw.rsplit("/", 1)[-1].split(".")[0]}
        for name in sorted(names, key=len, reverse=True):
            if f"`{name}`" in text:
                text = text.replace(f"`{name}`", " and ".join(v.items), 1)
                pending.remove(v)
                break
    for v in list(pending):  # ... or unquoted, when the name cannot be an ordinary word (file1, old_file)
        name = v.slot.raw.rsplit("/", 1)[-1].split(".")[0]
        if re.search(r"\d|_", name) and re.search(rf"(?<![\w/]){re.escape(name)}(?![\w/])", text):
            text = re.sub(rf"(?<![\w/]){re.escape(name)}(?![\w/])", " and ".join(v.items).replace("\\", "\\\\"), text, count=1)
            pending.remove(v)
    text = re.sub(r"\[(\w+)\]", r"\1", text).replace("`", "")  # 2.
    text = re.sub(r"\s*\([^()]*\)", "", text)
    text = re.split(r"(?<=[a-z0-9)])\. ", text, maxsplit=1)[0].rstrip(".").strip()
    pending = [v for v in pending if not all(said(i, text) for i in v.items)]  # 3.
    files = [v for v in pending if v.slot.kind == "path" and v.slot.want == "file" and not v.slot.new and not v.slot.multi]
    if len(files) >= 2:  # 4. two single-file placeholders under one plural phrase ("two files")
        both = tuple(i for v in files for i in v.items)
        joined = _Value(Slot("", "path", want="file", multi=True), "", both)
        new_text = _substitute(text, _phrases(joined))
        if new_text != text:
            text = new_text
            pending = [v for v in pending if v not in files]
    for v in list(pending):
        new_text = _substitute(text, _phrases(v))
        if new_text != text:
            text = new_text
            pending.remove(v)
    if repo:
        new_text = _substitute(text, [(r"\b(?:the|a|an)\s+(?:(?:current|local|existing)\s+)*(?:git\s+)?(?:repository|repo)\b(?!s)",
                                       f"the {repo} repository")])
        text = new_text if new_text != text else f"{text} in the {repo} repository"
    if len(pending) == 1:  # 5.
        text = f"{text}: {' and '.join(pending[0].items)}"
    elif pending:
        text += " (" + ", ".join(" and ".join(v.items) if v.slot.kind == "literal" else
                                 f"{v.slot.label}: {' and '.join(v.items)}" for v in pending) + ")"
    return text[:1].upper() + text[1:]


def _substitute(text: str, phrases: list[tuple[str, str]]) -> str:
    """``text`` with the first phrase that occurs replaced (``\\g<0>`` in a replacement keeps the phrase)."""
    for pattern, replacement in phrases:
        repl = replacement if "\\g<0>" in replacement else replacement.replace("\\", "\\\\")
        new, n = re.subn(pattern, repl, text, count=1, flags=re.IGNORECASE)
        if n:
            return new
    return text


def fill(description: str, command: str, cat: Catalog, rng: random.Random) -> Candidate | Dropped:
    """Fill one example on one fixture: a candidate, or why not (``unfillable`` when this fixture lacks a
    fitting name, ``unnamed`` when the request cannot say a value)."""
    raws = PLACEHOLDER.findall(command)
    slots = [slot(r) for r in raws]
    if any(s is None for s in slots):
        return Dropped(Drop.UNFILLABLE, "no rule for {{" + next(r for r, s in zip(raws, slots) if s is None) + "}}")
    if command.split()[0] in COMPARERS:
        slots = [dataclasses.replace(s, new=False) for s in slots]
    is_git = command.startswith("git ")
    repo = ""
    if is_git:
        if not cat.repos:
            return Dropped(Drop.UNFILLABLE, "no git repository")
        repo = rng.choice(cat.repos)
    scope = repo if repo != "." else ""
    values: list[_Value | None] = [None] * len(slots)
    used: set[str] = set()
    chosen: list[str] = []
    for i, s in enumerate(slots):  # paths first: patterns are drawn from the chosen files
        if s.kind == "path":
            paths = choose_paths(cat, s, rng, used, scope)
            if paths is None:
                return Dropped(Drop.UNFILLABLE, f"no fitting name for {{{{{s.raw}}}}}")
            used.update(paths)
            chosen += [f"{scope}/{p}" if scope else p for p in paths if not s.new]
            values[i] = _Value(s, " ".join(paths), tuple(paths))
    for i, s in enumerate(slots):
        if s.kind == "path":
            continue
        text = _value_text(s, cat, rng, chosen, scope, repo, description)
        if text is None:
            return Dropped(Drop.UNFILLABLE, f"no fitting value for {{{{{s.raw}}}}}")
        values[i] = _Value(s, text, (text,))
    filled = command
    for v in values:
        filled = filled.replace("{{" + v.slot.raw + "}}", v.text, 1)
    if is_git and repo != ".":
        filled = re.sub(r"(^|[;&|(]\s*)git ", rf"\g<1>git -C {repo} ", filled)
    request = describe(description, [v for v in values if v], repo if is_git else "")
    named = [item for v in values if v.slot.kind != "option" for item in v.items]
    unsaid = [p for p in named + out_of_tree_paths(filled) if not said(p, request)]
    if unsaid:
        return Dropped(Drop.UNNAMED, unsaid[0])
    return Candidate("tldr", "", request, filled, cat.fixture, tuple(named))


def _value_text(s: Slot, cat: Catalog, rng: random.Random, chosen: list[str], scope: str, repo: str,
                description: str) -> str | None:
    if s.kind in ("option", "literal"):
        return s.label if s.kind == "option" else s.raw.strip()
    if s.kind == "number":
        return NUMBERS[s.raw.strip().lower()]
    if s.kind == "word":
        if s.raw.strip().lower() in ("commit", "commit_hash", "commit-ish", "commit_id", "revision", "rev", "tree-ish") and not repo:
            return None
        return WORDS[s.raw.strip().lower()]
    if s.kind == "glob":
        if s.ext:
            return f"*.{s.ext}"
        dirs = [p for p in chosen if not cat.exists(p) or any(e.path == p and e.kind == "dir" for e in cat.entries)]
        return choose_glob(cat, dirs[0] if dirs else scope, rng)
    if s.kind == "branch":
        if not repo:
            return None
        if re.search(r"\b(?:create|new)\b", description, re.IGNORECASE):
            return WORDS["new_branch"]
        others = [b for b in cat.branches.get(repo, ()) if b not in ("main", "master")]
        return rng.choice(others) if others else None
    texts = []  # pattern: a word of the chosen files, or of the files under the chosen folders
    for path in chosen:
        entry = next((e for e in cat.entries if e.path == path), None)
        if entry and entry.kind == "file" and entry.text:
            texts.append(entry.text)
        elif entry and entry.kind == "dir":
            texts += [e.text for e in cat.files(text=True, under=path)]
    return choose_word(texts, rng) if texts else None


def candidates(pages: list[Page], programs: frozenset[str], seed: int = 0,
               fixtures: tuple[str, ...] = FIXTURES) -> tuple[list[Candidate], list[tuple[str, Dropped]]]:
    """(candidates, (origin, why dropped) for the rest) for every example whose page's program the image has."""
    out: list[Candidate] = []
    dropped: list[tuple[str, Dropped]] = []
    cats = {name: catalog(name) for name in fixtures}
    for page in pages:
        for number, example in enumerate(page.examples, start=1):
            if not runs_in_image(page.page, example.command, programs):
                continue
            origin = f"tldr:{page.platform}/{page.page}:{number}"
            order = random.Random(f"{seed}:{origin}").sample(list(fixtures), len(fixtures))
            result: Candidate | Dropped = Dropped(Drop.UNFILLABLE)
            for name in order:
                result = fill(example.description, example.command, cats[name], random.Random(f"{seed}:{origin}:{name}"))
                if isinstance(result, Candidate) or not result.detail.startswith(("no fitting", "no git")):
                    break
            if isinstance(result, Candidate):
                out.append(Candidate("tldr", origin, result.request, result.command, result.fixture, result.fills))
            else:
                dropped.append((origin, result))
    return out, dropped
