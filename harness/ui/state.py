"""What every page of the web UI shares: where the files are, the saved runs, the model, error display.

Paths are read from the environment when a page renders (``fenrir ui`` sets
them from its options), so the app and its tests can point at temporary
copies: ``$FENRIR_RESULTS`` (runs, reports, baseline), ``$FENRIR_OVERRIDES``,
``$FENRIR_TRACE``; ``$FENRIR_UI_BASE_MODEL`` and ``$FENRIR_UI_ADAPTER`` choose
the model the Ask page loads (default: the embedded one and ``./lora_adapter``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from pydantic import ValidationError

from harness.asking import load
from harness.errors import FenrirError, SuiteError
from harness.paths import overrides_path, results_dir, trace_path
from harness.runner import RunMeta
from rubrics.baseline import changes, load_baseline
from rubrics.result import CaseResult
from rubrics.score import Scores


@dataclass(frozen=True)
class Paths:
    """The files the UI reads and writes: the CLI's own."""

    results: Path
    """Reports and the baseline (``results/``)."""
    overrides: Path
    """The human overrides file (``rubrics/overrides.yaml``)."""
    trace: Path
    """The agent's run log (``logs/trace.jsonl``)."""

    @property
    def runs(self) -> Path:
        """Saved eval runs (``results/runs/``)."""
        return self.results / "runs"

    @property
    def baseline(self) -> Path:
        """Per-case scores each plan source must hold (``results/baseline.json``)."""
        return self.results / "baseline.json"


def paths() -> Paths:
    """The paths as the environment says now."""
    return Paths(results=results_dir(), overrides=overrides_path(), trace=trace_path())


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Show a Fenrir error (no engine, no model, a bad file) as one message on the page, never a trace."""
    try:
        yield
    except FenrirError as exc:
        st.error(str(exc), icon="⚠️")


def run_metas(runs: Path) -> tuple[list[RunMeta], list[str]]:
    """Every saved run with a readable ``run.json``, newest first; and what is wrong with the others."""
    metas, problems = [], []
    for meta_path in runs.glob("*/run.json") if runs.is_dir() else []:
        try:
            metas.append(RunMeta.model_validate_json(meta_path.read_text(encoding="utf-8")))
        except (ValidationError, OSError, UnicodeDecodeError) as exc:
            problems.append(f"{meta_path} cannot be read ({str(exc).splitlines()[0][:160]}): the run is not listed")
    return sorted(metas, key=lambda m: (m.created, m.run_id), reverse=True), problems


def require_runs(where: Paths) -> list[RunMeta]:
    """The runs (a warning on the page for each unreadable one), or a SuiteError saying how to make one."""
    metas, problems = run_metas(where.runs)
    for problem in problems:
        st.warning(problem)
    if not metas:
        raise SuiteError(f"no runs under {where.runs}: score the suites first (make eval), "
                         "or point FENRIR_RESULTS at a results folder that has runs/")
    return metas


def pick(label: str, options: list[str], param: str, key: str, format_func=str) -> str:
    """A selectbox whose choice starts from (and is written back to) the query parameter ``param``."""
    wanted = st.query_params.get(param)
    index = options.index(wanted) if wanted in options else 0
    choice = st.selectbox(label, options, index=index, key=key, format_func=format_func)
    if choice is not None and st.query_params.get(param) != choice:
        st.query_params[param] = choice
    return choice


def pick_run(where: Paths, key: str, label: str = "Run") -> RunMeta:
    """The run chosen on this page (from the ``run`` query parameter, newest first by default)."""
    by_id = {m.run_id: m for m in require_runs(where)}
    return by_id[pick(label, list(by_id), "run", key, format_func=lambda rid: run_label(by_id[rid]))]


def run_label(meta: RunMeta) -> str:
    return f"{meta.run_id} · {meta.source} · {', '.join(meta.suites)}"


def baseline_scores(where: Paths, meta: RunMeta) -> dict[str, Scores]:
    """The baseline entries for this run's plan source (empty without a baseline)."""
    baseline = load_baseline(where.baseline)
    return dict(baseline.sources.get(meta.source, {})) if baseline else {}


def regressed(result: CaseResult, baseline: dict[str, Scores]) -> list[tuple[str, int, int]]:
    """(dimension, baseline, now) for every score below the baseline's."""
    held = baseline.get(result.case_id)
    return changes(held, result.scores)[0] if held is not None else []


def score_text(value: int | None) -> str:
    return "–" if value is None else str(value)


@st.cache_resource(show_spinner="Loading the model ...")
def model(base_model: str | None, adapter: str | None):
    """The model, loaded once per server process (as ``fenrir`` loads it)."""
    return load(base_model, adapter)


def loaded_model():
    """The model the environment names (a ModelError when it cannot be loaded)."""
    return model(os.environ.get("FENRIR_UI_BASE_MODEL") or None, os.environ.get("FENRIR_UI_ADAPTER") or None)
