"""How close the shipped agent's greedy choices are on the gated eval prompts.

    python bench/margins.py [--adapter DIR|none]

``make test`` gates the model agent against ``results/baseline.json``: every
case must score what it scored when the baseline was committed. Greedy decoding
is deterministic on one machine, but another CPU (other SIMD width, other BLAS
kernels) reorders float32 sums; computing the same logits another way (the
adapter merged into the weights vs applied beside them) moved them by at most
1.4e-4 here. A token whose lead over the runner-up is that small could flip
there and show up as a regression that is not one. For each static and dynamic
prompt this runs the agent's own generation, then one teacher-forced forward
pass over prompt + completion, and prints the smallest top-1 minus top-2 logit
gap along the completion, where it falls, and the token that came second. Nothing is
asserted; a gap under 0.01 deserves a look before committing a baseline.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's packages

from tabulate import tabulate  # noqa: E402

from agent.ask import Agent  # noqa: E402
from agent.generate import generate  # noqa: E402
from agent.model import load_model  # noqa: E402
from harness.grounding import fixture_listing  # noqa: E402
from rubrics.suite import resolve_suites  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", default=None, help="a LoRA adapter directory, or 'none' (default: lora_adapter/)")
    args = ap.parse_args()

    import torch

    # transformers' model and tokenizer (the fast path computes the same logits: tests/agent/test_fast.py)
    loaded = load_model(adapter=args.adapter) if args.adapter else load_model()
    tok, model = loaded.tokenizer, loaded.model
    agent = Agent(loaded)  # the agent's own prompts (its default few-shot k) and decoding
    cases = [c for suite in resolve_suites("static,dynamic") for c in suite.cases]
    # grounded as the eval grounds the agent: the listing of the case's first fixture
    _, texts = agent.prompts([c.prompt for c in cases], [fixture_listing(c.fixtures[0]) for c in cases])
    rows = []
    for case, text, gen in zip(cases, texts, generate(loaded, texts, agent.decoding)):
        prompt_ids = tok(text, return_tensors="pt", add_special_tokens=False).input_ids
        completion_ids = tok(gen.text, return_tensors="pt", add_special_tokens=False).input_ids
        with torch.no_grad():
            logits = model(torch.cat([prompt_ids, completion_ids], 1)).logits[0, prompt_ids.shape[1] - 1:-1].float()
        top = logits.topk(2, -1)
        gaps = top.values[:, 0] - top.values[:, 1]
        i = int(gaps.argmin())
        same = bool((top.indices[:, 0] == completion_ids[0]).all())
        rows.append((round(float(gaps[i]), 3), case.id, repr(tok.decode(completion_ids[0][:i + 1])[-32:]),
                     repr(tok.decode([int(top.indices[i, 1])])), "yes" if same else "NO"))
    rows.sort()
    print(tabulate(rows, headers=("min gap", "case", "completion up to the closest token", "runner-up",
                                  "forward agrees")))
    print(f"\nclosest greedy choice: {rows[0][0]} logits ({rows[0][1]})")


if __name__ == "__main__":
    main()
