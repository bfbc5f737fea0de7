"""Directory listings of sandbox fixtures, for grounding the agent in the eval and in training.

The agent gets the listing of a fixture's working directory exactly as it
would get the listing of that directory on a user's machine: the same code
(:mod:`agent.context`) over the same tree.

* When the working directory is the fixture's (only) root, the tree is the
  materialised archive itself, so the listing is made from its members
  without starting a container (only names, types, link targets and each git
  repository's ``.git/HEAD`` are read).
* Otherwise (a fixture that runs from ``/``, or spans several roots) the tree
  the plan sees also holds the image's own files, so :mod:`agent.context`'s
  source runs inside the sandbox, as the plan user, on the working directory,
  and its output is the listing.
"""

from __future__ import annotations

import functools
import io
import tarfile
from pathlib import Path

import agent.context
from agent.context import DEFAULT_BOUNDS, Bounds, Listing, render, tree_from_paths
from harness.errors import SandboxError
from sandbox import load_fixture
from sandbox.materialize import Fixture
from sandbox.pool import default_sandbox
from sandbox.records import Limits

HEAD_MAX = 256
PROBE_LIMITS = Limits(timeout=30)


def _members(fixture: Fixture) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    items: list[tuple[str, str, str]] = []
    heads: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(fixture.read()), mode="r:") as tar:
        for info in tar:
            name = info.name.strip("/")
            if info.isdir():
                items.append((name, "dir", ""))
            elif info.issym():
                items.append((name, "link", info.linkname))
            else:
                items.append((name, "file", ""))
                if name == ".git/HEAD" or name.endswith("/.git/HEAD"):
                    repo = name[: -len(".git/HEAD")].rstrip("/")
                    data = tar.extractfile(info)
                    if data is not None:
                        heads[repo] = data.read(HEAD_MAX).decode("utf-8", "replace")
    return items, heads


def probe_script(bounds: Bounds) -> str:
    """A bash script that prints the listing of its working directory, with agent.context's own code."""
    source = Path(agent.context.__file__).read_text(encoding="utf-8")
    call = (f"\nimport os\nprint(list_directory(os.getcwd(), Bounds({bounds.max_depth}, {bounds.max_entries}, "
            f"{bounds.max_chars}, {bounds.scan_limit})).text)\n")
    return f"python3 -I - <<'FENRIR_LISTING_EOF'\n{source}{call}FENRIR_LISTING_EOF\n"


def archive_listing(fixture: Fixture, bounds: Bounds = DEFAULT_BOUNDS) -> Listing:
    """The listing of a one-root fixture's root, from its archive (no container)."""
    items, heads = _members(fixture)
    return render(tree_from_paths(items, heads), fixture.root, bounds)


def sandbox_listing(fixture: Fixture, bounds: Bounds = DEFAULT_BOUNDS) -> Listing:
    """The listing of the fixture's working directory, made inside the sandbox as the plan user."""
    ex = default_sandbox(run="grounding").run(probe_script(bounds), fixture, PROBE_LIMITS)
    if ex.exit_code != 0 or not ex.stdout.startswith("Directory "):
        raise SandboxError(f"listing {fixture.workdir} of fixture {fixture.name} in the sandbox failed "
                           f"(exit {ex.exit_code}): {ex.stderr.strip()[-300:]}")
    text = ex.stdout.rstrip("\n")
    shown = sum(1 for line in text.splitlines()[1:] if not line.startswith("("))
    return Listing(text=text, shown=shown, total=shown, truncated="not shown)" in text)


@functools.lru_cache(maxsize=64)
def _listing(fixture: Fixture, bounds: Bounds) -> Listing:
    if fixture.workdir == fixture.root and len(fixture.roots) == 1:
        return archive_listing(fixture, bounds)
    return sandbox_listing(fixture, bounds)


def fixture_listing(ref: str | Fixture, bounds: Bounds = DEFAULT_BOUNDS) -> Listing:
    """The listing the agent gets for a fixture (a name, a YAML path, or a materialised Fixture)."""
    fixture = ref if isinstance(ref, Fixture) else load_fixture(ref)
    return _listing(fixture, bounds)
