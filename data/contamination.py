"""Keep the eval prompts (and near-duplicates of them) out of the training data.

A row is *contaminated* by an eval case when any of these holds:

1. **same text** -- its prompt equals the eval prompt after normalisation
   (lower case, punctuation dropped, words joined by single spaces);
2. **same words** -- the token-set Jaccard similarity of the two normalised
   prompts is >= ``JACCARD`` (0.6): a reworded copy that keeps most words
   ("Print the last 5 lines of output.log, please", or the eval prompt with
   one number or name swapped: "Find JPEG images larger than 2 MB in photos");
3. **same characters** -- the Jaccard similarity of their character 5-gram sets is
   >= ``CHAR5`` (0.6): catches copies with small spelling or word-order edits
   that change many tokens ("List all the .py files in this directory and its
   sub-directories");
4. **same answer on the same tree** -- its completion runs the eval reference's
   exact commands (whitespace and quoting normalised) on one of the case's
   fixtures: whatever the wording, the row teaches the eval answer;
5. **same answer, similar words** -- the same commands on another fixture with a
   token Jaccard >= ``ANSWER_JACCARD`` (0.5).

The thresholds sit above every committed row (the closest reach 0.55 on
words and 0.5 on characters) and below the planted copies in
``tests/data/test_contamination.py``.  Generic commands asked in other words on other trees (``find . -type f -name
'*.py'`` for "every python source here") are not contamination: they are the
skill being taught.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from agent.fewshot import QARow, normalize
from harness.paths import rubrics_dir
from rubrics.score import commands_of
from rubrics.suite import load_suite

JACCARD = 0.6
CHAR5 = 0.6
ANSWER_JACCARD = 0.5


def eval_suites() -> tuple[Path, ...]:
    """Fenrir's own suites: the template generator keeps its rows clean of these."""
    return rubrics_dir() / "static.yaml", rubrics_dir() / "dynamic.yaml"


def imported_suites() -> tuple[Path, ...]:
    """Suites imported from elsewhere (InterCode-ALFA fs-1): never trained on either."""
    return tuple(sorted((rubrics_dir() / "imported").glob("*.yaml")))


def all_suites() -> tuple[Path, ...]:
    """Every eval suite; the external import (``data.external``) keeps its rows clean of all of them."""
    return eval_suites() + imported_suites()


@dataclass(frozen=True)
class EvalCase:
    """An eval prompt and its reference, as far as contamination is concerned."""

    id: str
    """``suite/case-id``."""
    prompt: str
    """The eval request."""
    reference: tuple[str, ...]
    """The reference plan's commands, normalised."""
    fixtures: tuple[str, ...]
    """Fixtures the case runs on."""

    @cached_property
    def norm(self) -> str:
        return normalize(self.prompt)

    @cached_property
    def tokens(self) -> frozenset[str]:
        return frozenset(self.norm.split())

    @cached_property
    def grams(self) -> frozenset[str]:
        return frozenset(_grams(self.norm))


@dataclass(frozen=True)
class Match:
    """Why a prompt is a near-duplicate of an eval case."""

    case: str
    """The eval case id."""
    rule: str
    """Which rule fired: same-text, same-words, same-characters, same-answer, same-answer-similar-words."""
    score: float
    """The similarity that fired (1.0 for exact rules)."""


def _command_key(command: str) -> str:
    try:
        return " ".join(shlex.split(command))
    except ValueError:
        return " ".join(command.split())


def load_eval_cases(paths=None) -> list[EvalCase]:
    """Every case of the given suite files (default: :func:`eval_suites`; :func:`all_suites` adds the
    imported ones)."""
    cases = []
    for path in eval_suites() if paths is None else paths:
        suite = load_suite(path)
        for case in suite.cases:
            cases.append(EvalCase(
                id=f"{suite.suite}/{case.id}", prompt=case.prompt,
                reference=tuple(_command_key(c) for c in commands_of(case.reference)),
                fixtures=tuple(case.fixtures)))
    return cases


def _grams(text: str, n: int = 5) -> set[str]:
    text = f" {text} "
    return {text[i:i + n] for i in range(max(1, len(text) - n + 1))}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def matches(prompt: str, cases: list[EvalCase], completion: str | None = None,
            fixture: str | None = None) -> list[Match]:
    """Every eval case the prompt (and optionally its completion) near-duplicates."""
    norm = normalize(prompt)
    tokens = set(norm.split())
    grams = _grams(norm)
    answer = tuple(_command_key(c) for c in commands_of(completion)) if completion else None
    found = []
    for case in cases:
        other = case.norm
        words = _jaccard(tokens, case.tokens)
        chars = _jaccard(grams, case.grams)
        same_answer = answer is not None and answer == case.reference
        if norm == other:
            found.append(Match(case.id, "same-text", 1.0))
        elif words >= JACCARD:
            found.append(Match(case.id, "same-words", round(words, 3)))
        elif chars >= CHAR5:
            found.append(Match(case.id, "same-characters", round(chars, 3)))
        elif same_answer and fixture in case.fixtures:
            found.append(Match(case.id, "same-answer", 1.0))
        elif same_answer and words >= ANSWER_JACCARD:
            found.append(Match(case.id, "same-answer-similar-words", round(words, 3)))
    return found


def contaminated(rows: list[QARow], cases: list[EvalCase] | None = None) -> list[tuple[int, QARow, Match]]:
    """(1-based position, row, first match) for every row that near-duplicates an eval case."""
    cases = load_eval_cases() if cases is None else cases
    out = []
    for i, row in enumerate(rows, start=1):
        found = matches(row.prompt, cases, row.completion, row.fixture)
        if found:
            out.append((i, row, found[0]))
    return out
