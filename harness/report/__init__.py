"""The results tables, the report and its charts for one eval run.

One job per module, from the bottom up:

* :mod:`~harness.report.markdown`: markdown-safe cells, score cells, UTC times;
* :mod:`~harness.report.tables`: one :class:`Table` per suite, its rows and means (:mod:`rubrics.means`);
* :mod:`~harness.report.prototype`: the prototype's hand-filled scores (``results/templates/prototype.yaml``);
* :mod:`~harness.report.findings`: report.md's Key Findings;
* :mod:`~harness.report.charts`: scores.png and loss.png as bytes;
* :mod:`~harness.report.training`: the training section (the shipped adapter's manifest);
* :mod:`~harness.report.meanpy`: the prototype's mean.py (``fenrir mean``);
* :mod:`~harness.report.render`: a run's report inputs, rendered in memory, then written.

Pure: no Docker, no model; the saved results of a run are all it needs.
"""

from harness.report.meanpy import MEAN_HEADERS, mean_table, parse_scores
from harness.report.render import (Rendered, RunInputs, environment, render_reports, render_run, run_inputs,
                                   write_reports)
from harness.report.tables import Table, tables
from harness.report.training import Training, for_run, load_training

__all__ = ["MEAN_HEADERS", "Rendered", "RunInputs", "Table", "Training", "environment", "for_run", "load_training",
           "mean_table", "parse_scores", "render_reports", "render_run", "run_inputs", "tables", "write_reports"]
