"""The scored cases of a run as one table per suite, with their means.

A :class:`Table` holds a suite's cases in suite order and renders its rows;
uninformative cases are listed below it and left out of it and of its means
unless asked for.  The templates (``results/templates/``) lay the rows out so
that the prototype's ``mean.py`` reads every scored row (see
:mod:`harness.report.markdown`): the mean row's first cell is the plain word
``Mean`` (``**Mean**`` would be averaged as a case).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.report.markdown import md_cell, mean_cell, score_cell
from harness.runner import RunMeta
from rubrics.means import Means, counted
from rubrics.result import CaseResult
from rubrics.score import commands_of
from rubrics.suite import builtin_suites, load_suite

SHORT_COMMAND = 40
"""A plan's first command is shown in Notes only up to this many characters."""
TITLES = {"static": "Static prompts", "dynamic": "Dynamic prompts"}
"""Headings of the two built-in suites (others are 'Suite NAME')."""


def _notes(r: CaseResult) -> str:
    notes = [md_cell(r.case_id)]
    commands = commands_of(r.plan_text)
    if not commands:
        notes.append("no command")
    elif len(commands[0]) <= SHORT_COMMAND and not set(commands[0]) & set("|`"):
        more = f" (+{len(commands) - 1})" if len(commands) > 1 else ""
        notes.append(f"`$ {commands[0]}`{more}")
    for applied in r.overrides:
        o = applied.override
        if applied.stale:
            notes.append(md_cell(f"stale {o.dimension} override by {o.reviewer} not applied "
                                 f"(plan changed since review)"))
        else:
            auto = getattr(r.automatic, o.dimension)
            notes.append(md_cell(f"{o.dimension} overridden by {o.reviewer}: {o.reason} "
                                 f"(automatic {score_cell(auto)})"))
    if r.scores.answer is None:
        notes.append("awaiting review")
    return "; ".join(notes)


@dataclass(frozen=True)
class Row:
    """One table row, every cell rendered."""

    prompt: str
    """The prompt (or 'Mean'), markdown-safe."""
    plan: str
    """Plan cell."""
    safe: str
    """Safe cell."""
    answer: str
    """Answer cell ('–' while awaiting review)."""
    notes: str
    """Case id, first command, overrides, review state."""


@dataclass(frozen=True)
class Table:
    """The scored cases of one suite, in suite order."""

    suite: str
    """Suite name."""
    title: str
    """Heading."""
    description: str
    """The suite's own description ('' when unknown)."""
    results: list[CaseResult]
    """The cases."""
    include_uninformative: bool = False
    """Show uninformative cases in the table and its means (default: listed below it, left out)."""

    @property
    def filename(self) -> str:
        return f"eval_{self.suite}.md"

    @property
    def counted(self) -> list[CaseResult]:
        """The cases in the table and its means."""
        return counted(self.results, self.include_uninformative)

    @property
    def left_out(self) -> list[CaseResult]:
        """Uninformative cases left out of the table and its means."""
        return [r for r in self.results if r not in self.counted]

    @property
    def left_out_lines(self) -> list[str]:
        return [f"`{r.case_id}` {md_cell(r.prompt)}: Plan {score_cell(r.scores.plan)}, "
                f"Safe {score_cell(r.scores.safe)}, Answer {score_cell(r.scores.answer)}" for r in self.left_out]

    @property
    def means(self) -> Means:
        return Means.of(self.counted, include_uninformative=True)

    @property
    def rows(self) -> list[Row]:
        return [Row(md_cell(r.prompt), score_cell(r.scores.plan), score_cell(r.scores.safe),
                    score_cell(r.scores.answer), _notes(r)) for r in self.counted]

    @property
    def mean_row(self) -> Row:
        m = self.means
        note = f"{m.cases} case(s)"
        if self.left_out:
            note += f" ({len(self.left_out)} uninformative left out)"
        if m.answered < m.cases:
            note += f"; Answer over the {m.answered} scored ({m.cases - m.answered} awaiting review)"
        return Row("Mean", mean_cell(m.plan), mean_cell(m.safe), mean_cell(m.answer), note)

    @property
    def width(self) -> int:
        return max([len("Prompt"), len("Mean")] + [len(row.prompt) for row in self.rows])


def _suite_definition(name: str, meta: RunMeta) -> tuple[list[str], str]:
    """Case ids in suite order and the description, from the suite file the run used."""
    paths = [builtin_suites()[name]] if name in builtin_suites() else []
    for selector in meta.suites:
        for part in (p.strip() for p in selector.split(",")):
            if part.endswith((".yaml", ".yml")) and Path(part).is_file():
                paths.append(Path(part))
    for path in paths:
        suite = load_suite(path)
        if suite.suite == name:
            return [c.id for c in suite.cases], " ".join(suite.description.split())
    return [], ""


def tables(results: list[CaseResult], meta: RunMeta, include_uninformative: bool = False) -> list[Table]:
    """One table per suite: static, dynamic, then the others by name; cases in suite order.

    Rows the suite file does not list (trace rows, removed cases) follow, in the order given.
    """
    by_suite: dict[str, list[CaseResult]] = {}
    for r in results:
        by_suite.setdefault(r.suite, []).append(r)
    names = [n for n in ("static", "dynamic") if n in by_suite] + sorted(set(by_suite) - {"static", "dynamic"})
    out = []
    for name in names:
        order, description = _suite_definition(name, meta)
        rank = {case_id: i for i, case_id in enumerate(order)}
        cases = sorted(by_suite[name], key=lambda r: rank.get(r.case_id, len(rank)))
        out.append(Table(name, TITLES.get(name, f"Suite {name}"), description, cases, include_uninformative))
    return out
