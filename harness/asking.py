"""One request through the agent, checked in the sandbox: the path ``fenrir "REQUEST"`` and the web UI share.

The directory's listing goes into the prompt; the model writes several
candidate plans; while it loads and writes, a sandbox container is started
with a copy of the directory; each distinct candidate runs there, and the
model's first choice (or, when it failed, the plan most of the others agree on) is returned as a :class:`~agent.trace.TraceRecord`.
:func:`log_record` appends it to ``logs/trace.jsonl``.  Nothing runs on the host.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent.ask import DEFAULT_CANDIDATES, DEFAULT_MAX_NEW_TOKENS, Agent
from agent.context import list_directory
from agent.cpu import configure_threads
from agent.model import load_model
from agent.trace import TraceRecord, append_trace
from harness.check import UNCHECKED, SandboxRunner, check_candidates, runner_for_directory, second_round
from harness.errors import FenrirError, TraceError
from harness.paths import trace_path
from sandbox.engine import find_image

if TYPE_CHECKING:
    from agent.model import LoadedModel


@dataclass(frozen=True)
class AskOptions:
    """How one request is planned (the options of ``fenrir "REQUEST"``)."""

    directory: Path
    """The directory the request is about: listed for the prompt, copied into the sandbox for the check."""
    context: bool = True
    """Show the model the directory listing."""
    check: bool = True
    """Run the candidate plans in the sandbox and choose among them."""
    candidates: int | None = None
    """Candidate plans to generate when checking (None: the default, 4)."""
    fewshot_k: int | None = None
    """In-context examples (None: the measured best for the model)."""
    max_new_tokens: int | None = None
    """Generation budget (None: the default)."""
    base_model: str | None = None
    """Hugging Face model id or local folder (None: the embedded SmolLM2-135M)."""
    adapter: str | None = None
    """LoRA adapter folder (None: ./lora_adapter when it exists)."""
    quantize: str | None = None
    """none or 4bit (None: 4bit on CUDA, none on CPU)."""
    offload: str | None = None
    """Folder for accelerate's disk offload of weights that do not fit (None: $FENRIR_OFFLOAD or no offload)."""
    max_memory: str | None = None
    """Memory budget for the weights, e.g. 2GiB (None: $FENRIR_MAX_MEMORY or all available)."""


class _Preparation(threading.Thread):
    """Starts a sandbox container with a copy of the directory while the model loads."""

    def __init__(self, directory: Path) -> None:
        super().__init__(daemon=True)
        self.directory = directory
        self.runner: SandboxRunner | None = None
        self.reason = ""

    def run(self) -> None:
        try:
            if find_image() is None:
                self.reason = "the sandbox image is not built yet (run `fenrir sandbox build` once)"
                return
            runner = runner_for_directory(self.directory)
            runner.warm()
            self.runner = runner
        except FenrirError as exc:
            self.reason = f"the sandbox is not available ({str(exc).splitlines()[0][:160]})"

    def result(self) -> tuple[SandboxRunner | None, str]:
        self.join()
        return self.runner, self.reason


def load(base_model: str | None = None, adapter: str | None = None, quantize: str | None = None,
         offload: str | None = None, max_memory: str | None = None) -> LoadedModel:
    """The model as ``fenrir`` loads it (fast path where it serves); says on stderr when weights are offloaded."""
    configure_threads()
    loaded = load_model(base_model=base_model, adapter=adapter, quantize=quantize, fast=True, offload=offload,
                        max_memory=max_memory)
    if loaded.offloaded:
        n = len(loaded.offloaded)
        print(f"--- {n} module{'s' if n > 1 else ''} of {loaded.base_model_id} offloaded to disk "
              f"({', '.join(loaded.offloaded[:3])}{', ...' if n > 3 else ''}): every step reads them in",
              file=sys.stderr)
    return loaded


def plan_request(text: str, options: AskOptions, loaded: LoadedModel | None = None) -> TraceRecord:
    """Plan one (already checked) request.

    ``loaded`` is the model; when None it is loaded here (``options``' base model, adapter, quantization)
    while a sandbox container starts with a copy of the directory.
    """
    directory = options.directory
    preparation = None
    if options.check:
        preparation = _Preparation(directory)
        preparation.start()
    listing = list_directory(directory) if options.context else None
    if loaded is None:
        loaded = load(options.base_model, options.adapter, options.quantize, options.offload, options.max_memory)
    n = 1 if not options.check else (options.candidates or DEFAULT_CANDIDATES)
    agent = Agent(loaded, fewshot_k=options.fewshot_k,
                  max_new_tokens=options.max_new_tokens or DEFAULT_MAX_NEW_TOKENS, candidates=n)
    draft = agent.draft_many([text], [(str(directory.resolve()), listing)] if listing else None)[0]
    if preparation is None:
        return agent.finish(draft)
    runner, reason = preparation.result()
    if runner is None:
        return agent.finish(draft, UNCHECKED, reason)
    choice, seconds = check_candidates(draft.candidates, runner, second_round(agent, draft))
    return agent.finish(draft, choice, runner.where, seconds)


def log_record(record: TraceRecord, path: Path | None = None) -> Path:
    """Append the record to the trace (``logs/trace.jsonl`` or ``$FENRIR_TRACE``), or say why it cannot."""
    target = Path(path or trace_path())
    try:
        return append_trace(record, target)
    except OSError as exc:
        raise TraceError(f"the plan above was not logged: cannot append to {target} ({exc.strerror or exc}); "
                         "fix the permissions, set FENRIR_TRACE to a writable file, or pass --no-log") from exc
