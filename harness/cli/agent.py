"""``fenrir "REQUEST"``: ask the agent for a dry-run shell plan (the default command).

The path a request takes: the directory's listing goes into the prompt
(``--cwd``, ``--no-context``); the model writes several candidate plans; while
it loads and writes, a sandbox container is started with a copy of the
directory; each distinct candidate runs there, and the plan most candidates
agree on is printed (``--no-check``, ``--candidates``; when none runs
cleanly, as many more are drawn and checked once).  The plan is printed
before the trace is written, so a trace that cannot be written loses nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from agent.ask import check_request
from agent.plan import Plan
from harness.asking import AskOptions, log_record, plan_request
from harness.errors import RequestError
from harness.preview import describe_changes, preview_plan
from sandbox.materialize import from_directory


@click.command()
@click.argument("request", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the full run record as JSON.")
@click.option("--cwd", "cwd", default=None, type=click.Path(exists=True, file_okay=False),
              help="The directory the request is about (default: the current one). Its listing goes into the "
                   "prompt and the candidate plans run on a copy of it in the sandbox.")
@click.option("--no-context", is_flag=True, help="Do not show the model the directory listing.")
@click.option("--no-check", is_flag=True, help="Do not run candidate plans in the sandbox; print the greedy plan.")
@click.option("--candidates", type=click.IntRange(min=1, max=16), default=None,
              help="Candidate plans to generate and check (default: 4; 1 when checking is off); "
                   "as many again when none of them runs cleanly.")
@click.option("--fewshot", "fewshot_k", type=click.IntRange(min=0, max=16), default=None,
              help="Number of in-context examples, 0-16 (default: the measured best).")
@click.option("--base-model", default=None, help="Hugging Face model id or local folder (default: embedded SmolLM2-135M).")
@click.option("--adapter", default=None, type=click.Path(file_okay=False),
              help="LoRA adapter folder (default: ./lora_adapter when it exists).")
@click.option("--quantize", type=click.Choice(["none", "4bit"]), default=None,
              help="Load the base in 4-bit (default: 4bit on CUDA, none on CPU).")
@click.option("--offload", default=None, envvar="FENRIR_OFFLOAD", show_envvar=True, metavar="DIR",
              type=click.Path(file_okay=False),
              help="Load a base larger than the memory budget: the layers that do not fit stay on disk and are "
                   "read in at every step (accelerate's disk offload; slower, same plan). DIR holds offloaded "
                   "weights that are not safetensors.")
@click.option("--max-memory", default=None, envvar="FENRIR_MAX_MEMORY", show_envvar=True, metavar="SIZE",
              help="Most memory the base's weights may take, e.g. 2GiB or 500MB (RAM; GPU 0 on CUDA); the rest "
                   "is offloaded to disk (to --offload, else a folder in Fenrir's cache). Default with --offload: "
                   "the memory free now.")
@click.option("--no-log", is_flag=True, help="Do not append the run to logs/trace.jsonl.")
@click.option("--max-new-tokens", type=click.IntRange(min=1, max=1024), default=None, help="Generation budget.")
@click.option("--preview", "preview_dir", default=None, type=click.Path(exists=True, file_okay=False),
              help="Run the plan in the sandbox against a copy of DIR and show what it prints and would change.")
def ask(request: tuple[str, ...], as_json: bool, cwd: str | None, no_context: bool, no_check: bool,
        candidates: int | None, fewshot_k: int | None, base_model: str | None, adapter: str | None,
        quantize: str | None, offload: str | None, max_memory: str | None, no_log: bool,
        max_new_tokens: int | None, preview_dir: str | None) -> None:
    """Turn REQUEST into a safe, dry-run POSIX shell plan.

    \b
      fenrir "Find all JPEGs larger than 5 MB"
      fenrir --cwd ~/project "show the first line of sales.csv"
      fenrir --preview ~/project "delete every *~ file"

    The agent reads the names in the directory (never file contents), and checks
    its candidate plans on a copy of the directory in the sandbox; nothing runs
    on the host.  Limits: a request of at most 2,000 characters; the prompt must
    fit the model's context (examples, then the listing, are dropped if not).
    """
    try:
        text = check_request(" ".join(request))
    except RequestError as exc:
        raise click.UsageError(str(exc)) from None
    options = AskOptions(directory=Path(cwd) if cwd else Path(os.getcwd()), context=not no_context,
                         check=not no_check, candidates=candidates, fewshot_k=fewshot_k,
                         max_new_tokens=max_new_tokens, base_model=base_model, adapter=adapter, quantize=quantize,
                         offload=offload, max_memory=max_memory)
    record = plan_request(text, options)
    click.echo(record.model_dump_json(indent=2) if as_json else
               (record.plan_text or "# (the model produced no commands)"))
    sys.stdout.flush()
    if not no_log:
        log_record(record)
    if preview_dir is not None:
        _preview(record.plan, preview_dir)


def _preview(plan: Plan, directory: str) -> None:
    """Run the plan, and the plan with its previews replaced by the real commands, in the
    sandbox on a copy of ``directory``."""
    preview = preview_plan(plan, from_directory(directory))
    if preview is None:
        click.echo("--- preview: the plan has no runnable command", err=True)
        return
    shown = preview.shown
    click.echo(f"--- preview in the sandbox (a copy of {directory}; exit {shown.exit_code}):", err=True)
    click.echo(shown.stdout, nl=False)
    click.echo(shown.stderr, nl=False, err=True)
    lines = describe_changes(preview.effect)
    what = preview.changes_label
    click.echo(f"--- {what}:" if lines else f"--- {what} nothing", err=True)
    for line in lines:
        click.echo(line, err=True)
    click.echo(f"--- {directory} itself was not touched.", err=True)
