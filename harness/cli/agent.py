"""``fenrir "REQUEST"``: ask the agent for a dry-run shell plan (the default command)."""

from __future__ import annotations

import click


@click.command()
@click.argument("request", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the full run record as JSON.")
@click.option("--fewshot", "fewshot_k", type=click.IntRange(min=0), default=None,
              help="Number of in-context examples (default: the measured best).")
@click.option("--base-model", default=None, help="Hugging Face model id or local folder (default: embedded SmolLM2-135M).")
@click.option("--adapter", default=None, type=click.Path(file_okay=False),
              help="LoRA adapter folder (default: ./lora_adapter when it exists).")
@click.option("--quantize", type=click.Choice(["none", "4bit"]), default=None,
              help="Load the base in 4-bit (default: 4bit on CUDA, none on CPU).")
@click.option("--no-log", is_flag=True, help="Do not append the run to logs/trace.jsonl.")
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=None, help="Generation budget.")
def ask(request: tuple[str, ...], as_json: bool, fewshot_k: int | None, base_model: str | None,
        adapter: str | None, quantize: str | None, no_log: bool, max_new_tokens: int | None) -> None:
    """Turn REQUEST into a safe, dry-run POSIX shell plan."""
    text = " ".join(request).strip()
    if not text:
        raise click.UsageError("the request is empty; say what you want done, e.g. fenrir \"list .py files\"")
    from agent.ask import DEFAULT_FEWSHOT_K, DEFAULT_MAX_NEW_TOKENS
    from agent.ask import ask as run_agent

    record = run_agent(
        text,
        base_model=base_model,
        adapter=adapter,
        quantize=quantize,
        fewshot_k=DEFAULT_FEWSHOT_K if fewshot_k is None else fewshot_k,
        max_new_tokens=max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
        log=not no_log,
    )
    if as_json:
        click.echo(record.model_dump_json(indent=2))
    else:
        click.echo(record.plan_text or "# (the model produced no commands)")

