"""Directory listings of sandbox fixtures, for grounding the agent in the eval and in training.

A fixture's listing is made from its materialised archive (the exact tree the
sandbox loads at the fixture's root, which is the plan's working directory)
with the same code that lists a user's real directory
(:func:`agent.context.render`), so the agent sees a fixture exactly as it
would see that tree on disk.  Only names, types, symlink targets and each git
repository's ``.git/HEAD`` are read from the archive.
"""

from __future__ import annotations

import functools
import io
import tarfile

from agent.context import DEFAULT_BOUNDS, Bounds, Listing, render, tree_from_paths
from sandbox import load_fixture
from sandbox.materialize import Fixture

HEAD_MAX = 256


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


@functools.lru_cache(maxsize=64)
def _listing(fixture: Fixture, bounds: Bounds) -> Listing:
    items, heads = _members(fixture)
    return render(tree_from_paths(items, heads), fixture.root, bounds)


def fixture_listing(ref: str | Fixture, bounds: Bounds = DEFAULT_BOUNDS) -> Listing:
    """The listing the agent gets for a fixture (a name, a YAML path, or a materialised Fixture)."""
    fixture = ref if isinstance(ref, Fixture) else load_fixture(ref)
    return _listing(fixture, bounds)

