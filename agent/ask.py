"""The agent: request (+ directory listing) -> prompt -> candidate plans -> (checked) plan.

:class:`Agent` holds a loaded model and the example index.

* ``plan_many`` generates one greedy plan per request, in batches (a plan
  source for the eval harness when checking is off);
* ``draft_many`` generates ``candidates`` plans per request (the greedy one
  first, then samples, :mod:`agent.generate`), and ``finish`` turns a draft
  into a :class:`~agent.trace.TraceRecord`, given the outcome of a check
  (:mod:`agent.check`) that something else ran: the agent never imports the
  sandbox; the harness runs candidates and hands back a
  :class:`~agent.check.Choice`.

Input limits (:func:`check_request`, :meth:`Agent.prompts`) refuse a request
that is not text, is empty, or is longer than :data:`MAX_REQUEST_CHARS`, and a
prompt that would not fit the model's context: few-shot examples are dropped
first (with a note in the trace), then the listing, before giving up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from agent.check import Candidate, Choice
from agent.context import Listing
from agent.fewshot import Example, Selector, load_examples
from agent.generate import Decoding, Generation, Sampling, generate, generate_candidates
from agent.model import LoadedModel, Quantize, load_model
from agent.plan import Plan, PlanLine, parse_plan
from agent.prompt import build_messages, render_prompt
from agent.trace import (
    CandidateRecord,
    CheckRecord,
    ContextRecord,
    DecodingRecord,
    LineVerdict,
    TraceRecord,
    append_trace,
)
from harness.errors import RequestError

DEFAULT_FEWSHOT_K = 4
"""Chosen by measurement: ``bench/agent.py --fewshot-sweep`` on 20 held-out requests gave
right-program 2/20 (k=0), 8 (1), 12 (2), 14 (3), 15 (4), 15 (5), 14 (6); k=4 ties k=5 with
~37 fewer prompt tokens per request.  That is for the base model alone; see ``default_fewshot``."""
ADAPTER_FEWSHOT_K = 0
"""With a LoRA adapter: it was trained zero-shot.  With the shipped adapter, 4 examples gave 217 vs 209 of
the 296 held-out template rows (checked; within noise) and 82 vs 91 of the 245 informative NL2Bash/tldr
held-out rows, from either pool (bench/candidates.py generate --fewshot 4 [--examples ...]; README)."""
DEFAULT_MAX_NEW_TOKENS = 96
MAX_REQUEST_CHARS = 2000
"""Longest request accepted (about 500 tokens): a request is a sentence or a paragraph, not a file."""
MAX_FEWSHOT = 16
"""Most in-context examples; more only slows the model down and pushes the request out of its context."""
DEFAULT_CANDIDATES = 4
"""Plans generated per request when they can be checked.  ``python bench/check.py --rows 50 --temperatures
0.6,1.0`` (results/check.json, 100 held-out rows, shipped adapter): 4 candidates at T=1.0 picked the
reference's result on 52/100 rows, the greedy plan alone 51/100, 8 candidates 44/100 (more samples add
plausible wrong plans that outvote it).  The check's gain in right answers is within noise; what it
buys is that a plan which fails, errors or hits a limit in the sandbox is not returned when another ran."""
DEFAULT_SAMPLING = Sampling(temperature=1.0, top_p=0.95, seed=0)
"""How the candidates after the greedy one are drawn: T=1.0 was as good as 0.6 at every count (same run)."""


def default_fewshot(loaded: LoadedModel) -> int:
    """The measured best k for this model: 0 with an adapter, 4 for the base alone."""
    return ADAPTER_FEWSHOT_K if loaded.adapter_sha256 else DEFAULT_FEWSHOT_K


def check_request(text: str) -> str:
    """The request stripped, or a :class:`RequestError` saying what is wrong with it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raw = bad.encode("utf-8", "surrogateescape") if "\udc80" <= bad <= "\udcff" else bad.encode("utf-8", "replace")
        raise RequestError(f"the request is not valid UTF-8 text (byte {raw!r} at character {exc.start}); "
                           "check your terminal's encoding (e.g. LANG=C.UTF-8) and type it again") from None
    text = text.strip()
    if not text:
        raise RequestError('the request is empty; say what you want done, e.g. fenrir "list .py files"')
    if len(text) > MAX_REQUEST_CHARS:
        raise RequestError(f"the request is {len(text):,} characters; the agent takes at most "
                           f"{MAX_REQUEST_CHARS:,} (a sentence or a paragraph). Shorten it, and name files "
                           "instead of pasting their contents")
    return text


@dataclass
class Draft:
    """One request's candidates, before a check chooses among them."""

    request: str
    context: Listing | None
    directory: str | None
    examples: list[Example]
    generations: list[Generation]
    candidates: list[Candidate]
    context_tokens: int
    stamp: str
    started: float
    notes: list[str] = field(default_factory=list)
    """Things the agent had to trim to fit the model's context."""
    prompt: str = ""
    """The rendered prompt the candidates were generated from (:meth:`Agent.more` draws more from it)."""
    rounds: int = 1
    """Rounds of candidates drawn: 2 after :meth:`Agent.more`."""
    first_round: int = 0
    """Candidates of the first round (set when a second is drawn)."""


class Agent:
    """A loaded model plus the few-shot example index."""

    def __init__(
        self,
        loaded: LoadedModel,
        data_path: Path | str | None = None,
        fewshot_k: int | None = None,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        batch_size: int = 16,
        candidates: int = 1,
        sampling: Sampling = DEFAULT_SAMPLING,
    ) -> None:
        self.loaded = loaded
        fewshot_k = default_fewshot(loaded) if fewshot_k is None else fewshot_k
        if not 0 <= fewshot_k <= MAX_FEWSHOT:
            raise RequestError(f"--fewshot {fewshot_k}: choose 0 to {MAX_FEWSHOT} in-context examples")
        self.selector = Selector(load_examples(data_path) if fewshot_k > 0 else [])
        self.fewshot_k = fewshot_k
        self.decoding = Decoding(max_new_tokens=max_new_tokens, batch_size=batch_size)
        self.candidates = max(1, candidates)
        self.sampling = sampling

    @property
    def context_limit(self) -> int:
        """Tokens the model can attend to (its position limit)."""
        config = getattr(self.loaded.model, "config", None)
        return int(getattr(config, "max_position_embeddings", 0) or 2048)

    def _tokens(self, text: str) -> int:
        return len(self.loaded.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _fit(self, request: str, examples: list[Example], context: Listing | None,
             notes: list[str]) -> tuple[list[Example], Listing | None, str]:
        """Drop examples, then the listing, until the prompt and the answer fit the model's context."""
        budget = self.context_limit - self.decoding.max_new_tokens
        while True:
            prompt = render_prompt(self.loaded.tokenizer,
                                   build_messages(request, examples, context.text if context else None))
            used = self._tokens(prompt)
            if used <= budget:
                return examples, context, prompt
            if examples:
                notes.append(f"prompt of {used} tokens exceeds the model's {budget}: "
                             f"dropped {len(examples)} in-context examples")
                examples = []
            elif context is not None:
                notes.append(f"prompt of {used} tokens exceeds the model's {budget}: dropped the directory listing")
                context = None
            else:
                raise RequestError(f"the request alone is {used} tokens with the system prompt; the model takes "
                                   f"{budget} before its answer. Shorten the request")

    def prompts(self, requests: list[str], contexts: list[Listing | None] | None = None,
                notes: list[list[str]] | None = None) -> tuple[list[list[Example]], list[str]]:
        """The few-shot examples chosen for each request and the chat prompts the model is given."""
        contexts = contexts or [None] * len(requests)
        notes = notes if notes is not None else [[] for _ in requests]
        chosen, prompts = [], []
        for request, context, note in zip(requests, contexts, notes):
            examples, _, prompt = self._fit(request, self.selector.select(request, self.fewshot_k), context, note)
            chosen.append(examples)
            prompts.append(prompt)
        return chosen, prompts

    def draft_many(self, requests: list[str], contexts: list[tuple[str, Listing] | None] | None = None,
                   ) -> list[Draft]:
        """``self.candidates`` plans per request (greedy first); ``contexts`` pairs a directory with its listing."""
        started = time.perf_counter()
        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        contexts = contexts or [None] * len(requests)
        listings = [c[1] if c else None for c in contexts]
        notes: list[list[str]] = [[] for _ in requests]
        chosen, prompts = self.prompts(requests, listings, notes)
        if self.candidates > 1:
            groups = generate_candidates(self.loaded, prompts, self.candidates, self.sampling, self.decoding)
        else:
            groups = [[g] for g in generate(self.loaded, prompts, self.decoding)]
        drafts = []
        for request, context, examples, gens, note, prompt in zip(requests, contexts, chosen, groups, notes, prompts):
            listing = context[1] if context else None
            dropped_listing = any("dropped the directory listing" in n for n in note)
            if dropped_listing:
                listing = None
            shown = listing.text if listing else None  # paths the listing shows repair those the model invented
            cands = [Candidate(plan=parse_plan(g.text, shown), raw=g.text, mean_logprob=g.mean_logprob, greedy=i == 0)
                     for i, g in enumerate(gens)]
            drafts.append(Draft(request=request, context=listing, directory=context[0] if context else None,
                                examples=examples, generations=gens, candidates=cands,
                                context_tokens=self._tokens(listing.text) if listing else 0,
                                stamp=stamp, started=started, notes=note, prompt=prompt))
        return drafts

    def more(self, draft: Draft, n: int | None = None) -> Draft:
        """Draw ``n`` (default: ``self.candidates``) more sampled candidates for ``draft`` and append them.

        For a second round when none of the first ran cleanly: the new ones are
        samples ``len(draft.candidates)`` onwards of the same series (their own
        seeds, so never repeats of the first round's draws), from the same prompt;
        the prompt cache makes the prompt nearly free the second time."""
        n = self.candidates if n is None else n
        (gens,) = generate_candidates(self.loaded, [draft.prompt], n, self.sampling, self.decoding,
                                      first=len(draft.generations))
        shown = draft.context.text if draft.context else None
        if draft.rounds == 1:
            draft.first_round = len(draft.candidates)
        draft.generations += gens
        draft.candidates += [Candidate(plan=parse_plan(g.text, shown), raw=g.text, mean_logprob=g.mean_logprob,
                                       greedy=False) for g in gens]
        draft.rounds += 1
        return draft

    def finish(self, draft: Draft, choice: Choice | None = None, where: str = "", seconds: float = 0.0,
               ) -> TraceRecord:
        """The trace record of a draft: the chosen candidate (the greedy one without a check)."""
        index = choice.index if choice is not None else 0
        cand, gen = draft.candidates[index], draft.generations[index]
        lines = [PlanLine(kind="comment", text=n) for n in draft.notes]
        if choice is not None:
            note = choice.note(len(draft.candidates), where)
            if draft.rounds > 1:
                first = draft.first_round
                note += f"; {len(draft.candidates) - first} of them drawn after none of the first {first} ran cleanly"
            lines.append(PlanLine(kind="comment", text=note))
        plan = Plan(lines=lines + list(cand.plan.lines))
        check = None
        if choice is not None:
            by_index = {v.index: v for v in choice.verdicts}
            check = CheckRecord(
                checked=choice.checked, where=where, chosen=index, votes=choice.votes, survivors=choice.survivors,
                candidates=[CandidateRecord(plan_text=c.plan.render(), mean_logprob=round(c.mean_logprob, 4),
                                            dropped=by_index[i].dropped if i in by_index else None,
                                            result=by_index[i].key if i in by_index else None)
                            for i, c in enumerate(draft.candidates)],
                seconds=round(seconds, 3), rounds=draft.rounds)
        sampled = len(draft.candidates) > 1
        return TraceRecord(
            timestamp=draft.stamp,
            request=draft.request,
            raw_output=cand.raw,
            plan=plan,
            plan_text=plan.render(),
            verdicts=[LineVerdict(command=line.original, level=line.level, action=line.action, reason=line.reason)
                      for line in plan.lines if line.original is not None],
            base_model=self.loaded.base_model_id,
            base_revision=self.loaded.revision,
            adapter_sha256=self.loaded.adapter_sha256,
            quantized=self.loaded.quantized,
            fewshot_ids=[e.id for e in draft.examples],
            decoding=DecodingRecord(do_sample=sampled, max_new_tokens=self.decoding.max_new_tokens,
                                    fewshot_k=self.fewshot_k, candidates=len(draft.candidates),
                                    temperature=self.sampling.temperature if sampled else None,
                                    top_p=self.sampling.top_p if sampled else None,
                                    seed=self.sampling.seed if sampled else None),
            latency_s=round(time.perf_counter() - draft.started, 4),
            prompt_tokens=gen.prompt_tokens,
            cached_prompt_tokens=gen.cached_tokens,
            completion_tokens=gen.completion_tokens,
            context=ContextRecord(directory=draft.directory or "", sha256=draft.context.sha256,
                                  chars=draft.context.chars, tokens=draft.context_tokens,
                                  entries=draft.context.shown, truncated=draft.context.truncated)
            if draft.context is not None else None,
            check=check,
        )

    def plan_many(self, requests: list[str], contexts: list[tuple[str, Listing] | None] | None = None,
                  ) -> list[TraceRecord]:
        """Greedy plans for ``requests``, unchecked (latency is the batch's wall time)."""
        greedy = self.candidates
        self.candidates = 1
        try:
            return [self.finish(d) for d in self.draft_many(requests, contexts)]
        finally:
            self.candidates = greedy

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
    """Load the model, plan one request greedily without a directory or a check, append the trace."""
    loaded = load_model(base_model=base_model, adapter=adapter, quantize=quantize, fast=True)
    record = Agent(loaded, fewshot_k=fewshot_k, max_new_tokens=max_new_tokens).ask(check_request(request))
    if log:
        append_trace(record)
    return record
