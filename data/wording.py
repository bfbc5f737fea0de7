"""The wording layer: one template, many ways a user would say it, the same plan.

:func:`render` turns a template's prompt and one slot dict into a request,
varied by a random generator that the caller seeds per row (so a seed gives
the same bytes every run).  Three kinds of variation, none of which changes
what the request asks for (the completion is fixed by the template):

1. **Synonyms** (:data:`SYNONYMS`): whole words or phrases of the template's
   own text swapped for another of the same group ("folder" / "directory" /
   "dir", "larger than" / "bigger than" / "over" before a size...).  Only the
   template's literal text is touched, never a slot value, so file names,
   globs, search words and numbers pass through as they are; quoted text
   and tokens that look like paths or globs in the template are skipped too.
   A group can be limited to some categories and to a following context
   (``after``, a regex), so "over" is a size word only before ``{mb}``.
2. **Location** (:func:`place`): the phrase naming the directory a command
   runs in ("in {dir}", "under the {dir} folder").  For ``.`` it is dropped
   (users rarely say where) or said as "here", "in this folder", "in the
   current directory", "in this directory and its subdirectories" (that last
   family only for recursive commands); for another directory it reads "in
   X", "under X", "inside the X folder", "in the X directory"...
3. **Framing** (:func:`frame`): a request that opens with an imperative verb
   ("Find ...", "Show ...") may be asked as "Please find ...", "Can you find
   ...?", "I need to find ...", "How do I find ...?", "Quick: find ...", with
   an occasional ", please" or " thanks" at the end.

Every table here is meant to be read and reviewed: add a synonym only where
every template of its categories keeps its meaning with any member.
"""

from __future__ import annotations

import random
import re
from typing import NamedTuple


class Syn(NamedTuple):
    """A group of interchangeable phrases."""

    words: tuple[str, ...]
    """The phrases, lower case; a match of any is replaced by a random one (capitalisation kept)."""
    categories: frozenset[str] | None = None
    """Template categories the group applies to (None: all)."""
    after: str = ""
    """A regex the phrase must be followed by in the template text (not consumed)."""


CONTENT = frozenset({"head_tail", "sed", "sort_uniq", "grep", "git", "du", "chmod", "tar", "venv_pip", "wc"})
"""Categories whose "show" prints content or facts, never a list of files to act on."""
LISTING = frozenset({"find"})
"""Categories whose "show" / "find" lists files."""
SIZE = r" \{(?:mb|kb)\}"

SYNONYMS: tuple[Syn, ...] = (
    # longer phrases first: the alternation tries groups in this order
    Syn(("show me", "give me", "let me see"), CONTENT),
    Syn(("show me", "give me", "find me"), LISTING),
    Syn(("show", "display", "print"), CONTENT),
    Syn(("find", "list", "locate", "look for"), LISTING),
    Syn(("delete", "remove", "get rid of"), frozenset({"delete_preview"})),
    Syn(("removed", "deleted"), frozenset({"delete_preview"})),
    Syn(("search", "scan", "look through"), frozenset({"grep"})),
    Syn(("contain", "mention", "include"), frozenset({"grep"})),
    Syn(("containing", "mentioning"), frozenset({"grep", "sed"})),
    Syn(("subfolders", "subdirectories"),),
    Syn(("subfolder", "subdirectory"),),
    Syn(("folders", "directories", "dirs"),),
    Syn(("folder", "directory", "dir"),),
    Syn(("repository", "repo"),),
    Syn(("virtual environment", "venv", "virtualenv"),),
    Syn(("named", "called"), after=r" \{"),
    Syn(("create", "make"), after=r" (?:a|an|the|new)\b"),
    Syn(("modified", "changed", "edited"), frozenset({"find", "delete_preview"})),
    Syn(("larger than", "bigger than", "over", "more than"), after=SIZE),
    Syn(("smaller than", "less than", "under", "below"), after=SIZE),
    Syn(("in the last", "in the past", "within the last", "during the past", "over the last"), after=r" \{days\} days"),
    Syn(("last", "final", "bottom"), frozenset({"head_tail"}), after=r" \{n\} lines"),
    Syn(("first", "top"), frozenset({"head_tail"}), after=r" \{n\} lines"),
    Syn(("alphabetically", "in alphabetical order"),),
    Syn(("numerically", "in numeric order"),),
    Syn(("gzipped", "compressed"), frozenset({"tar"})),
)
"""Every synonym group, reviewed against every template of its categories."""

UNITS = {
    "mb": (" MB", "MB", " megabytes", "M", " mb"),
    "kb": (" KB", "KB", " kilobytes", "k", " kB"),
}
"""How a size unit right after ``{mb}`` / ``{kb}`` may be written."""
UNIT = re.compile(r"(?<=\{(mb|kb)\})(?: ?(?:MB|M|megabytes|KB|K|k|kilobytes|kB))\b")

AGE = ("older than {days} days", "more than {days} days old", "last modified over {days} days ago")
"""Ways to say ``-mtime +{days}``."""

_PROTECTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\{[^}]*\}|\S*[./*~]\S*[\w*~]")
"""Spans synonyms never touch: quoted text, fields, and path- or glob-like tokens ("notes.folder/", "*.bak")."""


MORE_WORDS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("show", "display", "print"): ("output",),
    ("find", "list", "locate", "look for"): ("search for", "track down"),
    ("delete", "remove", "get rid of"): ("erase",),
    ("search", "scan", "look through"): ("go through", "check"),
}
"""Further members of some groups, used only for rows of trained templates (``render(..., more=True)``);
held-out rows are worded with :data:`SYNONYMS` alone, as they were when the hold-out was measured."""


def groups_of(more: bool) -> tuple[Syn, ...]:
    """The synonym groups: :data:`SYNONYMS`, each widened by :data:`MORE_WORDS` when ``more``."""
    if not more:
        return SYNONYMS
    return tuple(s._replace(words=s.words + MORE_WORDS.get(s.words, ())) for s in SYNONYMS)


def _pattern(groups: tuple[Syn, ...]) -> re.Pattern:
    parts = []
    for i, syn in enumerate(groups):
        alts = "|".join(re.escape(w) for w in sorted(syn.words, key=len, reverse=True))
        look = f"(?={syn.after})" if syn.after else ""
        parts.append(rf"(?P<g{i}>(?<![\w{{\-/*~.'])(?:{alts})(?![\w}}\-/*~'])(?!\.\w){look})")
    return re.compile("|".join(parts), re.IGNORECASE)


def _cased(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def synonyms(text: str, category: str, rng: random.Random, more: bool = False) -> str:
    """Swap synonym phrases in a template's text (fields, quotes and path-like tokens untouched)."""
    groups = tuple(s for s in groups_of(more) if s.categories is None or category in s.categories)
    protected = [m.span() for m in _PROTECTED.finditer(text)]

    def swap(m: re.Match) -> str:
        if any(a < m.end() and m.start() < b for a, b in protected):
            return m.group(0)
        syn = groups[int(m.lastgroup[1:])]
        return _cased(rng.choice(syn.words), m.group(0))

    if groups:
        text = _pattern(groups).sub(swap, text)
    text = re.sub(r"older than \{days\} days", lambda m: rng.choice(AGE), text)
    return UNIT.sub(lambda m: rng.choice(UNITS[m.group(1)]), text)


LOCATION = re.compile(r"\b(?P<prep>in|under|below|inside|within)\s+(?:the\s+)?\{dir\}(?:/)?"
                      r"(?:\s+(?:folder|directory|dir|tree)\b)?", re.IGNORECASE)
"""A phrase saying where a command runs: "in {dir}", "under the {dir} folder"."""
THE_DIR = re.compile(r"\bthe \{dir\} (?:folder|directory|dir)\b")
"""The directory as an object: "the {dir} folder"."""
NO_DROP_BEFORE = frozenset({"are", "is", "be", "been", "exist", "there", "directly"})
"""Words after which a location phrase is needed ("how many files are in ...")."""

HERE_PHRASES = ("in the current directory", "in this folder", "here", "in the current folder", "in this directory")
HERE_RECURSIVE = ("in this directory and its subdirectories", "under the current directory", "anywhere under here",
                  "in this directory tree", "below the current folder")
DIR_PHRASES = ("in {dir}", "in the {dir} folder", "in the {dir} directory", "inside {dir}", "inside the {dir} folder")
DIR_RECURSIVE = ("under {dir}", "below {dir}", "anywhere under {dir}", "in {dir}/")
HERE_OBJECT = ("the current directory", "this folder", "this directory", "the current folder")
DIR_OBJECT = ("the {dir} folder", "the {dir} directory", "{dir}", "the {dir} dir")
DROP = 0.35
"""Chance that a location phrase for ``.`` is left out, where the sentence allows it."""

RECURSIVE = re.compile(r"\bfind\b|\bgrep -\w*r|\bdu\b(?!.*--max-depth)")
"""A completion that looks at a whole tree (so "under X" and "and its subdirectories" are right)."""


def place(text: str, here: bool, recursive: bool, rng: random.Random) -> str:
    """Vary the first location phrase of a template's text; ``here``: the directory is ``.``."""
    m = LOCATION.search(text)
    if m:
        before = text[:m.start()].split()
        droppable = here and before and before[-1].lower() not in NO_DROP_BEFORE
        if droppable and rng.random() < DROP:
            phrase = ""
        elif here:
            phrase = rng.choice(HERE_PHRASES + (HERE_RECURSIVE if recursive else ()))
        else:
            phrase = rng.choice(DIR_PHRASES + (DIR_RECURSIVE if recursive else ()))
        if m.group(0)[0].isupper():
            phrase = phrase[:1].upper() + phrase[1:]
        return text[:m.start()] + phrase + text[m.end():]
    m = THE_DIR.search(text)
    if m:
        return text[:m.start()] + rng.choice(HERE_OBJECT if here else DIR_OBJECT) + text[m.end():]
    return text


IMPERATIVES = frozenset({
    "find", "list", "show", "print", "display", "count", "create", "make", "search", "delete", "remove", "compress",
    "archive", "sort", "extract", "replace", "rename", "move", "copy", "locate", "look", "get", "clean", "set",
    "install", "duplicate", "scan", "order", "add", "zip", "pack", "unpack", "check", "start", "switch", "change",
})
"""First words that make a request an imperative that every framing below can wrap."""
FRAMES = ("Please ", "Can you ", "Could you ", "I need to ", "I want to ", "Help me ", "How do I ", "Quick: ")
MORE_FRAMES = ("Would you ", "I'd like to ", "Go ahead and ", "Let's ", "How can I ", "Time to ")
"""Further framings, for rows of trained templates only (as :data:`MORE_WORDS`)."""
QUESTIONS = frozenset({"Can you ", "Could you ", "How do I ", "Would you ", "How can I "})
AFTER_ME = ("Please ", "Can you ", "Could you ")
MORE_AFTER_ME = ("Would you ",)
"""Framings that still read well before "show me ..."."""
BARE = 0.4
"""Chance that an imperative is left as it is."""


def frame(prompt: str, rng: random.Random, more: bool = False) -> str:
    """Wrap an imperative request in a framing, or leave it bare (maybe lower case, maybe with "please");
    ``more``: draw from :data:`MORE_FRAMES` too."""
    words = prompt.split()
    if not words or words[0].lower() not in IMPERATIVES or not words[0][0].isupper():
        return prompt
    if len(words) > 1 and words[1].lower() == "me":
        choices = AFTER_ME + (MORE_AFTER_ME if more else ())
    else:
        choices = FRAMES + (MORE_FRAMES if more else ())
    one_sentence = not re.search(r"[.?!:]\s", prompt)
    choices = tuple(f for f in choices if f not in QUESTIONS or one_sentence)
    framing = "" if rng.random() < BARE else rng.choice(choices)
    body = prompt
    if framing:
        body = framing + body[0].lower() + body[1:]
    if framing in QUESTIONS:
        body = body.rstrip(".!") + ("" if body.endswith("?") else "?")
    roll = rng.random()
    if "please" not in body.lower() and roll < 0.1:
        stem = body.rstrip(".?!")
        body = stem + ", please" + body[len(stem):]
    elif roll < 0.16:
        body += " thanks"
    elif not framing and roll < 0.26:
        body = body[0].lower() + body[1:]
    return body


HERE_DOT = re.compile(r"(?<![\w.*~/])\.(?=[\s,?!]|$)")
"""A bare ``.`` standing for the current directory in a filled prompt."""


def tidy(text: str) -> str:
    """Single spaces and no space before closing punctuation."""
    text = re.sub(r"\s{2,}", " ", text).strip()
    return re.sub(r" +([,?!.:])(?=\s|$)", r"\1", text)


def render(prompt: str, completion: str, category: str, values: dict, rng: random.Random, more: bool = False) -> str:
    """One row's request: the template's ``prompt`` reworded by ``rng`` and filled with ``values``; ``more``:
    with the wider tables (:data:`MORE_WORDS`, :data:`MORE_FRAMES`) that trained templates use."""
    text = synonyms(prompt, category, rng, more)
    if "dir" in values:
        text = place(text, values["dir"] == ".", bool(RECURSIVE.search(completion)), rng)
    filled = HERE_DOT.sub("the current directory", text.format(**values))
    return tidy(frame(tidy(filled), rng, more))
