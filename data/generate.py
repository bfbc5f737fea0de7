"""Generate ``data/cli_qa.jsonl`` and ``data/holdout.jsonl``: request -> ``$`` plan rows.

    python -m data.generate            # or: fenrir data generate [--seed N]

What it does, deterministically for a given seed:

1. **Hand-written rows.**  ``data/handwritten.jsonl`` holds the 55 rows written
   by hand for the prototype (the agent's first few-shot examples), verbatim.
   Each is run on ``seed`` first, then on the training fixtures in order, and
   kept with the first fixture it verifies on; a row that verifies nowhere, or
   that near-duplicates an eval prompt (``data.contamination``), is dropped and
   named in the run's summary.
2. **Templates.**  Every template in ``data.templates`` is filled from the slot
   values of each training fixture (``data.slots``: names that exist in
   ``fixtures/train-a|b|c.yaml``, numbers and new names from shared lists),
   ``PASSES`` times over, and each filling is reworded by ``data.wording``
   (synonyms, where the directory is said, "Can you ..." framings) with a
   generator seeded by seed, template, fixture, pass and slot.  In a share of
   rows (``SHORT_NAMES``) a file is named by its last part alone ("the last 5
   lines of server.log" for ``logs/server.log``) when the fixture's listing
   (``data/listings.json``, what the agent is shown) has exactly one entry of
   that name: the plan still uses the full path, so the agent learns to find
   names in the listing.  Up to
   ``CANDIDATES`` fillings per template are drawn (seeded shuffle, all slots
   before any repeat), run in the sandbox (``data.verify``), and the first
   ``KEEP`` that verify are kept (``KEEP_SLOW`` of ``CANDIDATES_SLOW`` for
   venv/pip templates, which take seconds each).  Prompts are unique across
   both files; a filling that near-duplicates an eval prompt is skipped
   before it runs.

   Templates that are trained on (every one not held out, and all of
   ``data.more_templates``: more wordings of the same plans for every
   category but find) draw from wider tables: ``slots.MORE_FACTS`` (files and
   folders two or three levels deep), ``wording.MORE_WORDS`` /
   ``MORE_FRAMES``, ``SHORT_NAMES_TRAINED``; up to ``CANDIDATES_TRAINED``
   fillings, of which ``KEEP_TRAINED`` verify (fewer for find, which the
   NL2Bash rows already flood).  Held-out templates are filled exactly as
   before those tables existed, so ``data/holdout.jsonl`` stays as measured.
   A training row worded like a held-out row (the contamination check's
   text, word and character rules, :func:`near_holdout`) is skipped.  Only
   the rows the choice depends on run: a template's next fillings, as many
   as it is still short of its quota, in rounds (:func:`first_verified`).
3. **Hold-out.**  Whole templates of ``data.templates`` are held out (:func:`held_out`;
   ``data.more_templates`` never is): in each
   category, among the templates whose plan form another template of the
   category shares (so the skill is still taught, only the wording is new),
   ``HOLDOUT_SHARE`` of the category (at least one) is chosen by the order of
   ``sha256(f"{seed}:{id}")``.  Their rows go to ``data/holdout.jsonl``, never to
   ``cli_qa.jsonl``.  With the default seed (0) the held-out templates are::

       find-ext-old, find-ext-dir-please, find-old-q, find-dname, find-ext-new-q, find-new,
       find-ext-dir-looking, grep-code-used, grep-code-files-use, grep-file-i-any,
       grep-code-count-q, tail-n-end, tail-csv-skip, ls-newest-terse, tail-n-recent, wc-count-ext-q,
       wc-occurrences, wc-l, uniq-count-often, sort-plain, sort-plain-order, du-sh-please, df-here,
       du-sh-single, tar-list-terse, tar-extract, tar-list, git-log-n-terse, git-diff-q,
       git-log-latest, git-branch-list, git-status-clean, venv-requests-terse, venv-requests,
       chmod-x-q, chmod-private-owner, ls-sizes-q, mkdir-p-new, mkdir-p-parents, sed-sub-substitute,
       cut-col-print, sed-sub-q, del-old, del-empty-all, del-untracked

   (``tests/data/test_generate.py`` checks this list against :func:`held_out`.)

Rows are written in template order (hand-written rows first), one JSON object
per line with keys ``prompt, completion, category, fixture`` (``agent.fewshot.QARow``;
hand-written rows also carry ``source: handwritten``).  Same seed and same fixtures: same bytes.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import random
import string
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from agent.fewshot import QARow, load_examples, normalize
from data import files, wording
from data.contamination import EvalCase, all_suites, load_eval_cases, matches
from data.more_templates import MORE
from data.slots import FACTS, MORE_FACTS, NUMBERS, PATTERN_WORDS
from data.templates import TEMPLATES, T
from data.verify import verify_rows

ALL_TEMPLATES: tuple[T, ...] = TEMPLATES + MORE
"""Every template, in the order rows are written: ``data.templates`` (some held out), then ``data.more_templates``."""
FIXTURES = ("train-a", "train-b", "train-c")
"""Training fixtures, in the order hand-written rows are tried on after ``seed``."""
CANDIDATES = 12
CANDIDATES_SLOW = 7
KEEP = 7
KEEP_SLOW = 5
"""How many verified rows a held-out template gives (of ``CANDIDATES`` / ``CANDIDATES_SLOW``)."""
CANDIDATES_TRAINED = 16
KEEP_TRAINED = {"find": 5, "venv_pip": 5}
KEEP_TRAINED_DEFAULT = 9
"""How many verified rows a trained template gives (of ``CANDIDATES_TRAINED``, ``CANDIDATES_SLOW`` for venv/pip):
fewer for find, which NL2Bash already floods (4,160 of its 6,187 rows), more for the rest."""
HOLDOUT_SHARE = 0.15
SLOW_CATEGORIES = frozenset({"venv_pip"})
PASSES = 3
"""How many times each slot dict is filled and worded (duplicates by normalised prompt are dropped)."""
SHORT_NAMES = 0.4
"""Share of rows naming a file by its last part when the fixture's listing makes that unambiguous."""
SHORT_NAMES_TRAINED = 0.5
"""The same share for trained templates: the model must resolve a bare name against the listing (issue 9 saw
``head -n 1 sales.csv`` for ``reports/2025/sales.csv``)."""
NAMED_BY_PATH = ("file", "archive", "zip")
"""Slots holding a path that a user may name by its last part."""


def listed_paths(listing: str) -> list[str]:
    """The paths a listing shows (the header, notes and link targets stripped)."""
    paths = []
    for line in listing.splitlines()[1:]:
        if line.startswith("("):
            continue
        path = line.split(" -> ")[0].split(" (")[0].rstrip("/")
        if path:
            paths.append(path)
    return paths


def short_names(fixture: str) -> dict[str, str]:
    """Path -> its last part, for the listed paths of ``fixture`` whose last part no other listed entry has."""
    path = files.listings_path()
    listings = json.loads(path.read_text(encoding="utf-8"))["fixtures"] if path.exists() else {}
    paths = listed_paths(listings.get(fixture, {}).get("text", ""))
    counts = Counter(posixpath.basename(p) for p in paths)
    return {p: posixpath.basename(p) for p in paths if "/" in p and counts[posixpath.basename(p)] == 1}


@dataclass
class Summary:
    """What one generation run produced."""

    train: Counter = field(default_factory=Counter)
    holdout: Counter = field(default_factory=Counter)
    dropped_handwritten: list[str] = field(default_factory=list)
    rejected: int = 0
    contaminated: int = 0
    near_holdout: int = 0
    """Training candidates skipped (before they ran) because their wording near-duplicates a held-out row."""
    seconds: float = 0.0


def _rank(seed: int, template_id: str) -> str:
    return hashlib.sha256(f"{seed}:{template_id}".encode()).hexdigest()


def held_out(seed: int = 0, templates: tuple[T, ...] = TEMPLATES) -> list[str]:
    """Ids of the templates whose rows go to the hold-out file."""
    by_cat: dict[str, list[T]] = defaultdict(list)
    for t in templates:
        by_cat[t.category].append(t)
    chosen = []
    for cat, group in by_cat.items():
        forms = Counter(t.completion for t in group)
        eligible = sorted((t for t in group if forms[t.completion] > 1), key=lambda t: _rank(seed, t.id))
        want = max(1, round(len(group) * HOLDOUT_SHARE))
        picked: list[T] = []
        for t in eligible:
            # never hold out every template of one plan form
            if len(picked) < want and sum(1 for p in picked if p.completion == t.completion) < forms[t.completion] - 1:
                picked.append(t)
        chosen += [t.id for t in picked]
    return chosen


def fields_of(text: str) -> set[str]:
    """The ``{field}`` names a template string uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def fillings(template: T, fixture: str, rng: random.Random, more: bool = False) -> list[dict]:
    """Every slot dict for a template on a fixture, with shared values drawn by ``rng``; ``more``: the
    values of ``MORE_FACTS`` too (trained templates)."""
    base = [{}] if template.kind == "none" else FACTS[fixture].get(template.kind, [])
    if more and template.kind != "none":
        base = base + MORE_FACTS[fixture].get(template.kind, [])
    wanted = fields_of(template.prompt) | fields_of(template.completion)
    out = []
    for slot in base:
        values = dict(slot)
        for name in ("n", "mb", "kb", "days", "branch", "venv", "newdir"):
            if name in wanted:
                values[name] = rng.choice(NUMBERS[name])
        if "mode" in wanted or "mode_words" in wanted:
            values["mode"], values["mode_words"] = rng.choice(NUMBERS["mode"])
        if "pwords" in wanted:
            values["pwords"] = rng.choice(PATTERN_WORDS[values["pattern"]])
        if "n2" in wanted:
            values["n2"] = values["n"] + rng.choice((5, 10, 20))
        if "dir" in values:
            values["base"] = "here" if values["dir"] == "." else posixpath.basename(values["dir"])
        if "file" in values:
            values["fname"] = posixpath.basename(values["file"])
        out.append(values)
    return out


def instantiate(template: T, seed: int, trained: bool | None = None) -> list[QARow]:
    """Candidate rows for a template (before verification), in a seeded order, unique prompts.

    Each fixture's slot dicts are filled ``PASSES`` times (fresh numbers and a fresh
    wording each time, :mod:`data.wording`, seeded per row); every pass is shuffled
    on its own and passes are taken in order, so a template gets as many different
    slot values as its fixtures have before any repeats in other words.

    ``trained`` (default: the template is not held out for ``seed``): draw from the
    wider slot table (``MORE_FACTS``), wording tables (``wording.render(more=True)``),
    short-name share and candidate count.  A held-out template is instantiated exactly
    as before these existed, so ``data/holdout.jsonl`` does not move.
    """
    if trained is None:
        trained = template.id not in held_out(seed)
    rng = random.Random(f"{seed}:{template.id}")
    rows, seen = [], set()
    shorts = {fixture: short_names(fixture) for fixture in FIXTURES}
    for rep in range(PASSES):
        batch = []
        for fixture in FIXTURES:
            for i, values in enumerate(fillings(template, fixture, rng, trained)):
                wrng = random.Random(f"{seed}:{template.id}:{fixture}:{rep}:{i}")
                said = dict(values)
                for key in NAMED_BY_PATH:
                    if values.get(key) in shorts[fixture] and wrng.random() < (SHORT_NAMES_TRAINED if trained else SHORT_NAMES):
                        said[key] = shorts[fixture][values[key]]
                prompt = wording.render(template.prompt, template.completion, template.category, said, wrng, trained)
                completion = template.completion.format(**values)
                if normalize(prompt) in seen:
                    continue
                seen.add(normalize(prompt))
                batch.append(QARow(prompt=prompt, completion=completion, category=template.category, fixture=fixture))
        rng.shuffle(batch)
        rows += batch
    if template.category in SLOW_CATEGORIES:
        return rows[:CANDIDATES_SLOW]
    return rows[:CANDIDATES_TRAINED if trained else CANDIDATES]


def keep(template: T, trained: bool) -> int:
    """How many verified rows a template gives."""
    if not trained:
        return KEEP_SLOW if template.category in SLOW_CATEGORIES else KEEP
    return KEEP_TRAINED.get(template.category, KEEP_TRAINED_DEFAULT)


Verify = Callable[[list[QARow]], list[str | None]]
"""For each row, why it fails verification (None: it passes)."""


def sandbox_verify(rows: list[QARow]) -> list[str | None]:
    """:data:`Verify` in the sandbox (``data.verify``): each row run on its fixture."""
    bad = {f.line - 1: f.reason for f in verify_rows(rows, workers=4)}
    return [bad.get(i) for i in range(len(rows))]


def first_verified(groups: list[tuple[list[QARow], int]], verify: Verify, summary: Summary,
                   skip: Callable[[QARow], bool] | None = None) -> list[list[QARow]]:
    """For each ``(rows, quota)`` group, its first ``quota`` rows (in order) that ``skip`` lets through and
    that verify, running no row the choice does not depend on: each round verifies, in one call, the next
    rows of every group that is short, as many as it is short, until each group is full or out of rows.
    (Verifying every candidate up front picks the same rows: 6,467 runs for the committed files, against
    3,885.)"""
    chosen: list[list[QARow]] = [[] for _ in groups]
    taken = [0] * len(groups)
    while True:
        batch: list[tuple[int, QARow]] = []
        for g, (rows, quota) in enumerate(groups):
            short = quota - len(chosen[g])
            while short > 0 and taken[g] < len(rows):
                row = rows[taken[g]]
                taken[g] += 1
                if skip is None or not skip(row):
                    batch.append((g, row))
                    short -= 1
        if not batch:
            return chosen
        for (g, row), reason in zip(batch, verify([row for _, row in batch])):
            if reason is None:
                chosen[g].append(row)
            else:
                summary.rejected += 1


def handwritten(cases, summary: Summary, log, verify: Verify = sandbox_verify) -> list[QARow]:
    """The hand-written rows that verify somewhere and are clean of eval prompts."""
    rows = [e.row for e in load_examples(files.handwritten_path())]
    kept: dict[int, QARow] = {}
    pending = list(range(len(rows)))
    for fixture in ("seed",) + FIXTURES:
        trial = [(i, rows[i].model_copy(update={"fixture": fixture, "source": "handwritten"})) for i in pending]
        trial = [(i, row) for i, row in trial if not matches(row.prompt, cases, row.completion, row.fixture)]
        for (i, row), reason in zip(trial, verify([row for _, row in trial])):
            if fixture == "seed" and reason:
                log(f"  hand-written row {i + 1} fails on seed: {reason}")
            if reason is None:
                kept[i] = row
        pending = [i for i in pending if i not in kept]
    for i in pending:
        summary.dropped_handwritten.append(rows[i].prompt)
        log(f"  dropped hand-written row {i + 1}: {rows[i].prompt}")
    return [kept[i] for i in sorted(kept)]


def candidates(seed: int, cases, seen: set[str], summary: Summary) -> list[tuple[T, QARow]]:
    """Every template's candidate rows in template order, minus prompts already ``seen`` (normalised;
    the set grows) and eval near-duplicates (counted in ``summary.contaminated``)."""
    out: list[tuple[T, QARow]] = []
    hold = set(held_out(seed))
    for template in ALL_TEMPLATES:
        for row in instantiate(template, seed, template.id not in hold):
            if normalize(row.prompt) in seen:
                continue
            if matches(row.prompt, cases, row.completion, row.fixture):
                summary.contaminated += 1
                continue
            seen.add(normalize(row.prompt))
            out.append((template, row))
    return out


def generate(seed: int = 0, log=print,
             verify: Verify = sandbox_verify) -> tuple[list[QARow], list[QARow], Summary]:
    """(training rows, hold-out rows, summary): every row verified (``verify``: in the sandbox)."""
    start = time.monotonic()
    cases = load_eval_cases(all_suites())
    summary = Summary()
    train = handwritten(cases, summary, log, verify)
    hold = set(held_out(seed))
    by_template: dict[str, tuple[T, list[QARow]]] = {}
    for template, row in candidates(seed, cases, {normalize(r.prompt) for r in train}, summary):
        by_template.setdefault(template.id, (template, []))[1].append(row)
    groups = list(by_template.values())  # template order
    holdout = [row for rows in first_verified([(rows, keep(t, False)) for t, rows in groups if t.id in hold],
                                              verify, summary) for row in rows]
    held_rows = holdout_cases(holdout)

    def near(row: QARow) -> bool:
        found = near_holdout(row, held_rows)
        summary.near_holdout += int(found)
        return found

    train += [row for rows in first_verified([(rows, keep(t, True)) for t, rows in groups if t.id not in hold],
                                             verify, summary, skip=near) for row in rows]
    summary.train = Counter(r.category for r in train)
    summary.holdout = Counter(r.category for r in holdout)
    summary.seconds = time.monotonic() - start
    return train, holdout, summary


def holdout_cases(rows: list[QARow]) -> list[EvalCase]:
    """Held-out rows as cases of the contamination check (no reference: only the wording rules apply)."""
    return [EvalCase(id=f"holdout/{i}", prompt=r.prompt, reference=(), fixtures=(r.fixture,))
            for i, r in enumerate(rows, start=1)]


def near_holdout(row: QARow, cases: list[EvalCase]) -> bool:
    """True when ``row``'s request is worded like a held-out request (same text, words or characters as
    ``data.contamination`` measures them): such a row would teach a held-out wording."""
    return bool(matches(row.prompt, cases))


def render(rows: list[QARow]) -> bytes:
    """The JSONL bytes of a list of rows (fields left at their defaults -- ``source: template``,
    ``check: executed+verified`` -- are not written)."""
    return "".join(json.dumps(r.model_dump(exclude_defaults=True), ensure_ascii=False) + "\n" for r in rows).encode()


def write(seed: int = 0, train_path: Path | None = None, holdout_path: Path | None = None, log=print,
          verify: Verify = sandbox_verify) -> Summary:
    """Generate and write both files (default: ``data/cli_qa.jsonl`` and ``data/holdout.jsonl``)."""
    train_path = Path(train_path) if train_path is not None else files.train_path()
    holdout_path = Path(holdout_path) if holdout_path is not None else files.holdout_path()
    train, holdout, summary = generate(seed, log, verify)
    train_path.write_bytes(render(train))
    holdout_path.write_bytes(render(holdout))
    log(f"{train_path}: {len(train)} rows; {holdout_path}: {len(holdout)} rows "
        f"({summary.rejected} candidates failed verification, {summary.contaminated} skipped as eval near-duplicates, "
        f"{summary.near_holdout} as held-out near-duplicates, "
        f"{summary.seconds:.0f} s)")
    for cat in sorted(set(summary.train) | set(summary.holdout)):
        log(f"  {cat:<15} train {summary.train[cat]:>4}  holdout {summary.holdout[cat]:>3}")
    log(f"held-out templates: {', '.join(held_out(seed))}")
    return summary


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
    write(seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
