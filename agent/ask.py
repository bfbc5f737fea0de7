"""The agent: request -> prompt with few-shot examples -> greedy completion -> checked plan.

:class:`Agent` holds a loaded model and the example index; ``plan_many``
generates plans for a list of requests in batches (the eval harness uses it
as a plan source), ``ask`` is the one-request path the CLI uses.  Both return
:class:`~agent.trace.TraceRecord` values; writing them to the trace is the
caller's choice (:func:`ask` does it unless ``log=False``).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from agent.fewshot import DEFAULT_DATA, Example, Selector, load_examples
from agent.generate import Decoding, generate
from agent.model import LoadedModel, Quantize, load_model
from agent.plan import parse_plan
from agent.prompt import build_messages, render_prompt
from agent.trace import DecodingRecord, LineVerdict, TraceRecord, append_trace

DEFAULT_FEWSHOT_K = 4
"""Chosen by measurement: ``bench/agent.py --fewshot-sweep`` on 20 held-out requests gave
right-program 2/20 (k=0), 8 (1), 12 (2), 14 (3), 15 (4), 15 (5), 14 (6); k=4 ties k=5 with
~37 fewer prompt tokens per request.  That is for the base model alone; see ``default_fewshot``."""
ADAPTER_FEWSHOT_K = 0
"""With a LoRA adapter: it was trained zero-shot, and examples in the prompt made it worse
(bench/quality.py: dynamic Answer 1.43 zero-shot vs 0.14 with 4 examples)."""
DEFAULT_MAX_NEW_TOKENS = 96


def default_fewshot(loaded: LoadedModel) -> int:
    """The measured best k for this model: 0 with an adapter, 4 for the base alone."""
    return ADAPTER_FEWSHOT_K if loaded.adapter_sha256 else DEFAULT_FEWSHOT_K


class Agent:
    """A loaded model plus the few-shot example index."""

    def __init__(
        self,
        loaded: LoadedModel,
        data_path: Path | str = DEFAULT_DATA,
        fewshot_k: int | None = None,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        batch_size: int = 16,
    ) -> None:
        self.loaded = loaded
        fewshot_k = default_fewshot(loaded) if fewshot_k is None else fewshot_k
        self.selector = Selector(load_examples(data_path) if fewshot_k > 0 else [])
        self.fewshot_k = fewshot_k
        self.decoding = Decoding(max_new_tokens=max_new_tokens, batch_size=batch_size)

    def prompts(self, requests: list[str]) -> tuple[list[list[Example]], list[str]]:
        """The few-shot examples chosen for each request and the chat prompts the model is given."""
        chosen = [self.selector.select(r, self.fewshot_k) for r in requests]
        return chosen, [render_prompt(self.loaded.tokenizer, build_messages(r, ex)) for r, ex in zip(requests, chosen)]

    def plan_many(self, requests: list[str]) -> list[TraceRecord]:
        """Plans for ``requests``, generated in batches (latency is the batch's wall time)."""
        started = time.perf_counter()
        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        chosen, prompts = self.prompts(requests)
        outputs = generate(self.loaded, prompts, self.decoding)
        latency = time.perf_counter() - started
        records = []
        for request, examples, out in zip(requests, chosen, outputs):
            plan = parse_plan(out.text)
            records.append(TraceRecord(
                timestamp=stamp,
                request=request,
                raw_output=out.text,
                plan=plan,
                plan_text=plan.render(),
                verdicts=[LineVerdict(command=line.original, level=line.level, action=line.action, reason=line.reason)
                          for line in plan.lines if line.original is not None],
                base_model=self.loaded.base_model_id,
                base_revision=self.loaded.revision,
                adapter_sha256=self.loaded.adapter_sha256,
                quantized=self.loaded.quantized,
                fewshot_ids=[e.id for e in examples],
                decoding=DecodingRecord(do_sample=False, max_new_tokens=self.decoding.max_new_tokens,
                                        fewshot_k=self.fewshot_k),
                latency_s=round(latency, 4),
                prompt_tokens=out.prompt_tokens,
                completion_tokens=out.completion_tokens,
            ))
        return records

    def ask(self, request: str) -> TraceRecord:
        return self.plan_many([request])[0]


def ask(
    request: str,
    *,
    base_model: str | None = None,
    adapter: str | None = None,
    quantize: Quantize | None = None,
    fewshot_k: int | None = None,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    log: bool = True,
) -> TraceRecord:
    """Load the model, plan one request, append the trace (unless ``log=False``)."""
    loaded = load_model(base_model=base_model, adapter=adapter, quantize=quantize)
    record = Agent(loaded, fewshot_k=fewshot_k, max_new_tokens=max_new_tokens).ask(request)
    if log:
        append_trace(record)
    return record
