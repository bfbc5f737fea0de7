"""Checked answers: run several candidate plans and keep the one whose result most of them agree on.

The agent samples a few plans for one request (the greedy one plus samples,
:func:`agent.generate.generate_candidates`).  Something that can run them
without touching the user's files (the sandbox, supplied by the harness as a
:class:`Runner`; the agent never imports it) runs each distinct script on a
copy of the directory and reports an :class:`Observation`.  Then:

1. candidates that have nothing to run, have a line that does not parse or was
   blocked, exit non-zero, print an error on stderr, or hit a limit are
   dropped (:func:`failure`; a ``find`` that listed what it could and only
   complains of directories it may not enter is not dropped,
   :func:`walked_past_denied`: on data/holdout_external.jsonl that takes the
   checked agent from 90 to 91 of 245 informative rows);
2. the survivors are grouped by what they did: stdout and the file-system
   changes (:attr:`Observation.key`);
3. the greedy candidate (the model's first choice) is returned when it
   survived, unless (a) more than half of *all* the candidates agree on one
   other result, or (b) a surviving candidate is likelier under the model
   than the greedy one by more than :data:`LIKELIER_BY` (mean log-probability
   per token: greedy decoding takes each token's likeliest continuation, which
   is not always the likeliest whole plan); then that one is;
4. otherwise the group with the most candidates wins (identical samples count
   as separate votes: the model chose that plan more often); ties go to the
   group holding the candidate with the highest mean log-probability, and
   within the winning group that candidate is returned.

Why this order, measured with ``python bench/candidates.py`` (the shipped
adapter's 4 candidates at T=1.0 recorded once per row, then scored by the
eval's rubric; our own held-out rows, never an eval suite).  On the 296 rows
of data/holdout.jsonl the greedy plan alone is right on 191; a plain vote is
worse than that: samples at T=1.0 repeat one plausible wrong plan (``head``
for "the last lines") often enough to outvote a right greedy plan when the
greedy plan is one of two; "greedy when it ran cleanly, else the vote" gets
201.  But when three of four candidates agree against the greedy plan
(``df -h`` for "free space left" against a greedy ``du -sh``, ``cut -d,
-f4`` for "column 4"), they are the better bet, and a sample the model finds
clearly likelier than its greedy plan (``sort`` against a greedy ``sort
-r``) too: rules (a) and (b) make it 209.  On the 245 informative rows of
data/holdout_external.jsonl (NL2Bash and tldr-pages wordings) they change
no row's score (90 either way).  Rule (a) alone gave 207 / 90, (b) alone
with no margin 207 / 89; a margin of 0.02-0.2 gave the same choices as 0.05
within one row.

Plans that neither print nor change anything (the greedy one included) are
only chosen when no candidate did something observable (``quiet_last``): a plan that does nothing
agrees with every other plan that does nothing.  So are edit previews that
print their file unchanged (:func:`edit_preview_input`: ``sed
's/0.0.0.0/127.0.0.1/g' config.ini`` for "substitute 0.0.0.0 for every
127.0.0.1" on a file without 0.0.0.0), which also did nothing: on the same
recorded candidates that takes data/holdout.jsonl from 209 to 211 (two
substitutions written the wrong way round lose to the right one) and leaves
data/holdout_external.jsonl at 91.  When no candidate ran
cleanly, the most likely one that ran out of nothing but time or failed is
returned, and the plan's note says none ran cleanly: a plan that ran out of
the check's seconds is slow, not shown wrong (building a virtualenv and
installing into it takes about that long), while one that filled the
output, memory or file-size limit ran away.  (Ranking a timeout below an
error message instead lost one held-out row, a virtualenv plan beaten by a
``venv`` usage error, and changed nothing on data/holdout_external.jsonl.)

Nothing here looks at a reference answer.  Shell text is read with :mod:`agent.shell`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from agent.plan import Plan
from agent.shell import Unparseable, parse

CHATTY = frozenset({"git", "pip", "pip3", "python", "python3"})
"""Programs that report progress on stderr ("Switched to a new branch ..."): stderr alone is
not an error for a plan that calls one of them; its exit status still is."""


COMPARERS = frozenset({"diff", "cmp", "sdiff", "diff3", "zdiff", "bzdiff", "xzdiff"})
"""Programs that exit 1 to say "the inputs differ": a plan that ends with one, exits 1 and writes nothing
on stderr ran cleanly (``diff -r dir1 dir2`` answering "how do they differ" with the differences)."""


LIKELIER_BY = 0.05
"""How much higher (mean log-probability per token) a surviving sample must score than the greedy plan to
replace it: greedy decoding takes each token's likeliest continuation, which is not always the likeliest
whole plan, but near-ties stay with the greedy one.  Chosen on data/holdout*.jsonl (see the module docstring)."""

DENIED = re.compile(r"^find: .*: Permission denied$")
"""What ``find`` prints for a directory the sandbox's unprivileged user cannot enter (``/etc/ssl/private``,
``/root``): the walk still lists everything else, exactly as it would for the user in their own shell."""


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
    unchanged: bool = False
    """An edit preview (:func:`edit_preview_input`) that printed its input file as it was and changed nothing:
    the edit matched nothing.  Set by the runner's caller, which reads the file in the same sandbox."""

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

    @property
    def slow(self) -> bool:
        """Ran out of the check's time and nothing else: slow, not shown wrong (a virtualenv and a pip install
        take about that long); unlike a plan that filled the output, memory or file-size limit."""
        return self.limit == "timeout"

    @property
    def inert(self) -> bool:
        """Did nothing observable: printed and changed nothing, or previewed an edit that changes nothing."""
        return self.quiet or self.unchanged


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


SED_EDIT = re.compile(r"""
    \s*(?:(?:\d+|\$)(?:,(?:\d+|\$))?|/(?:[^/\\]|\\.)*/)?\s*     # an optional address: N, N,M, $, /re/
    (?:s(?P<d>[^\\\n\s])(?:(?!(?P=d))[^\\]|\\.)*(?P=d)(?:(?!(?P=d))[^\\]|\\.)*(?P=d)[gIi0-9]*  # s/re/text/flags
      |d)                                                              # or delete
    \s*""", re.X)
"""One command of a sed script that edits lines: a substitution, or a deletion of addressed lines."""
SED_OPTIONS = frozenset({"-E", "-r", "--regexp-extended", "--posix", "-s", "--separate", "-u", "--unbuffered"})
"""sed options that leave "print every line, edited" as it is (``-n``, ``-i`` and ``-z`` change it)."""


def edit_preview_input(plan: Plan) -> str | None:
    """The file a plan previews an edit of, or None.

    That is a plan of one ``sed`` command without ``-n`` or ``-i`` (the safety pass turns ``-i`` into
    this), whose script only substitutes (``s/re/text/``) or deletes addressed lines (``/re/d``, ``3d``),
    reading one file: it prints that file with the edit applied.  When it prints the file as it was, the
    edit matched nothing; a request to change something is not answered by changing nothing (``sed
    's/FAIL/ERROR/g'`` for "substitute FAIL for every ERROR" on a file with no FAIL)."""
    if len(plan.commands) != 1:
        return None
    try:
        parsed = parse(plan.commands[0].text)
    except Unparseable:
        return None
    top = parsed.top_level()
    if len(top) != 1 or top[0].type != "command":  # one simple command: no pipe, list or redirect
        return None
    command = next(parsed.commands(top[0]))
    if command.name != "sed" or any(w.expands for w in command.words):
        return None
    words = command.argv
    scripts, operands, rest = [], [], iter(words[1:])
    for word in rest:
        if word in ("-e", "--expression"):
            scripts.append(next(rest, ""))
        elif word.startswith("--expression="):
            scripts.append(word.split("=", 1)[1])
        elif word == "--":
            operands.extend(rest)
        elif word.startswith("-") and word != "-":
            if word not in SED_OPTIONS:
                return None
        elif not scripts and not operands:
            scripts.append(word)
        else:
            operands.append(word)
    if len(operands) != 1 or operands[0] == "-" or not scripts:
        return None
    commands = [c for script in scripts for c in re.split(r"[;\n]", script)]
    if not all(SED_EDIT.fullmatch(c) for c in commands):
        return None
    return operands[0]


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
    if walked_past_denied(candidate, seen):
        return None
    differ = seen.exit_code == 1 and not seen.stderr.strip() and last_program(candidate.plan) in COMPARERS
    if seen.exit_code != 0 and not differ:
        first = seen.stderr.strip().splitlines()[:1]
        return f"exit {seen.exit_code}" + (f": {first[0][:80]}" if first else "")
    if seen.stderr.strip() and not programs_of(candidate.plan) & CHATTY:
        return f"printed an error: {seen.stderr.strip().splitlines()[0][:80]}"
    return None


def walked_past_denied(candidate: Candidate, seen: Observation) -> bool:
    """True when a ``find`` printed what it found and its only complaints are directories it may not enter.

    ``find /etc -newer /etc/motd`` exits 1 in the sandbox because its user cannot read ``/etc/ssl/private``;
    its listing is still the answer.  The exit status must be 0 (``find / ... | wc -l``) or find's own 1
    (find ends the plan), and something must have been printed."""
    lines = [line for line in seen.stderr.splitlines() if line.strip()]
    if not lines or not seen.stdout.strip() or not all(DENIED.match(line) for line in lines):
        return False
    return seen.exit_code == 0 or (seen.exit_code == 1 and last_program(candidate.plan) == "find")


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
    ``quiet_last``, did something observable or nothing else did) unless most of all the candidates agree
    on another result or a surviving one is clearly likelier; else by majority of observed results.

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
            if seen.inert:
                quiet.add(key)
    survivors = sum(len(g) for g in groups.values())
    if not groups:
        # failed or only slow; not one that ran away (output, memory, file size) or was never run
        showable = [i for i, seen in enumerate(observations) if seen is not None and (not seen.limit or seen.slow)]
        index = max(showable, key=lambda i: (candidates[i].mean_logprob, -i)) if showable else 0
        return Choice(index=index, checked=True, votes=0, survivors=0, verdicts=verdicts)
    pool = {k: g for k, g in groups.items() if k not in quiet} if quiet_last else groups
    pool = pool or groups

    def best(members: list[int]) -> int:
        return max(members, key=lambda i: (candidates[i].mean_logprob, -i))

    def chosen(index: int) -> Choice:
        return Choice(index=index, checked=True, votes=len(groups[verdicts[index].key]), survivors=survivors,
                      verdicts=verdicts)

    winner = max(pool, key=lambda k: (len(pool[k]), candidates[best(pool[k])].mean_logprob, -best(pool[k])))
    first = next((i for i, c in enumerate(candidates) if c.greedy), None) if greedy_first else None
    if first is None or verdicts[first].dropped is not None or verdicts[first].key not in pool:
        return chosen(best(pool[winner]))  # the vote
    if winner != verdicts[first].key and 2 * len(pool[winner]) > len(candidates):
        return chosen(best(pool[winner]))  # most of all the candidates agree on another result
    likeliest = best([i for members in pool.values() for i in members])
    if candidates[likeliest].mean_logprob > candidates[first].mean_logprob + LIKELIER_BY:
        return chosen(likeliest)  # a whole plan the model finds likelier than its greedy one
    return chosen(first)
