"""The results tables, the report and the scores chart for one eval run.

``write_reports(results, meta)`` renders, from ``results/templates/``::

    results/eval_static.md     one table per suite (eval_<suite>.md for other suites)
    results/eval_dynamic.md
    results/report.md          the prototype report's structure, filled with this run's numbers
    results/scores.png         Plan / Safe / Answer per case

The tables stay readable by the prototype's ``mean.py``: its regex
(:data:`SCORE_RE`) must match every scored row, so the three score cells hold
only numbers, and a row awaiting review shows ``–`` as its Answer so that the
regex skips it.  Two consequences of that regex shape the cells:

* its first cell is ``[^|]+``, so a ``|`` in a prompt, even escaped as ``\\|``,
  would hide the row from it: prompts carry ``|`` as the entity ``&#124;``,
  which renders as ``|``;
* it drops rows whose first cell starts with "mean", so the mean row's first
  cell is the plain word ``Mean`` (``**Mean**`` would be averaged as a case),
  and a prompt that starts with "mean" has its first letter written as an entity.

Pure: no Docker, no model; the saved results of a run are all it needs.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import jinja2
from pydantic import BaseModel, ConfigDict, ValidationError

from harness.errors import DataError, SuiteError
from harness.runner import RESULTS, RunMeta
from rubrics.means import Means, counted
from rubrics.result import CaseResult
from rubrics.score import commands_of
from rubrics.suite import BUILTIN, load_suite

TEMPLATES = Path(__file__).resolve().parent.parent / "results" / "templates"
"""The templates live in the repository, wherever $FENRIR_RESULTS puts the output."""
DIMENSIONS = ("plan", "safe", "answer")
PROTOTYPE = {"plan": 0.71, "safe": 1.43, "answer": 0.57}
"""The prototype's hand-filled means over its seven dynamic prompts."""
SCORE_RE = re.compile(r"\|\s*([^|]+)\s*\|\s*([0-2.]+)\s*\|\s*([0-2.]+)\s*\|\s*([0-2.]+)\s*\|")
"""The prototype mean.py's row pattern, verbatim."""
AWAITING = "–"
SHORT_COMMAND = 40
"""A plan's first command is shown in Notes only up to this many characters."""


class Training(BaseModel):
    """What the report says about the adapter a run's plans came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_model: str | None = None
    """Base model id or folder."""
    adapter: str | None = None
    """Adapter folder."""
    adapter_size: str | None = None
    """Adapter size on disk, as text (e.g. '75 MB')."""
    dataset: str | None = None
    """Training data file."""
    dataset_rows: int | None = None
    """Rows in it."""
    lora_rank: int | None = None
    """LoRA rank."""
    optimizer: str | None = None
    """Optimizer name and settings."""
    lr: float | None = None
    """Learning rate."""
    lr_schedule: str | None = None
    """Schedule name (constant, cosine, ...)."""
    batch_size: int | None = None
    """Examples per step."""
    grad_accum: int | None = None
    """Gradient accumulation steps."""
    steps: int | None = None
    """Optimizer updates."""
    epochs: float | None = None
    """Passes over the data."""
    loss_start: float | None = None
    """Training loss at the first step."""
    loss_end: float | None = None
    """Training loss at the last step."""
    duration_s: float | None = None
    """Wall time of the training run."""
    device: str | None = None
    """What it ran on."""
    dtype: str | None = None
    """Compute dtype of the base weights during training (LoRA weights are float32)."""
    loss_chart: str | None = None
    """File name of the loss-curve PNG beside report.md."""
    quality: dict | None = None
    """bench/quality.py's results/quality.json: suite means per configuration, held-out accuracy."""


def _training_error(where: str, exc: ValidationError) -> DataError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(summary)"
    return DataError(f"{where}: {field}: {err['msg']} (known fields: {', '.join(Training.model_fields)})")


def training_from(value: Training | dict | None) -> Training | None:
    if value is None or isinstance(value, Training):
        return value
    try:
        return Training.model_validate(value)
    except ValidationError as exc:
        raise _training_error("training summary", exc) from None


def load_training(path: Path) -> Training:
    """A training summary from a JSON file."""
    try:
        return Training.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"training summary {path} does not exist") from None
    except ValidationError as exc:
        raise _training_error(f"training summary {path}", exc) from None


# --- cells ---------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def md_cell(text: str) -> str:
    """Text safe inside a markdown table cell, and invisible to mean.py's parser tricks."""
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(text.split())).replace("|", "&#124;")
    if text.lower().startswith("mean"):
        text = f"&#{ord(text[0])};{text[1:]}"
    return text


def utc(value: datetime | str) -> str:
    """A datetime (or ISO 8601 text) as '2026-11-24 23:40 UTC'; naive values are taken as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _score(value: int | None) -> str:
    return AWAITING if value is None else str(value)


def _mean(value: float | None) -> str:
    return AWAITING if value is None else f"{value:.2f}"


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
            notes.append(md_cell(f"{o.dimension} overridden by {o.reviewer}: {o.reason} (automatic {_score(auto)})"))
    if r.scores.answer is None:
        notes.append("awaiting review")
    return "; ".join(notes)


# --- tables --------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One table row, every cell rendered."""

    prompt: str
    plan: str
    safe: str
    answer: str
    notes: str


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
        return [f"`{r.case_id}` {md_cell(r.prompt)}: Plan {_score(r.scores.plan)}, Safe {_score(r.scores.safe)}, "
                f"Answer {_score(r.scores.answer)}" for r in self.left_out]

    @property
    def means(self) -> Means:
        return Means.of(self.counted, include_uninformative=True)

    @property
    def rows(self) -> list[Row]:
        return [Row(md_cell(r.prompt), _score(r.scores.plan), _score(r.scores.safe), _score(r.scores.answer),
                    _notes(r)) for r in self.counted]

    @property
    def mean_row(self) -> Row:
        m = self.means
        note = f"{m.cases} case(s)"
        if self.left_out:
            note += f" ({len(self.left_out)} uninformative left out)"
        if m.answered < m.cases:
            note += f"; Answer over the {m.answered} scored ({m.cases - m.answered} awaiting review)"
        return Row("Mean", _mean(m.plan), _mean(m.safe), _mean(m.answer), note)

    @property
    def width(self) -> int:
        return max([len("Prompt"), len("Mean")] + [len(row.prompt) for row in self.rows])


TITLES = {"static": "Static prompts", "dynamic": "Dynamic prompts"}


def _suite_definition(name: str, meta: RunMeta) -> tuple[list[str], str]:
    """Case ids in suite order and the description, from the suite file the run used."""
    paths = [BUILTIN[name]] if name in BUILTIN else []
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


# --- findings --------------------------------------------------------------------
def _why(r: CaseResult, dimension: str) -> str:
    for applied in r.overrides:
        if not applied.stale and applied.override.dimension == dimension:
            return f"override by {applied.override.reviewer}: {applied.override.reason}"
    return " ".join(r.judgement.reasons.get(dimension, "no reason recorded").split())


def _listing(cases: list[CaseResult], dimension: str, limit: int = 8) -> str:
    """'reason: `a`, `b`; other reason: `c`', cases grouped by why they scored as they did."""
    groups: dict[str, list[str]] = {}
    for r in cases:
        groups.setdefault(_why(r, dimension), []).append(f"`{r.case_id}`")
    parts = []
    for why, ids in groups.items():
        more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
        parts.append(f"{why}: {', '.join(ids[:limit])}{more}")
    return "; ".join(parts)


def findings(suite_tables: list[Table]) -> list[str]:
    """Markdown bullet texts computed from the scores."""
    results = [r for t in suite_tables for r in t.counted]
    left_out = [r for t in suite_tables for r in t.left_out]
    if not results:
        return ["No scored cases in this run."]
    overall = Means.of(results, include_uninformative=True)
    out = [f"Over all {overall.cases} case(s): Plan {_mean(overall.plan)}, Safe {_mean(overall.safe)}, "
           f"Answer {_mean(overall.answer)} (of 2)."]
    scored = {d: overall.get(d) for d in DIMENSIONS if overall.get(d) is not None}
    low = min(scored.values())
    if low == 2:
        out.append("No weak dimension: every case scores 2 on Plan, Safe and Answer.")
    else:
        weakest = [d.title() for d, v in scored.items() if v == low]
        label = " and ".join(f"**{w}**" for w in weakest)
        out.append(f"Weakest dimension: {label} ({low:.2f} of 2)" + (", a tie." if len(weakest) > 1 else "."))
    perfect = [r for r in results if (r.scores.plan, r.scores.safe, r.scores.answer) == (2, 2, 2)]
    out.append(f"{len(perfect)} of {len(results)} case(s) score 2 / 2 / 2.")
    if left_out:
        shown = ", ".join(f"`{r.case_id}`" for r in left_out[:12]) + (" ..." if len(left_out) > 12 else "")
        out.append(f"{len(left_out)} uninformative case(s) left out of every mean (the reference prints nothing "
                   f"and changes nothing, so any silent plan matches it): {shown}.")
    for dimension in ("answer", "safe", "plan"):
        zero = [r for r in results if getattr(r.scores, dimension) == 0]
        if zero:
            out.append(f"{dimension.title()} 0 on {len(zero)} case(s): {_listing(zero, dimension)}.")
    awaiting = [r for r in results if r.scores.answer is None]
    if awaiting:
        out.append(f"{len(awaiting)} case(s) await a human Answer score: "
                   + ", ".join(f"`{r.case_id}`" for r in awaiting) + ".")
    applied = [(r, a) for r in results for a in r.overrides if not a.stale]
    stale = [(r, a) for r in results for a in r.overrides if a.stale]
    if applied or stale:
        text = f"{len(applied)} human override(s) applied"
        if applied:
            text += " (" + ", ".join(f"`{r.case_id}` {a.override.dimension} "
                                     f"{_score(getattr(r.automatic, a.override.dimension))} → {a.override.score}"
                                     for r, a in applied) + ")"
        text += f"; {len(stale)} stale (the plan changed since review, not applied)." if stale else "."
        out.append(text)
    else:
        out.append("No human overrides: every score is the autograder's.")
    dynamic = next((t for t in suite_tables if t.suite == "dynamic"), None)
    basis, m = ("the prototype's seven dynamic prompts", dynamic.means) if dynamic else ("all cases", overall)
    deltas = []
    for d in DIMENSIONS:
        value = m.get(d)
        deltas.append(f"{d.title()} {_mean(value)} vs {PROTOTYPE[d]:.2f}"
                      + (f" ({value - PROTOTYPE[d]:+.2f})" if value is not None else ""))
    out.append(f"Against the prototype's hand-filled scores, on {basis}: {', '.join(deltas)}. "
               f"These scores come from sandboxed execution against reference plans, not by hand.")
    return out


# --- chart -------------------------------------------------------------------------
def write_chart(suite_tables: list[Table], path: Path) -> Path:
    """Grouped Plan / Safe / Answer bars per case, suites side by side (matplotlib, Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cases = [r for t in suite_tables for r in t.counted]
    fig = Figure(figsize=(min(max(6.0, 0.5 * len(cases) + 2), 40.0), 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.27
    for k, dimension in enumerate(DIMENSIONS):
        points = [(i, getattr(r.scores, dimension)) for i, r in enumerate(cases)]
        ax.bar([i + (k - 1) * width for i, v in points if v is not None],
               [v for _, v in points if v is not None], width, label=dimension.title())
        for i, v in points:
            if v is None:
                ax.text(i + (k - 1) * width, 0.05, "?", ha="center", fontsize=8)
    start = 0
    for t in suite_tables:
        ax.text(start - 0.4, 2.2, t.suite, fontsize=9, fontweight="bold")
        if start:
            ax.axvline(start - 0.5, color="grey", linewidth=0.8, linestyle="--")
        start += len(t.counted)
    ax.set_xticks(range(len(cases)), [r.case_id for r in cases], rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.6, max(len(cases), 1) - 0.4)
    ax.set_ylim(0, 2.4)
    ax.set_yticks([0, 1, 2])
    ax.set_ylabel("score (0 = poor, 2 = perfect)")
    ax.legend(ncols=3, loc="upper right", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    return path


# --- rendering ------------------------------------------------------------------------
def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.filters["utc"] = utc
    env.filters["ljust"] = lambda text, width: str(text).ljust(width)
    return env


def write_reports(results: list[CaseResult], meta: RunMeta, out_dir: Path = RESULTS,
                  training: Training | dict | None = None, *, now: datetime | None = None,
                  templates: Path = TEMPLATES, include_uninformative: bool = False) -> list[Path]:
    """Render every suite table, report.md and scores.png into ``out_dir``; return the paths written.

    With no results nothing is written (and nothing is returned).

    eval_static.md and eval_dynamic.md are always written (saying so when the run has no such
    cases), so the folder never mixes tables from different runs.
    """
    if not results:
        return []  # nothing scored: leave the tables of the last run that had cases
    summary = training_from(training)
    suite_tables = tables(results, meta, include_uninformative)
    env = environment(templates)
    out_dir.mkdir(parents=True, exist_ok=True)
    context = {"meta": meta, "training": summary, "now": now or datetime.now(timezone.utc)}
    written = []
    present = {t.suite for t in suite_tables}
    empty = [Table(name, TITLES[name], "", []) for name in ("static", "dynamic") if name not in present]
    for table in suite_tables + empty:
        path = out_dir / table.filename
        path.write_text(env.get_template("eval_suite.md.j2").render(table=table, **context), encoding="utf-8")
        written.append(path)
    charted = [t for t in suite_tables if t.suite in TITLES] or suite_tables
    chart = write_chart(charted, out_dir / "scores.png")
    report = out_dir / "report.md"
    report.write_text(env.get_template("report.md.j2").render(
        tables=suite_tables, missing=[t.suite for t in empty], findings=findings(suite_tables),
        chart=chart.name, charted=[t.suite for t in charted], **context), encoding="utf-8")
    written += [report, chart]
    return written


# --- mean.py -----------------------------------------------------------------------------
def parse_scores(path: Path) -> list[tuple[float, float, float]]:
    """The scored rows of one table, exactly as the prototype's mean.py reads them."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = SCORE_RE.match(line)
        if m and not m.group(1).lower().startswith("mean"):
            try:
                rows.append(tuple(float(x) for x in m.groups()[1:]))
            except ValueError:
                raise SuiteError(f"{path}, line {n}: score cells are not numbers: {line.strip()!r}") from None
    return rows


MEAN_HEADERS = ("File", "Plan", "Safe", "Answer", "#rows")
"""The columns of the mean table (`fenrir mean`, the prototype's mean.py)."""


def mean_table(named: list[tuple[str, Path]]) -> tuple[list[list], list[str]]:
    """The mean table over labelled tables: one row per existing file (Plan, Safe, Answer means and rows),
    plus an ``all`` row when there are several; and the labels of the files that do not exist."""
    table: list[list] = []
    every: list[tuple[float, float, float]] = []
    missing = []
    for label, path in named:
        if not path.is_file():
            missing.append(label)
            continue
        rows = parse_scores(path)
        every += rows
        table.append([label, *_column_means(rows), len(rows)])
    if len(table) > 1:
        table.append(["all", *_column_means(every), len(every)])
    return table, missing


def _column_means(rows: list[tuple[float, float, float]]) -> list[float | None]:
    return [statistics.mean(col) for col in zip(*rows)] if rows else [None, None, None]
