"""Grounding listings: what is shown, what is never read, the bounds, determinism."""

import os

from agent.context import Bounds, branch_of, list_directory, render, scan_directory, tree_from_paths


def _tree(root, files=(), dirs=(), links=()):
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    for f in files:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_text("secret-content-" + f + "\n")
    for src, dst in links:
        os.symlink(dst, root / src)


def test_listing_shows_names_types_links_and_git_branches_never_contents(tmp_path):
    _tree(tmp_path, files=["notes.txt", "reports/2025/sales.csv", "web/src/app.py"], dirs=["empty"],
          links=[("latest", "notes.txt")])
    (tmp_path / "web" / ".git").mkdir()
    (tmp_path / "web" / ".git" / "HEAD").write_text("ref: refs/heads/develop\n")
    (tmp_path / "web" / ".git" / "config").write_text("[core]\n")
    listing = list_directory(tmp_path)
    lines = listing.text.splitlines()
    assert lines[0] == f"Directory {tmp_path.resolve()}:"
    assert lines[1:] == [
        "empty/",
        "latest -> notes.txt",
        "notes.txt",
        "reports/",
        "reports/2025/",
        "reports/2025/sales.csv",
        "web/ (git repository, branch develop)",
        "web/src/",
        "web/src/app.py",
    ]
    assert "secret-content" not in listing.text and ".git" not in listing.text
    assert listing.shown == 9 and not listing.truncated
    assert len(listing.sha256) == 64 and listing.chars == len(listing.text)


def test_an_unreadable_file_is_listed_by_name_only(tmp_path):
    _tree(tmp_path, files=["locked.txt"])
    (tmp_path / "locked.txt").chmod(0)
    assert list_directory(tmp_path).text.splitlines()[1:] == ["locked.txt"]


def test_the_directory_itself_in_a_repository_says_so(tmp_path):
    _tree(tmp_path, files=["a.py"])
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("4f2a9c0e1d\n")
    assert list_directory(tmp_path).text.splitlines() == [
        f"Directory {tmp_path.resolve()} (git repository, branch detached):", "a.py"]


def test_depth_bound_says_how_much_is_hidden(tmp_path):
    _tree(tmp_path, files=["a/b/c/d.txt", "a/b/c/e.txt", "a/b/f.txt"])
    lines = list_directory(tmp_path, Bounds(max_depth=2)).text.splitlines()[1:]
    assert lines == ["a/", "a/b/ (2 entries not shown)"]
    assert list_directory(tmp_path, Bounds(max_depth=3)).text.splitlines()[1:] == [
        "a/", "a/b/", "a/b/c/ (2 entries not shown)", "a/b/f.txt"]


def test_entry_bound_is_breadth_first_and_round_robin(tmp_path):
    _tree(tmp_path, files=[f"x/{i}.txt" for i in range(5)] + [f"y/{i}.txt" for i in range(5)] + ["top.txt"])
    listing = list_directory(tmp_path, Bounds(max_entries=7))
    lines = listing.text.splitlines()[1:]
    # every name at depth 1 first, then one of x, one of y, one of x, ...
    assert lines == ["top.txt", "x/ (3 entries not shown)", "x/0.txt", "x/1.txt",
                     "y/ (3 entries not shown)", "y/0.txt", "y/1.txt"]
    assert listing.truncated and listing.shown == 7


def test_top_level_overflow_and_char_bound(tmp_path):
    _tree(tmp_path, files=[f"file-{i:03d}.txt" for i in range(200)])
    listing = list_directory(tmp_path)
    assert listing.chars <= Bounds().max_chars
    assert listing.text.splitlines()[-1] == f"({200 - listing.shown} more entries not shown)"


def test_never_expanded_folders_are_counted(tmp_path):
    _tree(tmp_path, files=["node_modules/a/index.js", "node_modules/b/index.js", "main.js"])
    assert list_directory(tmp_path).text.splitlines()[1:] == ["main.js", "node_modules/ (2 entries not shown)"]


def test_scan_stops_at_its_limit(tmp_path):
    _tree(tmp_path, files=[f"d/{i}" for i in range(50)])
    tree = scan_directory(tmp_path, Bounds(scan_limit=10))
    assert "d" in tree.nodes and not any(p.startswith("d/") for p in tree.nodes)
    assert render(tree, "/x", Bounds(scan_limit=10)).text.splitlines()[1:] == ["d/ (50 entries not shown)"]


def test_empty_directory(tmp_path):
    assert list_directory(tmp_path).text.splitlines()[1:] == ["(empty)"]


def test_an_archive_of_the_same_tree_gives_the_same_text(tmp_path):
    """What the harness builds from a fixture archive equals what a user's directory shows."""
    _tree(tmp_path, files=["a/b/c/d/e.txt", "a/x.txt", "r/README.md"], links=[("l", "a/x.txt")])
    (tmp_path / "r" / ".git" / "refs").mkdir(parents=True)
    (tmp_path / "r" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    items = []
    for dirpath, dirnames, filenames in os.walk(tmp_path):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, tmp_path)
            kind = "link" if os.path.islink(full) else "dir" if os.path.isdir(full) else "file"
            items.append((rel, kind, os.readlink(full) if kind == "link" else ""))
    from_archive = render(tree_from_paths(items, {"r": "ref: refs/heads/main\n"}), str(tmp_path.resolve()))
    assert from_archive.text == list_directory(tmp_path).text


def test_branch_of_head_text():
    assert branch_of("ref: refs/heads/feature/x\n") == "feature/x"
    assert branch_of("ref: refs/remotes/origin/main") == "refs/remotes/origin/main"
    assert branch_of("0123abcd\n") == "detached"


def test_same_tree_same_bytes(tmp_path):
    _tree(tmp_path, files=[f"{c}/{i}.md" for c in "zyxw" for i in range(9)])
    assert list_directory(tmp_path).text == list_directory(tmp_path).text
