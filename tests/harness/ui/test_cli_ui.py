"""``fenrir ui`` serves the app on the port asked for, headless and on localhost, and stops cleanly."""

from __future__ import annotations

import urllib.request

from click.testing import CliRunner

from harness.cli import main
from harness.cli.ui import app_script, streamlit_command
from harness.ui.browser import UiServer


def test_fenrir_ui_serves_the_app_and_stops(tmp_path):
    with UiServer(tmp_path / "ui.log", ("--results", str(tmp_path / "results")), cwd=tmp_path) as server:
        with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as reply:
            assert reply.read() == b"ok"
        with urllib.request.urlopen(f"{server.url}/review", timeout=10) as reply:  # the app's shell page
            assert reply.status == 200 and b'id="root"' in reply.read()
        process = server.process
    assert process.poll() is not None  # stopped with the context
    assert f"Fenrir UI on http://localhost:{server.port}" in (tmp_path / "ui.log").read_text()


def test_the_command_line_keeps_the_server_local_and_quiet():
    command = streamlit_command(8600, "localhost")
    app = app_script()
    assert command[command.index("run") + 1] == str(app) and app.is_file()
    options = dict(zip(command[command.index(str(app)) + 1::2], command[command.index(str(app)) + 2::2]))
    assert options == {"--server.port": "8600", "--server.address": "localhost", "--server.headless": "true",
                       "--browser.gatherUsageStats": "false", "--server.fileWatcherType": "none",
                       "--client.showErrorDetails": "type", "--client.toolbarMode": "viewer"}


def test_help_names_the_files_it_reads_and_writes():
    done = CliRunner().invoke(main, ["ui", "--help"])
    assert done.exit_code == 0
    for option in ("--port", "--results", "--overrides", "--trace", "--base-model"):
        assert option in done.output
