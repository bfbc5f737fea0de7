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
@click.option("--preview", "preview_dir", default=None, type=click.Path(exists=True, file_okay=False),
              help="Run the plan in the sandbox against a copy of DIR and show what it prints and would change.")
def ask(request: tuple[str, ...], as_json: bool, fewshot_k: int | None, base_model: str | None,
        adapter: str | None, quantize: str | None, no_log: bool, max_new_tokens: int | None,
        preview_dir: str | None) -> None:
    """Turn REQUEST into a safe, dry-run POSIX shell plan.

    \b
      fenrir "Find all JPEGs larger than 5 MB"
      fenrir --preview ~/project "delete every *~ file"

    With --preview, nothing runs on the host: the plan runs in the sandbox on a
    copy of DIR, and so do the original commands behind any preview, to show
    what they would change.  DIR itself is only read.
    """
    text = " ".join(request).strip()
    if not text:
        raise click.UsageError("the request is empty; say what you want done, e.g. fenrir \"list .py files\"")
    from agent.ask import DEFAULT_MAX_NEW_TOKENS
    from agent.ask import ask as run_agent

    record = run_agent(
        text,
        base_model=base_model,
        adapter=adapter,
        quantize=quantize,
        fewshot_k=fewshot_k,  # None: the measured best for the model (0 with an adapter, else 4)
        max_new_tokens=max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
        log=not no_log,
    )
    if as_json:
        click.echo(record.model_dump_json(indent=2))
    else:
        click.echo(record.plan_text or "# (the model produced no commands)")
    if preview_dir is not None:
        _preview(record.plan, preview_dir)


def _preview(plan, directory: str) -> None:
    """Run the plan, and the plan with its previews replaced by the real commands, in the
    sandbox on a copy of ``directory``."""
    import sandbox
    from harness.cli.sandbox import describe_changes
    from sandbox.materialize import from_directory

    fixture = from_directory(directory)
    script = plan.script()
    if not script.strip():
        click.echo("--- preview: the plan has no runnable command", err=True)
        return
    shown = sandbox.run(script, fixture)
    click.echo(f"--- preview in the sandbox (a copy of {directory}; exit {shown.exit_code}):", err=True)
    click.echo(shown.stdout, nl=False)
    click.echo(shown.stderr, nl=False, err=True)
    # what applying the plan after review does: previews replaced by their real commands
    applied = [line.original if line.action == "rewritten" else line.text for line in plan.commands]
    rewritten = any(line.action == "rewritten" for line in plan.commands)
    effect = sandbox.run("".join(c + "\n" for c in applied), fixture) if rewritten else shown
    lines = describe_changes(effect)
    what = "the original commands would change" if rewritten else "the plan would change"
    click.echo(f"--- {what}:" if lines else f"--- {what} nothing", err=True)
    for line in lines:
        click.echo(line, err=True)
    click.echo(f"--- {directory} itself was not touched.", err=True)

