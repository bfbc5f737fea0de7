"""Finishing a fixture in a throwaway container: git repositories, then the setup script.

The container runs the fixture's image (the sandbox image, or the derived one
with its packages) as root with docker's default capabilities, like a
Dockerfile RUN step.  Git repositories are built commit by commit with fixed
dates under ``set -eu``: a failure there is Fenrir's or the spec's, and stops
the build.  The setup script then runs in the fixture's working directory as a
plain ``bash script`` (the way InterCode's Dockerfiles run theirs): a line that
fails does not stop it.  Each failing line is recorded, with its exit status
and the stderr it printed, through ``BASH_ENV`` traps the script never sees;
only a script that leaves nothing in the roots fails the build.
"""

from __future__ import annotations

import re
import shlex
import time
import uuid
from pathlib import PurePosixPath

from harness.errors import FixtureError
from sandbox.archive import Entry, normalise_git_index, read_tar, write_tar
from sandbox.engine import LABEL, client
from sandbox.fixture import FixtureSpec
from sandbox.owners import owner_labels
from sandbox.records import SetupFailure, SetupReport

GIT_EPOCH = 1704110400  # 2024-01-01T12:00:00Z, one hour per commit after it
STAGE = "/fenrir-stage"
BUILD_ENV = {"HOME": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
# Sourced through BASH_ENV before the setup script: marks where each command starts and which one failed.
# ($? is read first; DEBUG also fires inside the ERR handler, with the same line number.)
TRACE = ("trap '__fenrir_rc=$?; printf \"\\n\\036FENRIR-FAIL %s %s\\n\" \"$LINENO\" \"$__fenrir_rc\" >&2' ERR\n"
         "trap 'printf \"\\n\\036FENRIR-LINE %s\\n\" \"$LINENO\" >&2' DEBUG\n")
_MARKER = re.compile(r"^\x1eFENRIR-(LINE|FAIL) (\d+)(?: (\d+))?$")


def git_script(spec: FixtureSpec) -> tuple[str, dict[str, Entry], str]:
    """A bash script that builds the repositories, the staged commit files, and the last commit date."""
    q = shlex.quote
    stage: dict[str, Entry] = {}
    date = f"@{GIT_EPOCH}"
    lines = ["set -eu", f"export GIT_AUTHOR_DATE={date} GIT_COMMITTER_DATE={date}"]
    one_root = len(spec.tree_roots) == 1
    n = 0
    for r, repo in enumerate(spec.git):
        if one_root:
            where = spec.tree_roots[0] if repo.path == "." else f"{spec.tree_roots[0]}/{repo.path}"
        else:
            where = f"/{repo.path}"
        lines += [f"mkdir -p {q(where)}", f"cd {q(where)}", f"git init -q -b {q(repo.branch)}"]
        for c, commit in enumerate(repo.commits):
            if commit.branch:
                lines.append(f"git checkout -q {q(commit.branch)} 2>/dev/null || git checkout -q -b {q(commit.branch)}")
            written = {p: t for p, t in commit.files.items() if t is not None}
            for path, text in written.items():
                rel = f"{r}/{c}/{path}"
                for parent in list(PurePosixPath(rel).parents)[:-1]:
                    stage.setdefault(str(parent), Entry("d", 0o755))
                stage[rel] = Entry("f", 0o644, data=text.encode())
            if written:
                lines.append(f"cp -R {STAGE}/{r}/{c}/. .")
            for path, text in commit.files.items():
                if text is None:
                    lines.append(f"git rm -q -r --ignore-unmatch -- {q(path)}; rm -rf -- {q(path)}")
            date = commit.date or f"@{GIT_EPOCH + 3600 * n} +0000"
            n += 1
            # exported, not inline: reflog entries of later checkouts and branches use it too
            lines += ["git add -A", f"export GIT_AUTHOR_DATE={q(date)} GIT_COMMITTER_DATE={q(date)}",
                      f"git commit -q --allow-empty -m {q(commit.message)}"]
        for branch in repo.branches:
            lines.append(f"git branch {q(branch)}")
        lines.append(f"git checkout -q {q(repo.checkout or repo.branch)}")
    return "\n".join(lines) + "\n", stage, date


def parse_trace(stderr: str, script: str) -> tuple[SetupFailure, ...]:
    """The failing lines of a traced setup run, each with the stderr its command printed."""
    lines = script.splitlines()
    failures: list[SetupFailure] = []
    current, buffer = None, []
    for text in stderr.split("\n"):  # not splitlines(): it splits at the marker's \x1e too
        m = _MARKER.match(text)
        if not m:
            buffer.append(text)
            continue
        kind, number = m.group(1), int(m.group(2))
        if kind == "LINE":
            if number != current:
                current, buffer = number, []
            continue
        said = "\n".join(t for t in buffer if t.strip()).strip()
        command = lines[number - 1].strip() if 0 < number <= len(lines) else ""
        failures.append(SetupFailure(line=number, command=command[:200], status=int(m.group(3)), stderr=said[-1000:]))
        buffer = []
    return tuple(failures)


def build_in_container(spec: FixtureSpec, entries: dict[str, Entry], image) -> tuple[dict[str, Entry], SetupReport]:
    """Run the git script and the setup script over ``entries``; the tree they leave, and how the setup went.

    ``entries`` and the result are named as in the archive (see :mod:`sandbox.archive`).
    """
    from docker.errors import DockerException, NotFound

    roots = spec.tree_roots
    one_root = len(roots) == 1
    script, stage, date = git_script(spec)
    tree: dict[str, Entry] = {}
    for root in roots:
        rel = root.lstrip("/")
        for parent in list(PurePosixPath(rel).parents)[:-1]:
            tree.setdefault(str(parent), Entry("d", 0o755))
        tree[rel] = Entry("d", 0o755)
    tree.update({(f"{roots[0].lstrip('/')}/{p}" if one_root else p): e for p, e in entries.items()})
    tree[STAGE.lstrip("/")] = Entry("d", 0o755)
    tree.update({f"{STAGE.lstrip('/')}/{p}": e for p, e in stage.items()})
    if spec.setup:
        tree[f"{STAGE.lstrip('/')}/.setup.sh"] = Entry("f", 0o755, data=spec.setup.encode())
        tree[f"{STAGE.lstrip('/')}/.trace.sh"] = Entry("f", 0o644, data=TRACE.encode())
    container = client().containers.create(
        image.tag, entrypoint=["sleep", "infinity"], network_mode="none", user="0:0",
        name=f"fenrir-fixture-{spec.name}-{uuid.uuid4().hex[:8]}", labels={LABEL: "fixture-build", **owner_labels()},
        mem_limit="1g")  # docker's default capabilities: setup scripts run as root, like a RUN step
    report = SetupReport()
    try:
        container.start()
        container.put_archive("/", write_tar(tree))
        started = time.time()
        if spec.git:
            code, output = container.exec_run(["bash", "-c", script], user="0:0", workdir="/", environment=BUILD_ENV)
            if code != 0:
                raise FixtureError(f"fixture {spec.name}: building its git repositories failed with exit {code}:\n"
                                   f"{(output or b'').decode(errors='replace')[-2000:]}")
        if spec.setup:
            report = _run_setup(container, spec, date)
        built: dict[str, Entry] = {}
        for root in roots:
            try:
                stream, _ = container.get_archive(root)
                found = read_tar(b"".join(stream), PurePosixPath(root).name)
            except NotFound:
                found = {}  # the setup removed the root and did not make it again: an empty root
            built.update(found if one_root else {f"{root.lstrip('/')}/{p}": e for p, e in found.items()})
    except DockerException as exc:
        raise FixtureError(f"fixture {spec.name}: building it in the sandbox image failed: {exc}") from exc
    finally:
        container.remove(force=True)
    if spec.setup and not built:
        failed = "".join(f"\n  line {f.line}: {f.command[:80]} -> exit {f.status}: {f.stderr[-200:]}"
                         for f in report.failures[:10])
        raise FixtureError(f"fixture {spec.name}: the setup script left nothing in {', '.join(roots)} "
                           f"(exit {report.exit_code}); check root/roots against the paths it writes{failed}")
    for path, e in built.items():
        old = entries.get(path)
        same = old is not None and (old.type, old.mode, old.data, old.target) == (e.type, e.mode, e.data, e.target)
        if same:
            e.mtime = old.mtime
        elif abs(e.built_mtime - started) > 120:
            e.mtime = f"abs:{float(e.built_mtime)}"  # set on purpose by the setup (touch -t 2022...)
        else:
            e.mtime = "rel:0.0"  # made by the build: "just now" whenever the fixture loads
        if e.type == "f" and PurePosixPath(path).name == "index" and PurePosixPath(path).parent.name == ".git":
            e.data = normalise_git_index(e.data)
    return built, report


def _run_setup(container, spec: FixtureSpec, date: str) -> SetupReport:
    """The setup script, as a plain ``bash script`` in the working directory, traced."""
    roots = spec.tree_roots
    code, _ = container.exec_run(["test", "-d", spec.cwd], user="0:0")
    if code != 0:
        raise FixtureError(f"fixture {spec.name}: workdir {spec.cwd} does not exist when the setup runs "
                           f"(it is in neither the image nor the files and git of the fixture)")
    before = set(_top_level(container))
    env = dict(BUILD_ENV, BASH_ENV=f"{STAGE}/.trace.sh", GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    code, (_, err) = container.exec_run(["bash", f"{STAGE}/.setup.sh"], user="0:0", workdir=spec.cwd,
                                        environment=env, demux=True)
    failures = parse_trace((err or b"").decode(errors="replace"), spec.setup)
    taken = {r.split("/")[1] for r in roots} | {STAGE.lstrip("/")}
    outside = sorted(f"/{name}" for name in set(_top_level(container)) - before - taken)
    return SetupReport(failures=failures, exit_code=code, outside=tuple(outside))


def _top_level(container) -> list[str]:
    code, out = container.exec_run(["ls", "-A1", "/"], user="0:0")
    return (out or b"").decode(errors="replace").splitlines()
