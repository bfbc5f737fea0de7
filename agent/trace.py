"""The run log: one JSON line per agent run in ``logs/trace.jsonl``.

Appends are atomic with respect to other Fenrir processes: the whole record
is one ``os.write`` on an ``O_APPEND`` descriptor, under an exclusive
``fcntl.flock``, so concurrent runs never interleave lines.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from agent.plan import Plan
from harness.paths import trace_path


class LineVerdict(BaseModel):
    """The safety verdict of one command the model wrote."""

    model_config = ConfigDict(extra="forbid")

    command: str
    """The command as the model wrote it."""
    level: str
    """safe, network, destructive or catastrophic."""
    action: str
    """kept, guarded (made no-clobber), rewritten (a preview) or blocked."""
    reason: str
    """Why."""


class DecodingRecord(BaseModel):
    """How the completion was decoded."""

    model_config = ConfigDict(extra="forbid")

    do_sample: bool
    """False: greedy decoding only; True: candidates after the first were sampled."""
    max_new_tokens: int
    """Generation budget per request."""
    fewshot_k: int
    """Number of in-context examples requested."""
    candidates: int = 1
    """Plans generated (the greedy one first, then samples)."""
    temperature: float | None = None
    """Sampling temperature of the candidates after the first (None: greedy only)."""
    top_p: float | None = None
    """Nucleus mass of the samples (None: greedy only)."""
    seed: int | None = None
    """Seed of the sampling generator (None: greedy only)."""


class ContextRecord(BaseModel):
    """The directory listing the agent was given (never its text: only what identifies it)."""

    model_config = ConfigDict(extra="forbid")

    directory: str
    """The directory listed (the user's cwd, or the eval fixture's root in the sandbox)."""
    sha256: str
    """sha256 of the listing text as it went into the prompt."""
    chars: int
    """Its size in characters."""
    tokens: int
    """Its size in tokens of the model's tokenizer."""
    entries: int
    """Entries shown."""
    truncated: bool
    """Whether entries were left out (the bounds in agent.context.Bounds)."""


class CandidateRecord(BaseModel):
    """One candidate plan of a checked answer."""

    model_config = ConfigDict(extra="forbid")

    plan_text: str
    """The candidate plan as it would be printed."""
    mean_logprob: float
    """Mean log-probability per token under the model."""
    dropped: str | None
    """Why it was dropped (does not parse, exit status, error, limit), or null if it ran cleanly."""
    result: str | None
    """Key of its observed result (stdout + changes); equal keys agreed."""


class CheckRecord(BaseModel):
    """How the plan was checked in the sandbox."""

    model_config = ConfigDict(extra="forbid")

    checked: bool
    """False when nothing could be run (no engine, no image, directory too large): the greedy plan."""
    where: str
    """What the candidates ran against, or why they could not run."""
    chosen: int
    """Index of the returned candidate (0 is the greedy one)."""
    votes: int
    """Candidates whose result equals the chosen one's."""
    survivors: int
    """Candidates that ran cleanly."""
    candidates: list[CandidateRecord]
    """Every candidate, in generation order."""
    seconds: float
    """Wall time of running the candidates."""
    rounds: int = 1
    """Rounds of candidates: 2 when none of the first round ran cleanly and as many more were drawn
    (``candidates`` holds both rounds, in order)."""


class TraceRecord(BaseModel):
    """Everything needed to reproduce and audit one agent run."""

    model_config = ConfigDict(extra="forbid")

    timestamp: str
    """UTC time of the run, ISO 8601."""
    request: str
    """The user's request."""
    raw_output: str
    """The model's completion, unedited."""
    plan: Plan
    """The parsed, safety-checked plan."""
    plan_text: str
    """The plan as printed."""
    verdicts: list[LineVerdict]
    """One verdict per command line the model wrote."""
    base_model: str
    """Base model id (``HuggingFaceTB/SmolLM2-135M-Instruct`` for the embedded one)."""
    base_revision: str
    """GGUF sha256, hub commit, or folder digest of the base model."""
    adapter_sha256: str | None
    """sha256 of the LoRA adapter folder, or null."""
    quantized: bool
    """Whether the base ran in 4-bit."""
    fewshot_ids: list[str]
    """Ids (``file:line``) of the in-context examples, most similar first."""
    decoding: DecodingRecord
    """Decoding settings."""
    latency_s: float
    """Wall time of prompting + generation + parsing, seconds (model loading excluded)."""
    prompt_tokens: int
    """Tokens in the rendered prompt."""
    cached_prompt_tokens: int = 0
    """Of those, the leading tokens whose keys and values were loaded from the prompt cache
    (:mod:`agent.fast.promptcache`) instead of computed; 0 in traces written before it existed."""
    completion_tokens: int
    """Tokens generated (including the end-of-turn token when produced)."""
    context: ContextRecord | None = None
    """The directory listing in the prompt, or null when the agent ran without one."""
    check: CheckRecord | None = None
    """The sandbox check of the candidates, or null when the plan was not checked."""


def append_trace(record: TraceRecord, path: Path | None = None) -> Path:
    """Append ``record`` as one line; create the folder as needed."""
    path = Path(path or trace_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (record.model_dump_json() + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            written = os.write(fd, data)
            while written < len(data):  # only on a full disk or a signal; keep the line whole
                written += os.write(fd, data[written:])
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return path
