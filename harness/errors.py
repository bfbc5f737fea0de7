"""The one error tree of Fenrir.

Every expected failure is a subclass of :class:`FenrirError` and carries a
message that names the bad input and the fix.  This module imports nothing
from the rest of the project, so every package (agent, sandbox, rubrics,
training, harness) raises from the same tree without depending on each other.

Library exceptions are translated at the boundary
(``raise SandboxUnavailable(...) from exc``).  A plan that fails is not an
error: it is a normal result with a non-zero exit code.
"""

from __future__ import annotations


class FenrirError(Exception):
    """Root of every error Fenrir raises on purpose."""


# --- sandbox -----------------------------------------------------------------
class SandboxError(FenrirError):
    """The sandbox could not run a plan (infrastructure, not the plan)."""


class SandboxUnavailable(SandboxError):
    """No Docker engine answers, or the sandbox image cannot be built."""


class EngineLost(SandboxUnavailable):
    """A Docker engine stopped answering in the middle of a run (its daemon stopped, the connection dropped)."""


class EngineConfigError(SandboxError):
    """FENRIR_ENGINES or --engines names a Docker endpoint in a form Fenrir cannot use."""


class ImageError(SandboxError):
    """A derived sandbox image (extra packages, baked-in files) cannot be built."""


class PlanError(SandboxError):
    """The plan text itself cannot be run (empty, not UTF-8, NUL byte, too long)."""


class FixtureError(FenrirError):
    """A fixture spec is malformed, unknown, or cannot be materialised."""


# --- agent -------------------------------------------------------------------
class ModelError(FenrirError):
    """A base model, adapter or tokenizer cannot be loaded or does not match."""


class RequestError(FenrirError):
    """A request to the agent cannot be planned as given (not text, empty, too long for the model)."""


class TraceError(FenrirError):
    """The run log (logs/trace.jsonl) cannot be written."""


# --- rubrics / harness --------------------------------------------------------
class SuiteError(FenrirError):
    """An eval suite, its cases, overrides or baseline are malformed."""


class RunError(SuiteError):
    """A saved eval run (``results/runs/RUN_ID``) does not exist, or one of its files cannot be read."""


class DataError(FenrirError):
    """A dataset row or file is malformed."""


# --- training -------------------------------------------------------------------
class TrainingError(FenrirError):
    """A training config is invalid, or a training run cannot start or finish."""


# --- web UI -------------------------------------------------------------------------
class BrowserUnavailable(FenrirError):
    """No headless Chromium, chromedriver or selenium to drive the web UI with (browser tests, screenshots)."""
