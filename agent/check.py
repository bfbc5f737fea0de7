"""Checked answers: run several candidate plans and keep the one whose result most of them agree on.

The agent samples a few plans for one request (the greedy one plus samples,
:func:`agent.generate.generate_candidates`).  Something that can run them
without touching the user's files (the sandbox, supplied by the harness as a
:class:`Runner`; the agent never imports it) runs each distinct script on a
copy of the directory and reports an :class:`Observation`.  Then:

1. candidates that have nothing to run, have a line that does not parse or was
   blocked, exit non-zero, print an error on stderr, or hit a limit are
   dropped (:func:`failure`);
2. the survivors are grouped by what they did: stdout and the file-system
   changes (:attr:`Observation.key`);
3. the greedy candidate (the model's most likely plan) is returned when it
   survived: the check is a filter, not a vote against it;
4. otherwise the group with the most candidates wins (identical samples count
   as separate votes: the model chose that plan more often); ties go to the
   group holding the candidate with the highest mean log-probability, and
   within the winning group that candidate is returned.

Why the greedy plan first: on the 296 held-out rows (``python
bench/candidates.py``, shipped adapter, 4 candidates at T=1.0) a plain vote
picked a right plan on 185 rows, the greedy plan alone was right on 190, and
"greedy when it ran cleanly, else the vote" on 195: samples at T=1.0 repeat
one plausible wrong plan (``head`` for "the last lines", ``ls -l`` for
"make it owner-only") often enough to outvote a greedy plan that was right,
while a greedy plan that fails is rightly replaced.

Plans that neither print nor change anything (the greedy one included) are
only chosen when no candidate did something observable (``quiet_last``): a plan that does nothing
agrees with every other plan that does nothing.  When no candidate ran
cleanly, the most likely one that at least ran within the limits is returned
(a plan that failed with an error message is less harmful to show than one
that ran away), and the plan's note says none ran cleanly.

Nothing here looks at a reference answer.  Standard library only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from agent.plan import Plan

CHATTY = frozenset({"git", "pip", "pip3", "python", "python3"})
"""Programs that report progress on stderr ("Switched to a new branch ..."): stderr alone is
not an error for a plan that calls one of them; its exit status still is."""


COMPARERS = frozenset({"diff", "cmp", "sdiff", "diff3", "zdiff", "bzdiff", "xzdiff"})
"""Programs that exit 1 to say "the inputs differ": a plan that ends with one, exits 1 and writes nothing
on stderr ran cleanly (``diff -r dir1 dir2`` answering "how do they differ" with the differences)."""


@dataclass(frozen=True)
class Observation:
    """What running one candidate's script showed."""

    exit_code: int
    """The script's exit status (128+N when killed by signal N)."""
    stdout: str
    """What it printed."""
    stderr: str
    """What it printed on stderr."""
    changes: tuple[str, ...] = ()
    """The file-system changes, one ``KIND PATH SHA`` string each, sorted."""
    limit: str | None = None
    """A limit it hit (timeout, memory, output, ...), or None."""

    @property
    def key(self) -> str:
        """Identity of the observed result: stdout and changes."""
        digest = hashlib.sha256(self.stdout.encode("utf-8", "replace"))
        for change in self.changes:
            digest.update(b"\0" + change.encode("utf-8", "replace"))
        return digest.hexdigest()[:16]

    @property
    def quiet(self) -> bool:
        """Printed nothing and changed nothing."""
        return not self.stdout.strip() and not self.changes


class Runner(Protocol):
    """Runs shell scripts on a copy of the directory the request is about; never on the real one."""

    where: str
    """What the scripts run against, for the plan's note (e.g. 'a copy of /home/me/project')."""

    def __call__(self, scripts: Sequence[str]) -> list[Observation]:
        """One observation per script, in order."""
        ...


@dataclass(frozen=True)
class Candidate:
    """One sampled plan."""

    plan: Plan
    """The parsed, safety-checked plan."""
    raw: str
    """The model's text."""
    mean_logprob: float
    """Mean log-probability per generated token under the model (no temperature)."""
    greedy: bool = False
    """True for the greedy decode."""

    @property
    def script(self) -> str:
        return self.plan.script()


def programs_of(plan: Plan) -> set[str]:
    """First words of the plan's commands (after ``cd x &&`` and the like, roughly)."""
    names = set()
    for line in plan.commands:
        for part in line.text.replace("&&", ";").replace("||", ";").replace("|", ";").split(";"):
            words = part.split()
            if words:
                names.add(words[0].rsplit("/", 1)[-1])
    return names


def last_program(plan: Plan) -> str:
    """The program whose exit status is the plan's: the last stage of its last command (roughly)."""
    if not plan.commands:
        return ""
    text = plan.commands[-1].text
    for sep in ("&&", "||", "|", ";"):
        text = text.rsplit(sep, 1)[-1]
    words = text.split()
    return words[0].rsplit("/", 1)[-1] if words else ""


def static_failure(candidate: Candidate) -> str | None:
    """Why a candidate is dropped before running, or None."""
    plan = candidate.plan
    for line in plan.lines:
        if line.original is not None and not line.parse_ok:
            return f"does not parse: {line.original[:60]}"
        if line.action == "blocked":
            return f"blocked: {line.reason[:80]}"
    if not plan.commands:
        return "nothing to run"
    return None


def failure(candidate: Candidate, seen: Observation) -> str | None:
    """Why a candidate that ran is dropped, or None."""
    if seen.limit:
        return f"hit a limit: {seen.limit}"
    differ = seen.exit_code == 1 and not seen.stderr.strip() and last_program(candidate.plan) in COMPARERS
    if seen.exit_code != 0 and not differ:
        first = seen.stderr.strip().splitlines()[:1]
        return f"exit {seen.exit_code}" + (f": {first[0][:80]}" if first else "")
    if seen.stderr.strip() and not programs_of(candidate.plan) & CHATTY:
        return f"printed an error: {seen.stderr.strip().splitlines()[0][:80]}"
    return None


@dataclass(frozen=True)
class Verdict:
    """How one candidate fared."""

    index: int
    """Position among the candidates (0 is the greedy one)."""
    dropped: str | None
    """Why it was dropped, or None if it survived."""
    key: str | None
    """Its result's key (None when it did not run)."""


@dataclass(frozen=True)
class Choice:
    """The outcome of a check."""

    index: int
    """The chosen candidate."""
    checked: bool
    """False when nothing could be run (the greedy plan is returned unchecked)."""
    votes: int
    """Candidates whose result equals the chosen one's."""
    survivors: int
    """Candidates that ran cleanly."""
    verdicts: list[Verdict] = field(default_factory=list)
    """One per candidate."""

    def note(self, total: int, where: str) -> str:
        """The ``#`` line the plan carries about the check."""
        if not self.checked:
            return f"not checked: {where}; this is the model's first choice"
        if not self.survivors:
            return (f"checked on {where}: none of {total} candidate plans ran cleanly; "
                    "this is the model's first choice, review it")
        return (f"checked on {where}: {self.survivors} of {total} candidate plans ran cleanly, "
                f"{self.votes} agreed on this result")


def choose(candidates: Sequence[Candidate], observations: Sequence[Observation | None],
           quiet_last: bool = True, greedy_first: bool = True) -> Choice:
    """Pick a candidate (see the module docstring): the greedy one when it ran cleanly (and, with
    ``quiet_last``, did something observable or nothing else did), else by majority of observed results.

    ``observations[i]`` is None when candidate ``i`` was not run (a static failure).
    ``greedy_first=False`` is the plain majority vote.
    """
    verdicts: list[Verdict] = []
    groups: dict[str, list[int]] = {}
    quiet: set[str] = set()
    for i, (cand, seen) in enumerate(zip(candidates, observations)):
        reason = static_failure(cand) if seen is None else failure(cand, seen)
        if seen is None and reason is None:
            reason = "not run"
        key = seen.key if seen is not None else None
        verdicts.append(Verdict(i, reason, key))
        if reason is None and key is not None:
            groups.setdefault(key, []).append(i)
            if seen.quiet:
                quiet.add(key)
    survivors = sum(len(g) for g in groups.values())
    if not groups:
        within = [i for i, seen in enumerate(observations) if seen is not None and not seen.limit]
        index = max(within, key=lambda i: (candidates[i].mean_logprob, -i)) if within else 0
        return Choice(index=index, checked=True, votes=0, survivors=0, verdicts=verdicts)
    pool = {k: g for k, g in groups.items() if k not in quiet} if quiet_last else groups
    pool = pool or groups
    first = next((i for i, c in enumerate(candidates) if c.greedy), None) if greedy_first else None
    if first is not None and verdicts[first].dropped is None and verdicts[first].key in pool:
        return Choice(index=first, checked=True, votes=len(pool[verdicts[first].key]), survivors=survivors,
                      verdicts=verdicts)

    def best(members: list[int]) -> int:
        return max(members, key=lambda i: (candidates[i].mean_logprob, -i))

    winner = max(pool, key=lambda k: (len(pool[k]), candidates[best(pool[k])].mean_logprob, -best(pool[k])))
    return Choice(index=best(pool[winner]), checked=True, votes=len(pool[winner]), survivors=survivors,
                  verdicts=verdicts)
