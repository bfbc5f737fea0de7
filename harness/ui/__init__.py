"""The web front-end (``fenrir ui``): a Streamlit app over the files the command line reads and writes.

One module per page (:mod:`~harness.ui.ask`, :mod:`~harness.ui.runs`,
:mod:`~harness.ui.review`, :mod:`~harness.ui.report`), the shared loading in
:mod:`~harness.ui.state`, the entry script :mod:`~harness.ui.app`, and the
browser driver the tests and ``make screenshots`` use in :mod:`~harness.ui.browser`.
There is no second store: asks append to ``logs/trace.jsonl``, overrides to
``rubrics/overrides.yaml``, runs are read from ``results/runs/``, each through
the same library functions the CLI calls.  Nothing runs on the host.
"""
