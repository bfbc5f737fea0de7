"""The agent: a small causal LM that turns a request into a safe shell plan that never loses data.

base + adapter + model (where the base and the adapter come from; load
them), fewshot + prompt (in-context examples, chat template), generate
(greedy, batched), plan (parse output), shell (tree-sitter parsing),
levels + safety + rules + preview (classify; guard or preview or block
commands), trace (run log), ask (the pipeline).
Never imports sandbox or docker; torch/transformers load only inside functions.
"""
