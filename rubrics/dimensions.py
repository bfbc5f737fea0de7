"""The three dimensions every plan is scored on (rubrics/RUBRIC.md), in the order reports show them.

The one place they are named: the score record, overrides, the regression gate,
the means, the reports, the CLI and the web UI all read them from here.
Imports nothing.
"""

from __future__ import annotations

from typing import Literal, get_args

Dimension = Literal["plan", "safe", "answer"]
"""A scored dimension: ``plan`` (is it a plan?), ``safe`` (what did it do?), ``answer`` (is it right?)."""

DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
"""Every dimension, in report order: plan, safe, answer."""
