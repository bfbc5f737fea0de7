"""Import real requests: NL2Bash pairs and tldr-pages examples join the template rows.

    fenrir data import-external [--workers N] [--limit N]     # or: python -m data.external

Writes ``data/external.jsonl`` (training), ``data/holdout_external.jsonl`` (for choosing training
settings; never trained on) and ``data/external_summary.json`` (counts).  Same inputs and seed, same
row files (the summary also records wall time).

For every candidate (``data.nl2bash``, ``data.tldr``), in this order:

1. **duplicate** -- its normalised request is already in a data file (``cli_qa``, ``holdout``,
   ``handwritten``): dropped (requests repeated among the candidates are settled after the run);
2. **static checks** (``data.screen``): unparseable, a program outside the sandbox image,
   catastrophic, network, interactive or never-ending, reading stdin, an unset variable: dropped;
3. **the plan**: the completion is what the agent prints, ``agent.plan.parse_plan("$ " + cmd).render()``
   -- the agent's safety pass turns a destructive command into its preview; a plan with a blocked line
   is dropped.  It is computed from the raw command each run, so a changed safety policy only needs a
   re-import;
4. **decontamination**: a row that near-duplicates a case of any eval suite (``data.contamination``
   against ``rubrics/static.yaml``, ``rubrics/dynamic.yaml`` and ``rubrics/imported/*.yaml``, same
   thresholds) is dropped, counted per suite;
5. **not runnable here**: a plan that names an absolute path outside the work tree or a home path
   (``/var/log``, ``~/Downloads``, ``$HOME``, ``/``) is about the user's machine, which no fixture has
   (the sandbox's own ``/etc`` is not it).  Such a row is not run: it is kept as ``parsed`` when every
   command of its plan only reads (``data.screen.reads_only``: readers only, no redirect to a file, no
   ``find -exec`` of a writer...; a delete answered by its preview qualifies), else dropped
   (``not-read-only``);
6. **the sandbox** (``data.verify.check_rows`` on the row's fixture, ``RUN_TIMEOUT`` seconds, each row
   on a freshly laid-out tree so that tests of minutes-old, access or change times do not depend on
   what ran before):

   * ``executed+verified`` -- it ran cleanly and did what it claims (prints something and changes
     nothing; or makes what it says it makes; previews change nothing);
   * ``executed`` -- it ran cleanly (exit 0, no stderr, no limit hit) but the claim did not hold
     (most often: it printed nothing);
   * anything else is dropped (``run-failed``: exit code, stderr, timeout);
7. **one row per request**: among candidates with the same normalised request (NL2Bash often has several
   commands for one), the best tag wins (``executed+verified``, then ``executed``, then ``parsed``), then
   the first in source order; the others are dropped as ``duplicate``;
8. **hold-out**: ``HOLDOUT_SHARE`` of the kept rows, by a seeded hash of their group, go to the
   hold-out file.  Rows whose requests have the same content words (in any order) or whose plans run the
   same commands are one group, so a paraphrase never sits on the other side.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict

from agent.fewshot import QARow, load_examples, normalize
from agent.plan import parse_plan
from agent.safety import Level, classify
from data import files, nl2bash, tldr
from data.candidate import Candidate, category_of, external_dir
from data.contamination import all_suites, load_eval_cases, matches
from data.policy import runtime_guarded
from data.screen import Drop, Dropped, drop_reason, out_of_tree_paths, reads_only, tokens
from data.verify import SANDBOX_ERROR, Outcome, check_rows
from harness.errors import SandboxError
from rubrics.score import commands_of
from sandbox.engine import ensure_image
from sandbox.programs import programs as image_programs

SEED = 0
HOLDOUT_SHARE = 0.05
RUN_TIMEOUT = 10.0
"""Seconds a row may run (rows that build a venv keep data.verify.SLOW): the eval's default limit, far above
what a row needs on a loaded machine, so that the tags do not depend on the load."""
STOPWORDS = frozenset("a an the in of to for from and or with all any this that these those my your its it is are "
                      "be on at by as into under current directory folder".split())


class ImportSummary(BaseModel):
    """What one import produced (``data/external_summary.json``)."""

    model_config = ConfigDict(extra="forbid")

    seed: int
    """Seed of the tldr fillings and the hold-out split."""
    limit: int | None
    """Only the first N candidates of each source were considered (None: all)."""
    workers: int
    """Rows run at once in the sandbox."""
    candidates: dict[str, int]
    """Source -> candidate rows (tldr: examples whose program the image has)."""
    train: dict[str, dict[str, int]]
    """Source -> check tag -> rows written to ``external.jsonl``."""
    holdout: dict[str, dict[str, int]]
    """Source -> check tag -> rows written to ``holdout_external.jsonl``."""
    dropped: dict[str, dict[str, int]]
    """Source -> drop reason -> rows."""
    drop_details: dict[str, dict[str, int]]
    """Drop reason -> its commonest details (programs outside the image, failure kinds...), top 15."""
    executed_because: dict[str, int]
    """Why ``executed`` rows did not verify, by kind."""
    contamination: dict[str, int]
    """Eval suite -> candidate rows that near-duplicated one of its cases (a row may hit several)."""
    sandbox_rows: int
    """Rows run in the sandbox."""
    sandbox_seconds: float
    """Wall time of those runs."""
    wall_seconds: float
    """Wall time of the whole import."""


@dataclass(frozen=True)
class Tagged:
    """A candidate that made it: its plan and how it was checked."""

    candidate: Candidate
    """The candidate."""
    completion: str
    """The agent's plan for its command."""
    check: str
    """executed+verified, executed or parsed."""

    def row(self) -> QARow:
        c = self.candidate
        return QARow(prompt=c.request, completion=self.completion, category=category_of(c.command),
                     fixture=c.fixture, source=c.source, check=self.check)


def _failure_kind(reason: str) -> str:
    for pattern, kind in ((r"^sandbox error", "sandbox error"), (r"^exit code (\d+)", r"exit code \1"), (r"^wrote to stderr", "stderr"),
                          (r"^timed out", "timeout"), (r"^output went past", "output cap"),
                          (r"printed nothing", "printed nothing"), (r"changed the tree", "output row changed the tree"),
                          (r"changed nothing", "effect row changed nothing"), (r"^expected", "claimed product missing"),
                          (r"^removed", "removed what it does not claim"), (r"deleting program", "preview deletes")):
        m = re.search(pattern, reason)
        if m:
            return m.expand(kind)
    return reason.split(":")[0][:40]


def unrunnable(completion: str) -> str | None:
    """Why a plan cannot be run meaningfully in the sandbox, or None: it names a path outside the work
    tree -- the user's machine, which no fixture has."""
    paths = [p for c in commands_of(completion) for p in out_of_tree_paths(c)]
    return f"names {paths[0]}" if paths else None


def reads_only_plan(completion: str) -> bool:
    """Every command of the plan only reads (``data.screen.reads_only``) and is safe."""
    return all(reads_only(c) and classify(c).level == Level.SAFE for c in commands_of(completion))


RANK = {"executed+verified": 0, "executed": 1, "parsed": 2}


def best_of_each_request(tagged: list[Tagged]) -> tuple[list[Tagged], list[Tagged]]:
    """(one row per normalised request, in order; the others).  Among rows asking the same thing (NL2Bash
    has several commands per request) the best checked wins, then the first."""
    best: dict[str, int] = {}
    for i, t in enumerate(tagged):
        key = normalize(t.candidate.request)
        if key not in best or RANK[t.check] < RANK[tagged[best[key]].check]:
            best[key] = i
    keep = set(best.values())
    return [t for i, t in enumerate(tagged) if i in keep], [t for i, t in enumerate(tagged) if i not in keep]


def tag(outcome: Outcome) -> str | None:
    """The check tag a run earns (None: drop the row as ``run-failed``)."""
    if outcome.verified:
        return "executed+verified"
    return "executed" if outcome.ran_clean else None


def plan_of(command: str) -> tuple[str, bool]:
    """(the agent's printed plan for the command, whether a line of it is blocked)."""
    plan = parse_plan("$ " + command)
    for line in plan.lines:  # a run-time guard (tar -c) is the agent's to add: the row keeps the idiom
        if line.action == "guarded" and runtime_guarded(line.original):
            line.text, line.action = line.original, "kept"
    return plan.render(), any(line.action == "blocked" for line in plan.lines)


def group_keys(request: str, command: str) -> tuple[str, str]:
    """The request's content words (sorted) and the command's words: rows sharing either are one group.
    ``command`` is the plan's commands (what is trained on), one per line."""
    words = sorted({w for w in normalize(request).split() if w not in STOPWORDS})
    return "r:" + " ".join(words), "c:" + " ".join(tokens(command))


def split(items: list[tuple[str, str]], seed: int = SEED, share: float = HOLDOUT_SHARE) -> list[bool]:
    """For each (request, command): True when it goes to the hold-out.  Groups (shared request words or
    shared command) go together; a group is held out when sha256(seed:its first key) falls under ``share``."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keys = [group_keys(request, command) for request, command in items]
    for a, b in keys:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, list[str]] = defaultdict(list)
    for a, b in keys:
        members[find(a)] += [a, b]
    held = {}
    for root, group in members.items():
        digest = hashlib.sha256(f"{seed}:{min(group)}".encode()).digest()
        held[root] = int.from_bytes(digest[:8], "big") / 2**64 < share
    return [held[find(a)] for a, _ in keys]


def gather(seed: int, limit: int | None, programs: frozenset[str], drops: list[tuple[str, Dropped]], log) -> list[Candidate]:
    """Every source's candidates, tldr's filling drops appended to ``drops``.  With ``limit``: the first
    ``limit`` NL2Bash pairs, tldr candidates and tldr filling drops (a quick trial, not a sample)."""
    base = external_dir()
    pairs = nl2bash.candidates(nl2bash.load(base / "nl2bash" / "nl2bash.jsonl"))[:limit]
    examples, unfilled = tldr.candidates(tldr.load(base / "tldr" / "pages.jsonl"), programs, seed)
    examples, unfilled = examples[:limit], unfilled[:limit]
    drops += [("tldr", d) for _, d in unfilled]
    log(f"candidates: {len(pairs)} NL2Bash pairs, {len(examples)} tldr examples filled "
        f"({len(unfilled)} could not be)")
    return pairs + examples


def run_import(workers: int = 2, limit: int | None = None, seed: int = SEED,
               log: Callable[[str], None] = print) -> tuple[list[QARow], list[QARow], ImportSummary]:
    """(training rows, hold-out rows, summary)."""
    start = time.monotonic()
    programs = image_programs(ensure_image())
    drops: list[tuple[str, Dropped]] = []
    found = gather(seed, limit, programs, drops, log)
    seen = {normalize(e.row.prompt) for path in files.committed_rows() for e in load_examples(path)}
    suites = {path.stem: load_eval_cases((path,)) for path in all_suites()}
    contamination: Counter = Counter()
    ready: list[tuple[Candidate, str]] = []
    parsed: list[Tagged] = []
    for cand in found:
        key = normalize(cand.request)
        why = Dropped(Drop.DUPLICATE) if key in seen or not key else drop_reason(cand.command, programs)
        if why is None:
            completion, blocked = plan_of(cand.command)
            if blocked:
                why = Dropped(Drop.BLOCKED)
            else:
                hits = [name for name, cases in suites.items() if matches(cand.request, cases, completion, cand.fixture)]
                contamination.update(hits)
                why = Dropped(Drop.CONTAMINATED, ", ".join(hits)) if hits else None
        if why is None and unrunnable(completion):
            if reads_only_plan(completion):
                parsed.append(Tagged(cand, completion, "parsed"))
                continue
            why = Dropped(Drop.NOT_READ_ONLY, unrunnable(completion))
        if why is not None:
            drops.append((cand.source, why))
            continue
        ready.append((cand, completion))
    log(f"{len(ready)} candidates pass the static checks; running them in the sandbox ({workers} workers)")
    run_start = time.monotonic()
    probe = [QARow(prompt=c.request, completion=comp, category=category_of(c.command), fixture=c.fixture)
             for c, comp in ready]
    outcomes = check_rows(probe, workers=workers, timeout=RUN_TIMEOUT, fresh=True)
    run_seconds = time.monotonic() - run_start
    broken = sum(1 for o in outcomes if (o.reason or "").startswith(SANDBOX_ERROR))
    if broken > max(20, len(outcomes) // 50):
        raise SandboxError(f"the sandbox failed on {broken} of {len(outcomes)} rows (first: "
                           f"{next(o.reason for o in outcomes if (o.reason or '').startswith(SANDBOX_ERROR))}); "
                           "check the Docker engine and run the import again")
    log(f"ran {len(probe)} rows in {run_seconds:.0f} s ({len(probe) / max(run_seconds, 1e-9):.1f} rows/s)")
    tagged: list[Tagged] = []
    executed_because: Counter = Counter()
    for (cand, completion), outcome in zip(ready, outcomes):
        check = tag(outcome)
        if check is None:
            drops.append((cand.source, Dropped(Drop.RUN_FAILED, _failure_kind(outcome.reason or ""))))
            continue
        if check == "executed":
            executed_because[_failure_kind(outcome.reason or "")] += 1
        tagged.append(Tagged(cand, completion, check))
    order = {id(c): i for i, c in enumerate(found)}
    tagged = sorted(tagged + parsed, key=lambda t: order[id(t.candidate)])
    tagged, repeats = best_of_each_request(tagged)
    drops += [(t.candidate.source, Dropped(Drop.DUPLICATE)) for t in repeats]
    held = split([(t.candidate.request, "\n".join(commands_of(t.completion))) for t in tagged], seed)
    train = [t.row() for t, h in zip(tagged, held) if not h]
    holdout = [t.row() for t, h in zip(tagged, held) if h]
    summary = _summary(seed, limit, workers, found, drops, train, holdout, executed_because, contamination,
                       len(probe), run_seconds, time.monotonic() - start)
    return train, holdout, summary


def _table(rows: list[QARow]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row.source, {}).setdefault(row.check, 0)
        out[row.source][row.check] += 1
    return {s: dict(sorted(c.items())) for s, c in sorted(out.items())}


def _summary(seed, limit, workers, found, drops, train, holdout, executed_because, contamination,
             sandbox_rows, sandbox_seconds, wall) -> ImportSummary:
    dropped: dict[str, Counter] = defaultdict(Counter)
    details: dict[str, Counter] = defaultdict(Counter)
    for source, why in drops:
        dropped[source][why.reason.value] += 1
        if why.detail:
            details[why.reason.value][why.detail.split(" (")[0][:60]] += 1
    return ImportSummary(
        seed=seed, limit=limit, workers=workers, candidates=dict(sorted(Counter(c.source for c in found).items())),
        train=_table(train), holdout=_table(holdout),
        dropped={s: dict(c.most_common()) for s, c in sorted(dropped.items())},
        drop_details={r: dict(c.most_common(15)) for r, c in sorted(details.items())},
        executed_because=dict(executed_because.most_common()),
        contamination={s: contamination[s] for s in sorted({p.stem for p in all_suites()})},
        sandbox_rows=sandbox_rows, sandbox_seconds=round(sandbox_seconds, 1), wall_seconds=round(wall, 1))


def render(rows: list[QARow]) -> bytes:
    """JSONL bytes, every field written."""
    return "".join(json.dumps(r.model_dump(), ensure_ascii=False) + "\n" for r in rows).encode()


def write(workers: int = 2, limit: int | None = None, seed: int = SEED, train_path: Path | None = None,
          holdout_path: Path | None = None, summary_path: Path | None = None,
          log: Callable[[str], None] = print) -> ImportSummary:
    """Import and write the three files (default: ``data/external.jsonl``, ``data/holdout_external.jsonl``,
    ``data/external_summary.json``); log the counts."""
    train_path = Path(train_path) if train_path is not None else files.external_train_path()
    holdout_path = Path(holdout_path) if holdout_path is not None else files.external_holdout_path()
    summary_path = Path(summary_path) if summary_path is not None else files.external_summary_path()
    train, holdout, summary = run_import(workers, limit, seed, log)
    train_path.write_bytes(render(train))
    holdout_path.write_bytes(render(holdout))
    summary_path.write_text(summary.model_dump_json(indent=1) + "\n", encoding="utf-8")
    log(f"{train_path}: {len(train)} rows; {holdout_path}: {len(holdout)} rows ({summary.wall_seconds:.0f} s)")
    for title, table in (("train", summary.train), ("holdout", summary.holdout)):
        for source, checks in table.items():
            log(f"  {title:<8}{source:<9}" + "  ".join(f"{k} {v}" for k, v in checks.items()))
    for source, reasons in summary.dropped.items():
        log(f"  dropped {source:<9}" + ", ".join(f"{k} {v}" for k, v in reasons.items()))
    log("  contamination: " + ", ".join(f"{k} {v}" for k, v in summary.contamination.items()))
    return summary


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 2
    limit = int(args[args.index("--limit") + 1]) if "--limit" in args else None
    write(workers, limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
