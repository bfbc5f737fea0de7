"""The web UI in a real browser: headless Chromium (Debian's chromium + chromium-driver) through selenium.

``fenrir ui`` runs on a free port with its results, overrides and trace pointed
at temporary copies.  The test asks the shipped model a request (unchecked, so
no Docker is needed: the check itself is the CLI's, tested with it), copies a
``$`` line with its button, opens a run and a case through the page's own
widgets, files an override through the form and reads the temporary
overrides.yaml.  A screenshot of each page is saved under the test's tmp dir.

Skipped, with how to enable them, where Chromium cannot be found or installed.
"""

from __future__ import annotations

import pytest
import yaml
from recorded_run import RUN_ID, tail

from agent.trace import TraceRecord
from harness.errors import BrowserUnavailable
from harness.runner import RunStore
from harness.ui.browser import Browser, UiServer, ensure_browser

pytestmark = [pytest.mark.slow, pytest.mark.model]


@pytest.fixture
def chromium(tmp_path):
    try:
        return ensure_browser(tmp_path / "apt-chromium.log")
    except BrowserUnavailable as exc:
        pytest.skip(f"browser tests skipped: {exc}")


def test_ask_copy_open_a_run_and_override_in_a_browser(chromium, recorded, tmp_path):
    project = tmp_path / "project"
    for name in ("src/app.py", "src/util.py", "README.md"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x\n")
    shots = tmp_path / "screenshots"
    args = ("--results", str(recorded.results), "--overrides", str(recorded.overrides), "--trace", str(recorded.trace))
    with UiServer(tmp_path / "ui.log", args, cwd=tmp_path) as server, \
            Browser(server.url, tmp_path / "apt-chromium.log") as browser:
        # Ask: the real path (listing, the shipped model, the trace append)
        browser.ask("list the python files", project, check=False)
        (line,) = recorded.trace.read_text(encoding="utf-8").splitlines()
        record = TraceRecord.model_validate_json(line)
        assert record.request == "list the python files" and record.context.directory == str(project.resolve())
        assert record.plan.commands, f"the model wrote no command: {record.raw_output!r}"
        command = record.plan.commands[0].text
        assert "$ line 1 · " in browser.text()
        blocks = browser.code_blocks()
        assert blocks[0].text == record.plan_text
        line_block = next(b for b in blocks[1:] if b.text == command)
        clipboard, handed = browser.copy(line_block)
        assert handed == command  # what the button handed to the clipboard
        assert clipboard in (None, command)  # what reached it, where headless Chromium lets the page read it
        _, whole = browser.copy(blocks[0])
        assert whole == record.plan_text
        browser.screenshot(shots / "ask.png")

        # Runs: through the sidebar, then a case through the page's own select box
        browser.driver.find_element("css selector", 'a[data-testid="stSidebarNavLink"][href$="/runs"]').click()
        browser.wait_for("4 of 4 case(s)")
        browser.screenshot(shots / "runs.png")
        browser.choose("Open a case", "tail-log")
        browser.wait_for("Case tail-log")
        page = browser.text()
        assert "Reference · exit status 0" in page and "Plan · exit status 0" in page
        assert tail(6).splitlines()[0] in page and "$ tail -n 5 output.log" in page
        browser.screenshot(shots / "case.png")

        # Review: an override through the form, into the temporary overrides.yaml
        browser.file_override(RUN_ID, "tail-log", 1, "6 lines instead of 5: close", "alice")
        browser.screenshot(shots / "review.png")
        entries = yaml.safe_load(recorded.overrides.read_text(encoding="utf-8"))
        result = RunStore(RUN_ID, recorded.runs).result("tail-log")
        assert [(e["case"], e["dimension"], e["score"], e["automatic"], e["reviewer"], e["plan_sha256"])
                for e in entries] == [("tail-log", "answer", 1, 0, "alice", result.plan_sha256)]
        assert result.scores.answer == 1

        # Report
        browser.open(f"report?run={RUN_ID}", "Means", timeout=120)
        browser.screenshot(shots / "report.png")
    for name in ("ask", "runs", "case", "review", "report"):
        assert (shots / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
