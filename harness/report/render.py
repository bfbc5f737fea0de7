"""Rendering a run's reports in memory, then writing them: the one way every command renders them.

``render_run(store)`` builds the report's inputs from a saved run
(:func:`run_inputs`: its metadata, its results with the current overrides, the
training section when its plans came from the shipped adapter) and renders,
from ``results/templates/``::

    eval_static.md     one table per suite (eval_<suite>.md for other suites)
    eval_dynamic.md
    report.md          the prototype report's structure, filled with this run's numbers
    scores.png         Plan / Safe / Answer per case
    loss.png           the adapter's loss curve, when the training section has one

Nothing is written until :meth:`Rendered.write`, so a failure while rendering
leaves the reports of the last run as they were.  ``make eval``, ``fenrir
report``, ``fenrir regrade``, ``fenrir override`` and the web UI all render
through here, so the same run gives the same report whichever made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import jinja2

from harness.atomic import write_bytes
from harness.paths import overrides_path, results_dir, templates_dir
from harness.report.charts import loss_png, scores_png
from harness.report.findings import findings
from harness.report.markdown import utc
from harness.report.prototype import load_prototype
from harness.report.tables import TITLES, Table, tables
from harness.report.training import Training, for_run, training_from
from harness.runner import RunMeta, RunStore
from rubrics.overrides import load_overrides
from rubrics.result import CaseResult


@dataclass(frozen=True)
class Rendered:
    """A run's reports, rendered: file name -> content, written only by :meth:`write`."""

    out_dir: Path
    """The folder they go to."""
    files: dict[str, bytes] = field(default_factory=dict)
    """File name -> bytes, in the order they are written."""

    def write(self) -> list[Path]:
        """Write every file atomically into ``out_dir``; return the paths written."""
        return [write_bytes(self.out_dir / name, data) for name, data in self.files.items()]


@dataclass(frozen=True)
class RunInputs:
    """What a run's reports are rendered from."""

    meta: RunMeta
    """The run's metadata (run.json)."""
    results: list[CaseResult]
    """Its scored cases, with the overrides they are shown with."""
    training: Training | None
    """The training section (None: the plans did not come from the shipped adapter)."""


def environment(templates: Path | None = None) -> jinja2.Environment:
    """The jinja2 environment of the report templates (strict: an undefined name is an error)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates or templates_dir()),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    env.filters["utc"] = utc
    env.filters["ljust"] = lambda text, width: str(text).ljust(width)
    return env


def render_reports(results: list[CaseResult], meta: RunMeta, out_dir: Path | None = None,
                   training: Training | dict | None = None, *, now: datetime | None = None,
                   templates: Path | None = None, include_uninformative: bool = False) -> Rendered:
    """Every suite table, report.md, scores.png (and loss.png), in memory; nothing when there are no results.

    eval_static.md and eval_dynamic.md are always rendered (saying so when the run has no such
    cases), so the folder never mixes tables from different runs.
    """
    out_dir = out_dir or results_dir()
    if not results:
        return Rendered(out_dir)  # nothing scored: leave the tables of the last run that had cases
    summary = training_from(training)
    prototype = load_prototype()
    suite_tables = tables(results, meta, include_uninformative)
    env = environment(templates)
    context = {"meta": meta, "training": summary, "now": now or datetime.now(timezone.utc)}
    files: dict[str, bytes] = {}
    present = {t.suite for t in suite_tables}
    empty = [Table(name, TITLES[name], "", []) for name in ("static", "dynamic") if name not in present]
    for table in suite_tables + empty:
        files[table.filename] = env.get_template("eval_suite.md.j2").render(table=table, **context).encode()
    charted = [t for t in suite_tables if t.suite in TITLES] or suite_tables
    chart = "scores.png"
    files["report.md"] = env.get_template("report.md.j2").render(
        tables=suite_tables, missing=[t.suite for t in empty], findings=findings(suite_tables, prototype),
        chart=chart, charted=[t.suite for t in charted], **context).encode()
    files[chart] = scores_png(charted)
    if summary is not None and summary.loss_chart and summary.loss_curve:
        files[summary.loss_chart] = loss_png(summary.loss_curve)
    return Rendered(out_dir, files)


def write_reports(results: list[CaseResult], meta: RunMeta, out_dir: Path | None = None,
                  training: Training | dict | None = None, *, now: datetime | None = None,
                  templates: Path | None = None, include_uninformative: bool = False) -> list[Path]:
    """Render the reports (:func:`render_reports`) and write them into ``out_dir``; return the paths written."""
    return render_reports(results, meta, out_dir, training, now=now, templates=templates,
                          include_uninformative=include_uninformative).write()


def run_inputs(store: RunStore, *, results: list[CaseResult] | None = None, overrides: Path | None = None,
               training: Training | None = None) -> RunInputs:
    """A saved run's report inputs.

    ``results`` default to the run's saved ones with the overrides file (``overrides``, default
    rubrics/overrides.yaml) as it is now; ``training`` to the shipped adapter's section when
    the run's plans came from it.
    """
    meta = store.meta()
    if results is None:
        current = load_overrides(overrides or overrides_path())
        results = [r.with_overrides(current) for r in store.results()]
    return RunInputs(meta=meta, results=results, training=training if training is not None else for_run(meta))


def render_run(store: RunStore, out_dir: Path | None = None, *, results: list[CaseResult] | None = None,
               overrides: Path | None = None, training: Training | None = None, now: datetime | None = None,
               include_uninformative: bool = False) -> Rendered:
    """A saved run's reports (:func:`run_inputs`), rendered for ``out_dir`` (default: the results folder)."""
    inputs = run_inputs(store, results=results, overrides=overrides, training=training)
    return render_reports(inputs.results, inputs.meta, out_dir, inputs.training, now=now,
                          include_uninformative=include_uninformative)
