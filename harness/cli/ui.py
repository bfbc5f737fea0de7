"""``fenrir ui``: the web front-end (Streamlit) on localhost, over the files the CLI uses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from harness.paths import package_root


def app_script() -> Path:
    """The script Streamlit runs (``harness/ui/app.py`` of the installed package)."""
    return package_root() / "harness" / "ui" / "app.py"


def streamlit_command(port: int, host: str) -> list[str]:
    """The command line that serves the app: headless, no usage statistics, no tracebacks in the page."""
    return [sys.executable, "-m", "streamlit", "run", str(app_script()), "--server.port", str(port),
            "--server.address", host, "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--client.showErrorDetails", "type",
            "--client.toolbarMode", "viewer"]


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="Port to serve on.")
@click.option("--host", default="localhost", show_default=True, help="Address to listen on (keep it local).")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Results folder: runs/, reports, baseline.json (default: results/; sets FENRIR_RESULTS).")
@click.option("--overrides", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Overrides file (default: rubrics/overrides.yaml; sets FENRIR_OVERRIDES).")
@click.option("--trace", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Run log the Ask page appends to (default: logs/trace.jsonl; sets FENRIR_TRACE).")
@click.option("--base-model", default=None, help="Model the Ask page loads (default: embedded SmolLM2-135M).")
@click.option("--adapter", default=None, type=click.Path(file_okay=False),
              help="LoRA adapter folder (default: ./lora_adapter when it exists).")
def ui(port: int, host: str, results: Path | None, overrides: Path | None, trace: Path | None,
       base_model: str | None, adapter: str | None) -> None:
    """Open the web front-end: ask, copy, preview, browse runs, review and override, read the report.

    \b
      fenrir ui                     # http://localhost:8501
      fenrir ui --port 8600 --results /tmp/copy/results --overrides /tmp/copy/overrides.yaml

    It reads and writes the files the command line does (logs/trace.jsonl,
    results/runs/, rubrics/overrides.yaml); plans run only in the sandbox.
    """
    env = dict(os.environ)
    for name, value in (("FENRIR_RESULTS", results), ("FENRIR_OVERRIDES", overrides), ("FENRIR_TRACE", trace),
                        ("FENRIR_UI_BASE_MODEL", base_model), ("FENRIR_UI_ADAPTER", adapter)):
        if value is not None:
            env[name] = str(Path(value).resolve()) if isinstance(value, Path) else str(value)
    click.echo(f"Fenrir UI on http://{host}:{port} (Ctrl-C to stop)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, streamlit_command(port, host), env)
