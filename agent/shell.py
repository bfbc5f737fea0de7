"""Parse shell text with tree-sitter-bash, and walk what the safety pass and the scorer need.

One :class:`~tree_sitter.Parser` per process (created on first use, guarded by a
lock: a parser is not safe to share between threads mid-parse).  :func:`parse`
returns a :class:`Script` or raises :class:`Unparseable` when tree-sitter
reports an ERROR or MISSING node: a line we cannot read is never guessed at.
tree-sitter-bash reads all of what real plans contain:
``$((...))``, here-docs, ``[[ ]]``, process substitution, functions, arrays,
``$'...'`` strings, backticks, ``2>&1`` and ``&>``.

tree-sitter counts UTF-8 bytes; every span here is a ``str`` offset into
``Script.text`` (:meth:`Script.pos` converts), so rewrites that slice the line
stay right on non-ASCII text.

Words are unquoted node by node (:meth:`Script.value`), the way bash removes
quotes: ``'...'`` verbatim, ``"..."`` with ``\\$ \\` \\" \\\\`` unescaped and its
expansions kept as written, ``$'...'`` with C escapes decoded, unquoted
backslashes dropped, concatenations joined.  Expansions stay as written
(``"$f"`` is ``$f``): their value is not known before the line runs.

Tree-sitter-bash quirks handled here:

* ``echo a > b c``: the redirect node holds ``b`` and ``c``; ``c`` is an
  argument of ``echo`` (:class:`Command` adds it to ``words``).
* ``cat <<EOF | sh`` and ``cat <<EOF > out && rm x``: what follows the
  here-doc start on its line sits inside the ``heredoc_redirect`` node; the
  walks below descend into it, and :meth:`Script.pipelines` puts the here-doc's
  command back in front of its pipeline.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import tree_sitter_bash
from tree_sitter import Language, Node, Parser, Tree

WRITE_OPS = frozenset({">", ">>", ">|", "&>", "&>>", ">&"})
"""Redirect operators that write to their target (``>&`` only when the target is not a descriptor)."""
APPEND_OPS = frozenset({">>", "&>>"})
"""Write operators that append (an existing file keeps its content)."""
EXPANSIONS = frozenset({"simple_expansion", "expansion", "command_substitution", "process_substitution",
                        "arithmetic_expansion"})
"""Node types whose text is only known when the line runs."""
SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
"""Node types that run commands of their own."""

_LOCK = threading.Lock()


class Unparseable(ValueError):
    """tree-sitter-bash found a syntax error (an ERROR or MISSING node) in the text."""


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


@dataclass(frozen=True)
class Word:
    """One word of a command (or a redirect target), quotes removed."""

    value: str
    """The word as the program receives it, quotes and escapes removed; expansions kept as written."""
    start: int
    """Offset of its first character in the parsed text (a ``str`` offset)."""
    end: int
    """Offset just past its last character."""
    expands: bool
    """Contains ``$x``, ``${x}``, ``$(...)``, backticks or ``$((...))``: its runtime text is not ``value``."""
    node: Node
    """The tree-sitter node (to walk into its substitutions)."""


@dataclass(frozen=True)
class Redirect:
    """One file redirect (``>``, ``>>``, ``2>&1``, ``&>``, ``<`` ...)."""

    op: str
    """The operator: ``>``, ``>>``, ``>|``, ``&>``, ``&>>``, ``>&``, ``<``, ``<&``, ``>&-`` ..."""
    fd: str | None
    """The explicit descriptor (``2`` in ``2>err``), or None."""
    target: Word | None
    """What it redirects to (``err``, ``1``), or None (``2>&-``)."""
    start: int
    """Offset of the descriptor or operator."""
    end: int
    """Offset just past the target (or the operator when there is none)."""

    @property
    def writes(self) -> bool:
        """Writes to a file (not a descriptor duplication like ``2>&1`` or ``>&-``)."""
        if self.op not in WRITE_OPS or self.target is None:
            return False
        return not (self.op == ">&" and (self.target.value.isdigit() or self.target.value == "-"))


@dataclass(frozen=True)
class Command:
    """One simple command: its words (program first) without assignments and redirects."""

    words: tuple[Word, ...]
    """The program and its arguments, in order (empty for ``> file`` alone)."""
    start: int
    """Offset of the command's first character (an assignment or redirect may come first)."""
    end: int
    """Offset just past its last word or redirect."""
    node: Node
    """The ``command`` node."""

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(w.value for w in self.words)

    @property
    def name(self) -> str:
        """The program as written (``/bin/rm`` stays ``/bin/rm``), or ``""``."""
        return self.words[0].value if self.words else ""


@dataclass(frozen=True, eq=False)
class Script:
    """A parsed piece of shell text."""

    text: str
    """The text that was parsed."""
    tree: Tree
    """tree-sitter's tree (read only)."""
    offsets: tuple[int, ...] | None
    """Byte offset -> ``str`` offset, or None when the text is ASCII (they are equal)."""

    @property
    def root(self) -> Node:
        return self.tree.root_node

    # --- offsets and text ---------------------------------------------------------
    def pos(self, byte: int) -> int:
        """The ``str`` offset of a byte offset."""
        return byte if self.offsets is None else self.offsets[byte]

    def span(self, node: Node) -> tuple[int, int]:
        return self.pos(node.start_byte), self.pos(node.end_byte)

    def source(self, node: Node) -> str:
        """The node's text as written."""
        start, end = self.span(node)
        return self.text[start:end]

    # --- words --------------------------------------------------------------------
    def value(self, node: Node) -> str:
        """The node's text with quotes removed (see the module docstring)."""
        kind = node.type
        raw = self.source(node)
        if kind == "raw_string":
            return raw[1:-1]
        if kind == "ansi_c_string":
            return _ansi_c(raw[2:-1])
        if kind in ("string", "translated_string"):
            return self._joined(node, _unescape_double, skip={'"', '$"'})
        if kind == "concatenation":
            return self._joined(node, _unescape_bare, skip=set())
        if kind == "word":
            return _unescape_bare(raw)
        return raw  # expansions, substitutions, numbers: as written

    def _joined(self, node: Node, unescape, skip: set[str]) -> str:
        """Children's values in order; text between them (and ``string_content``) unescaped."""
        out: list[str] = []
        at = node.start_byte
        for child in node.children:
            if child.start_byte > at:
                out.append(unescape(self.text[self.pos(at):self.pos(child.start_byte)]))
            at = child.end_byte
            if not child.is_named and child.type in skip:
                continue
            out.append(unescape(self.source(child)) if child.type == "string_content" else self.value(child))
        if node.end_byte > at:
            out.append(unescape(self.text[self.pos(at):self.pos(node.end_byte)]))
        return "".join(out)

    def word(self, node: Node) -> Word:
        start, end = self.span(node)
        return Word(self.value(node), start, end, _has(node, EXPANSIONS), node)

    # --- walks --------------------------------------------------------------------
    def nodes(self, under: Node | None = None) -> Iterator[Node]:
        """Every node under ``under`` (default: the whole text), depth first, in text order."""
        stack = [under or self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def commands(self, under: Node | None = None) -> Iterator[Command]:
        """Every simple command, in text order, including those in substitutions, function
        bodies, loops, here-doc lines and ``$(...)`` inside here-doc bodies."""
        for node in self.nodes(under):
            if node.type == "command":
                yield self._command(node)

    def _command(self, node: Node) -> Command:
        words = [self.word(c.named_children[0] if c.type == "command_name" and c.named_children else c)
                 for i, c in enumerate(node.children)
                 if c.type == "command_name" or node.field_name_for_child(i) == "argument"]
        end = node.end_byte
        parent = node.parent
        if parent is not None and parent.type == "redirected_statement" and parent.child_by_field_name("body") == node:
            for redirect in parent.children_by_field_name("redirect"):
                if redirect.type == "file_redirect":
                    words += [self.word(d) for d in redirect.children_by_field_name("destination")[1:]]
            end = parent.end_byte
        return Command(tuple(words), self.pos(node.start_byte), self.pos(end), node)

    def redirects(self, under: Node | None = None) -> Iterator[Redirect]:
        """Every file redirect, in text order (here-docs and here-strings are input: left out)."""
        for node in self.nodes(under):
            if node.type != "file_redirect":
                continue
            fd = node.child_by_field_name("descriptor")
            dests = node.children_by_field_name("destination")
            op = next((c.type for c in node.children if not c.is_named), "")
            target = self.word(dests[0]) if dests else None
            end = target.end if target else self.pos(next(c for c in node.children if not c.is_named).end_byte)
            yield Redirect(op, self.source(fd) if fd else None, target, self.pos(node.start_byte), end)

    def functions(self, under: Node | None = None) -> Iterator[tuple[str, Node]]:
        """``(name, body)`` of every function definition."""
        for node in self.nodes(under):
            if node.type == "function_definition":
                name, body = node.child_by_field_name("name"), node.child_by_field_name("body")
                if name is not None and body is not None:
                    yield self.value(name), body

    def pipelines(self) -> Iterator[list[Node]]:
        """The stages of every pipeline (``a | b |& c``), in order."""
        for node in self.nodes():
            if node.type != "pipeline":
                continue
            stages = list(node.named_children)
            parent = node.parent
            if parent is not None and parent.type == "heredoc_redirect" and parent.parent is not None:
                body = parent.parent.child_by_field_name("body")  # `cat <<EOF | sh`: cat is stage one
                stages = ([body] if body is not None else []) + stages
            yield stages

    def top_level(self) -> list[Node]:
        """The statements of the text, in order (``a; b && c`` -> ``a``, ``b && c``)."""
        return [c for c in self.root.named_children if c.type != "comment"]


def parse(text: str) -> Script:
    """Parse ``text``; raises :class:`Unparseable` naming the first syntax error."""
    return _parse(text)


@lru_cache(maxsize=1024)
def _parse(text: str) -> Script:
    data = text.encode("utf-8", "surrogatepass")
    with _LOCK:
        tree = _parser().parse(data)
    offsets = None
    if len(data) != len(text):
        built: list[int] = []
        for i, ch in enumerate(text):
            built.extend([i] * len(ch.encode("utf-8", "surrogatepass")))
        built.append(len(text))
        offsets = tuple(built)
    script = Script(text, tree, offsets)
    if tree.root_node.has_error:
        raise Unparseable(_describe_error(script))
    return script


def _describe_error(script: Script) -> str:
    for node in script.nodes():
        if node.is_missing:
            return f"missing {node.type!r} at column {script.pos(node.start_byte) + 1}"
        if node.type == "ERROR":
            source = script.source(node)
            near = source.strip()
            if not near:
                return "unexpected end of text (an unclosed quote, bracket or block?)"
            column = script.pos(node.start_byte) + len(source) - len(source.lstrip()) + 1
            return f"syntax error at column {column} near {near[:30]!r}"
    return "syntax error"


def _has(node: Node, kinds: frozenset[str]) -> bool:
    if node.type in kinds:
        return True
    return any(_has(c, kinds) for c in node.children)


def _unescape(text: str, escapable: str | None) -> str:
    """Remove the shell's backslash escapes: ``\\x`` -> ``x`` for any ``x`` (``escapable`` None) or only
    for the characters in ``escapable``; a backslash-newline disappears."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and (escapable is None or text[i + 1] in escapable):
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _unescape_bare(text: str) -> str:
    """Unquoted text: ``\\x`` -> ``x``, backslash-newline removed."""
    return _unescape(text, None)


def _unescape_double(text: str) -> str:
    """Inside double quotes only ``\\$ \\` \\" \\\\`` and backslash-newline are escapes."""
    return _unescape(text, '$`"\\\n')


_C_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
              "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def _ansi_c(body: str) -> str:
    """Decode the inside of ``$'...'`` the way bash does."""
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 == len(body):
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _C_ESCAPES:
            out.append(_C_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            digits = _run(body, i + 1, "01234567", 3)
            out.append(chr(int(digits, 8) & 0xFF))
            i += 1 + len(digits)
        elif nxt in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            digits = _run(body, i + 2, "0123456789abcdefABCDEF", width)
            if digits:
                out.append(chr(min(int(digits, 16), 0x10FFFF)))
                i += 2 + len(digits)
            else:
                out.append(body[i:i + 2])
                i += 2
        elif nxt == "c" and i + 2 < len(body):
            out.append(chr(ord(body[i + 2].upper()) ^ 0x40))
            i += 3
        else:
            out.append(body[i:i + 2])
            i += 2
    return "".join(out)


def _run(text: str, start: int, allowed: str, limit: int) -> str:
    end = start
    while end < len(text) and end - start < limit and text[end] in allowed:
        end += 1
    return text[start:end]
