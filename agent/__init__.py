"""The agent: a small causal LM that turns a request into a safe, dry-run shell plan.

model (load base + adapter), fewshot + prompt (in-context examples, chat
template), generate (greedy, batched), plan (parse output), safety + rules +
preview (classify and defuse commands), trace (run log), ask (the pipeline).
Never imports sandbox or docker; torch/transformers load only inside functions.
"""
