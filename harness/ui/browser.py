"""Driving the web UI in a real browser: headless Chromium through selenium, for the browser tests and screenshots.

:func:`ensure_browser` finds Debian's ``chromium`` and ``chromedriver`` and,
when they are missing and this runs as root on Debian, installs them (as
``sandbox/engine.sh`` does for Docker); otherwise it raises
:class:`~harness.errors.BrowserUnavailable` saying how to get them.
:class:`UiServer` runs ``fenrir ui`` on a free port; :class:`Browser` opens
pages, asks, copies, files overrides and takes screenshots.

``python -m harness.ui.browser OUT_DIR`` (``make screenshots``) saves the
README's screenshots of every page, the Ask page answering a real request with
the shipped model, checked in the sandbox, and a case page of the newest run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import BrowserUnavailable, FenrirError
from harness.runner import RunStore
from harness.ui.state import paths, require_runs

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

PACKAGES = ("chromium", "chromium-driver")
"""The Debian packages that provide the browser and its driver."""
HOW = ("install Debian's chromium and chromium-driver (as root: apt-get install chromium chromium-driver; "
       "Fenrir does it itself when it runs as root on Debian) or put chromium and chromedriver on PATH, "
       "then run again")
WIDTH, HEIGHT = 1400, 1000
"""Browser window size for pages and screenshots."""


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def ensure_browser(log: Path) -> tuple[str, str]:
    """(chromium, chromedriver), installing the Debian packages when missing and possible."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        raise BrowserUnavailable("selenium is not installed: run make install (it is pinned in pyproject.toml)") from None
    found = find_browser()
    if found is None and os.geteuid() == 0 and Path("/etc/debian_version").exists():
        log.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        with open(log, "a", encoding="utf-8") as out:
            subprocess.run(["apt-get", "update", "-qq"], stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
            subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES], stdout=out,
                           stderr=subprocess.STDOUT, env=env, check=False)
        found = find_browser()
        if found is None:
            raise BrowserUnavailable(f"apt-get install {' '.join(PACKAGES)} failed (see {log}); {HOW}")
    if found is None:
        raise BrowserUnavailable(f"no chromium and chromedriver on PATH: {HOW}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


class UiServer:
    """``fenrir ui`` on a free port, as a context manager; ``args`` are more ``fenrir ui`` options."""

    def __init__(self, log: Path, args: tuple[str, ...] = (), cwd: Path | None = None,
                 env: dict[str, str] | None = None, timeout: float = 90) -> None:
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.log, self.args, self.cwd, self.env, self.timeout = log, args, cwd, env, timeout
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "UiServer":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from harness.cli import main; main()", "ui", "--port", str(self.port),
             *self.args], cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise FenrirError(f"fenrir ui exited with status {self.process.returncode}: "
                                  f"{self.log.read_text(encoding='utf-8')[-800:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        self.__exit__()
        raise FenrirError(f"fenrir ui did not answer on {self.url} within {self.timeout:.0f} s (log: {self.log})")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


INTERCEPT = """
window.__fenrirCopied = [];
const clip = navigator.clipboard;
const original = clip && clip.writeText ? clip.writeText.bind(clip) : null;
if (clip) { clip.writeText = (text) => { window.__fenrirCopied.push(text); return original ? original(text) : Promise.resolve(); }; }
"""
"""Records what a copy button hands to the clipboard, then lets it through."""


class Browser:
    """A headless Chromium on the UI, as a context manager (one instance at a time: ~300 MB)."""

    def __init__(self, base_url: str, log: Path) -> None:
        self.base_url = base_url
        self.chromium, self.chromedriver = ensure_browser(log)
        self.driver: WebDriver | None = None

    def __enter__(self) -> "Browser":
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = self.chromium
        for arg in ("--headless=new", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={WIDTH},{HEIGHT}",
                    "--disable-extensions", "--no-first-run"):
            options.add_argument(arg)
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium refuses to start as root with its sandbox
        self.driver = webdriver.Chrome(service=Service(self.chromedriver), options=options)
        self.driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": self.base_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        return self

    def __exit__(self, *exc) -> None:
        if self.driver is not None:
            self.driver.quit()

    # --- pages -----------------------------------------------------------------------
    def open(self, path: str, wait_for: str, timeout: float = 60) -> None:
        self.driver.get(f"{self.base_url}/{path.lstrip('/')}")
        self.wait_for(wait_for, timeout)

    def text(self) -> str:
        return self.driver.find_element("tag name", "body").text

    def wait_for(self, text: str, timeout: float = 60, fail_on: str | None = None) -> None:
        """Until ``text`` shows on the page (or ``fail_on`` does: an error, reported with the page's text)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.text()
            if text in body and not self.running():
                time.sleep(1.0)  # the status widget shows only after a moment: the script may still be writing
                if text in self.text() and not self.running():
                    return
                continue
            if fail_on is not None and fail_on in body and not self.running():
                raise AssertionError(f"the page shows an error instead of {text!r}:\n{body[-1500:]}")
            time.sleep(0.5)
        raise AssertionError(f"{text!r} did not show within {timeout:.0f} s; the page says:\n{self.text()[-1500:]}")

    def running(self) -> bool:
        """Whether the script is still running (Streamlit's status widget shows)."""
        return bool(self.driver.find_elements("css selector", '[data-testid="stStatusWidget"]'))

    def screenshot(self, path: Path) -> Path:
        """The whole page: the window grows to the main area's height first."""
        height = self.driver.execute_script(
            "const m = document.querySelector('[data-testid=\"stMain\"]') || document.body;"
            "return Math.max(m.scrollHeight, document.body.scrollHeight);")
        self.driver.set_window_size(WIDTH, min(max(int(height) + 40, HEIGHT), 5000))
        self.driver.execute_script("window.scrollTo(0, 0); const m = document.querySelector('[data-testid=\"stMain\"]');"
                                   "if (m) { m.scrollTop = 0; }")
        time.sleep(1.0)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(WIDTH, HEIGHT)
        return path

    # --- widgets -----------------------------------------------------------------------
    def field(self, label: str) -> WebElement:
        """The text input or text area with this label."""
        return self.driver.find_element("css selector", f'input[aria-label="{label}"], textarea[aria-label="{label}"]')

    def type_into(self, label: str, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.field(label)
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.DELETE)
        box.send_keys(text)

    def click_button(self, label: str) -> None:
        buttons = [b for b in self.driver.find_elements("css selector", "button") if b.text.strip() == label]
        if not buttons:
            raise AssertionError(f"no button {label!r} on the page")
        buttons[0].click()

    def click_label(self, container_testid: str, label: str) -> None:
        """Click the option or checkbox labelled ``label`` inside widgets of this data-testid."""
        for element in self.driver.find_elements("css selector", f'[data-testid="{container_testid}"] label'):
            if element.text.strip() == label:
                element.click()
                return
        raise AssertionError(f"no {container_testid} labelled {label!r}")

    def choose(self, label: str, option: str) -> None:
        """Pick ``option`` in the select box labelled ``label``."""
        self.driver.find_element("css selector", f'input[role="combobox"][aria-label="{label}"]').click()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for element in self.driver.find_elements("css selector", '[role="option"]'):
                if element.text.strip() == option:
                    element.click()
                    return
            time.sleep(0.2)
        raise AssertionError(f"no option {option!r} in the select box {label!r}")

    def code_blocks(self) -> list[WebElement]:
        return self.driver.find_elements("css selector", '[data-testid="stCode"]')

    def copy(self, block: WebElement) -> tuple[str | None, str | None]:
        """Click a code block's copy button: (what the clipboard holds, or None where reading it is refused;
        the text the button handed to the clipboard)."""
        from selenium.webdriver.common.action_chains import ActionChains

        self.driver.execute_script(INTERCEPT)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", block)
        ActionChains(self.driver).move_to_element(block).perform()
        block.find_element("css selector", 'button[aria-label="Copy to clipboard"]').click()
        time.sleep(0.5)
        handed = self.driver.execute_script("return window.__fenrirCopied.length ? window.__fenrirCopied[0] : null;")
        clipboard = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "navigator.clipboard.readText().then(done, () => done(null));")
        return clipboard, handed

    # --- flows -----------------------------------------------------------------------------
    def ask(self, request: str, folder: Path, check: bool, timeout: float = 600) -> None:
        """Ask on the Ask page and wait for the plan (the model loads on the first ask)."""
        self.open("", "The folder the request is about")  # the default page: at the root
        self.type_into("Request", request)
        self.type_into("The folder the request is about", str(folder))
        if not check:
            self.click_label("stCheckbox", "Check the candidate plans in the sandbox")
        self.click_button("Ask")
        self.wait_for("What the agent checked", timeout, fail_on="⚠️")

    def file_override(self, run_id: str, case_id: str, score: int, reason: str, reviewer: str) -> None:
        """File an Answer override through the Review page's form and wait for its confirmation."""
        self.open(f"review?run={run_id}&case={case_id}", "Override a score")
        self.click_label("stRadio", str(score))
        self.type_into("Reason (kept with the override and shown in the reports)", reason)
        self.type_into("Reviewer", reviewer)
        self.click_button("File override")
        self.wait_for("recorded in", 120, fail_on="⚠️")


def screenshots(out: Path, request: str = "list the python files") -> list[Path]:
    """Screenshots of every page: Ask answering ``request`` about a small demo folder (the shipped model,
    checked in the sandbox when an engine answers), and a case of the newest run (one scored below 2 on
    Answer when there is one)."""
    where = paths()
    newest = require_runs(where)[0]
    results = RunStore(newest.run_id, where.runs).results()
    # a case the plan did not answer exactly shows more on its page; else the first
    cases = [r.case_id for r in sorted(results, key=lambda r: (r.scores.answer is None or r.scores.answer == 2))]
    with tempfile.TemporaryDirectory(prefix="fenrir-screenshots-") as tmp:
        demo = Path(tmp) / "project"
        for name, text in (("src/app.py", "print('hi')\n"), ("src/util.py", "X = 1\n"),
                           ("tests/test_app.py", "def test(): pass\n"), ("README.md", "# demo\n"),
                           ("notes.txt~", "old\n")):
            (demo / name).parent.mkdir(parents=True, exist_ok=True)
            (demo / name).write_text(text, encoding="utf-8")
        log = Path(tmp) / "ui.log"
        # the trace goes to a temporary file: screenshots do not add to logs/trace.jsonl
        with UiServer(log, ("--trace", str(Path(tmp) / "trace.jsonl"))) as server, \
                Browser(server.url, Path(tmp) / "apt.log") as browser:
            shots = []
            browser.ask(request, demo, check=True)
            shots.append(browser.screenshot(out / "ask.png"))
            if cases:
                browser.open(f"runs?run={newest.run_id}&case={cases[0]}", f"Case {cases[0]}")
                shots.append(browser.screenshot(out / "case.png"))
            browser.open(f"runs?run={newest.run_id}", "case(s)")
            shots.append(browser.screenshot(out / "runs.png"))
            browser.open(f"review?run={newest.run_id}", "Stale overrides")
            shots.append(browser.screenshot(out / "review.png"))
            browser.open(f"report?run={newest.run_id}", "Means", timeout=120)
            shots.append(browser.screenshot(out / "report.png"))
            return shots


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "results/screenshots")
    try:
        for path in screenshots(out):
            print(path)
    except FenrirError as exc:
        print(f"fenrir screenshots: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
