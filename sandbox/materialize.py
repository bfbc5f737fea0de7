"""Fixture spec -> a deterministic archive, built once and cached.

The archive is a PAX tar whose entries carry their mode, and their mtime
either absolute or relative to load time (``FENRIR.mtime`` records), so
``find -mtime -30`` stays true forever.  Same spec -> same bytes -> same
content hash.  Specs with git repositories or a setup script are finished in
a throwaway container of the sandbox image (git is pinned there); the git
index's stat data is zeroed afterwards so even it is byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import shlex
import struct
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from filelock import FileLock

from harness.errors import FixtureError
from harness.paths import cache_dir
from sandbox import content
from sandbox.fixture import FixtureSpec, parse_size

FORMAT_VERSION = "3"
DEFAULT_MTIME = "rel:-7200.0"  # two hours ago: inside -mtime -1, outside -mmin -60
GIT_EPOCH = 1704110400  # 2024-01-01T12:00:00Z, one hour per commit after it
STAGE = "/fenrir-stage"


@dataclass(frozen=True)
class Fixture:
    """A materialised fixture, ready to load into a sandbox."""

    name: str
    """Fixture name."""
    root: str
    """Absolute path of the tree in the sandbox (the plan's cwd)."""
    archive: Path
    """The cached PAX tar."""
    hash: str
    """sha256 of the archive bytes: the fixture's content hash."""
    files: int
    """Number of entries (files, dirs, symlinks)."""
    size: int
    """Total bytes of file content."""

    def read(self) -> bytes:
        return self.archive.read_bytes()


@dataclass
class _Entry:
    type: str  # 'd', 'f', 'l'
    mode: int
    data: bytes = b""
    target: str = ""
    mtime: str = DEFAULT_MTIME
    built_mtime: float = 0.0  # the mtime a setup/git build left (archives read back only)


def _tree(spec: FixtureSpec) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}

    def parents(path: str) -> None:
        for parent in reversed(PurePosixPath(path).parents[:-1]):
            key = str(parent)
            if key not in entries:
                entries[key] = _Entry("d", 0o755)
            elif entries[key].type != "d":
                raise FixtureError(f"fixture {spec.name}: {key} is a file but {path} needs it as a directory")

    for f in spec.files:
        parents(f.path)
        if f.dir:
            entry = _Entry("d", 0o755)
        elif f.symlink is not None:
            entry = _Entry("l", 0o777, target=f.symlink)
        elif f.generate is not None:
            g = f.generate
            size = parse_size(g.size) if g.size is not None else None
            entry = _Entry("f", 0o644, data=content.generate(g.kind, size, g.lines, g.seed))
        else:
            entry = _Entry("f", 0o644, data=(f.text or "").encode())
        if f.mode is not None:
            entry.mode = f.mode
        if f.mtime is not None:
            entry.mtime = f.mtime
        if f.path in entries and entries[f.path].type == "d" and entry.type == "d":
            entries[f.path] = entry  # an explicit dir overrides the implicit one
        elif f.path in entries:
            raise FixtureError(f"fixture {spec.name}: {f.path} is declared twice (once as a parent directory)")
        else:
            entries[f.path] = entry
    return entries


def _write_tar(entries: dict[str, _Entry], prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries):
            e = entries[path]
            info = tarfile.TarInfo(f"{prefix}{path}")
            info.uid = info.gid = 1000
            info.uname = info.gname = "user"
            info.mode = e.mode
            kind, _, value = e.mtime.partition(":")
            info.mtime = int(float(value)) if kind == "abs" else 0
            info.pax_headers = {"FENRIR.mtime": e.mtime}
            if e.type == "d":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif e.type == "l":
                info.type = tarfile.SYMTYPE
                info.linkname = e.target
                tar.addfile(info)
            else:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
    return buf.getvalue()


def _read_tar(blob: bytes, strip: str) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        for info in tar:
            name = info.name
            if name == strip or name == strip + "/":
                continue
            if not name.startswith(strip + "/"):
                continue
            path = name[len(strip) + 1:].rstrip("/")
            if info.isdir():
                entries[path] = _Entry("d", info.mode & 0o7777, built_mtime=info.mtime)
            elif info.issym():
                entries[path] = _Entry("l", 0o777, target=info.linkname, built_mtime=info.mtime)
            elif info.isfile():
                entries[path] = _Entry("f", info.mode & 0o7777, data=tar.extractfile(info).read(),
                                       built_mtime=info.mtime)
            elif info.islnk():
                target = info.linkname[len(strip) + 1:]
                entries[path] = _Entry("f", info.mode & 0o7777, data=entries[target].data, built_mtime=info.mtime)
            else:
                raise FixtureError(f"setup created {path}, which is neither file, directory nor symlink")
    return entries


def normalise_git_index(data: bytes) -> bytes:
    """Zero the stat fields (times, dev, inode, uid, gid) of a git index, v2-v4."""
    if len(data) < 32 or data[:4] != b"DIRC":
        return data
    version, count = struct.unpack("!II", data[4:12])
    if version not in (2, 3):
        return data
    out = bytearray(data)
    pos = 12
    for _ in range(count):
        out[pos:pos + 24] = bytes(24)          # ctime, mtime (s, ns), dev, ino
        out[pos + 28:pos + 36] = bytes(8)      # uid, gid
        flags = struct.unpack("!H", data[pos + 60:pos + 62])[0]
        header = 62 + (2 if version == 3 and flags & 0x4000 else 0)
        end = data.index(b"\0", pos + header)
        length = end - pos + 1
        pos += (length + 7) // 8 * 8
    out[-20:] = hashlib.sha1(bytes(out[:-20])).digest()
    return bytes(out)


def _git_script(spec: FixtureSpec) -> tuple[str, dict[str, _Entry]]:
    """A bash script that builds the repositories, and the staged commit files."""
    q = shlex.quote
    stage: dict[str, _Entry] = {}
    lines = ["set -eu", f"export GIT_AUTHOR_DATE=@{GIT_EPOCH} GIT_COMMITTER_DATE=@{GIT_EPOCH}"]
    n = 0
    for r, repo in enumerate(spec.git):
        where = spec.root if repo.path == "." else f"{spec.root}/{repo.path}"
        lines += [f"mkdir -p {q(where)}", f"cd {q(where)}", f"git init -q -b {q(repo.branch)}"]
        for c, commit in enumerate(repo.commits):
            if commit.branch:
                lines.append(f"git checkout -q {q(commit.branch)} 2>/dev/null || git checkout -q -b {q(commit.branch)}")
            written = {p: t for p, t in commit.files.items() if t is not None}
            for path, text in written.items():
                rel = f"{r}/{c}/{path}"
                for parent in list(PurePosixPath(rel).parents)[:-1]:
                    stage.setdefault(str(parent), _Entry("d", 0o755))
                stage[rel] = _Entry("f", 0o644, data=text.encode())
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
    if spec.setup:
        lines += [f"cd {q(spec.root)}", spec.setup]
    return "\n".join(lines) + "\n", stage


def _build_in_container(spec: FixtureSpec, entries: dict[str, _Entry]) -> dict[str, _Entry]:
    from docker.errors import DockerException

    from sandbox.image import LABEL, client, ensure_image

    script, stage = _git_script(spec)
    root = spec.root.lstrip("/")
    tree = {root: _Entry("d", 0o755), **{f"{root}/{p}": e for p, e in entries.items()}}
    tree.update({STAGE.lstrip("/"): _Entry("d", 0o755)})
    tree.update({f"{STAGE.lstrip('/')}/{p}": e for p, e in stage.items()})
    for parent in list(PurePosixPath(root).parents)[:-1]:
        tree.setdefault(str(parent), _Entry("d", 0o755))
    image = ensure_image()
    cl = client()
    container = cl.containers.create(
        image.tag, entrypoint=["sleep", "infinity"], network_mode="none", user="0:0",
        name=f"fenrir-fixture-{spec.name}-{uuid.uuid4().hex[:8]}", labels={LABEL: "fixture-build"},
        mem_limit="1g")  # docker's default capabilities: setup scripts run as root, like a RUN step
    try:
        container.start()
        container.put_archive("/", _write_tar(tree))
        env = {"HOME": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
        started = time.time()
        code, output = container.exec_run(["bash", "-c", script], user="0:0", workdir="/",
                                          environment=env, demux=False)
        if code != 0:
            raise FixtureError(f"fixture {spec.name}: git/setup script failed with exit {code}:\n"
                               f"{(output or b'').decode(errors='replace')[-2000:]}")
        stream, _ = container.get_archive(spec.root)
        blob = b"".join(stream)
    except DockerException as exc:
        raise FixtureError(f"fixture {spec.name}: building it in the sandbox image failed: {exc}") from exc
    finally:
        container.remove(force=True)
    built = _read_tar(blob, PurePosixPath(spec.root).name)
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
    return built


def spec_key(spec: FixtureSpec, image_digest: str | None) -> str:
    h = hashlib.sha256(f"v{FORMAT_VERSION}\n{spec.model_dump_json()}\n{image_digest or ''}".encode())
    return h.hexdigest()[:24]


def materialise(spec: FixtureSpec) -> Fixture:
    """The cached archive for ``spec``, building it on first use (process-safe)."""
    digest = None
    if spec.needs_container:
        from sandbox.image import ensure_image

        digest = ensure_image().digest
    key = spec_key(spec, digest)
    folder = cache_dir("fixtures")
    archive = folder / f"{spec.name}-{key}.tar"
    with FileLock(str(archive) + ".lock"):
        if not archive.exists():
            entries = _tree(spec)
            if spec.needs_container:
                entries = _build_in_container(spec, entries)
            tmp = archive.with_suffix(f".tmp{uuid.uuid4().hex[:6]}")
            tmp.write_bytes(_write_tar(entries))
            tmp.replace(archive)
    blob = archive.read_bytes()
    files = size = 0
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        for info in tar:
            files += 1
            size += info.size if info.isfile() else 0
    return Fixture(name=spec.name, root=spec.root, archive=archive,
                   hash=hashlib.sha256(blob).hexdigest(), files=files, size=size)


def from_directory(path: str | Path, root: str = "/work", limit: int = 128 * 1024 * 1024,
                   max_entries: int = 20_000) -> Fixture:
    """A fixture copied from a real directory (``fenrir --preview DIR``); DIR is only read.

    Files, directories and symlinks keep their modes and mtimes; symlinks are
    copied as links, never followed; other file types are skipped.  More than
    ``limit`` bytes of file content or ``max_entries`` entries is a FixtureError.
    """
    import os
    import stat as st

    base = Path(path)
    if not base.is_dir():
        raise FixtureError(f"--preview {path}: not a directory")
    entries: dict[str, _Entry] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        if len(entries) + len(dirnames) + len(filenames) > max_entries:
            raise FixtureError(f"--preview {path}: more than {max_entries:,} files and folders; "
                               f"preview a smaller directory")
        for name in sorted(dirnames) + sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(base).as_posix()
            info = full.lstat()
            mtime = f"abs:{info.st_mtime}"
            if st.S_ISLNK(info.st_mode):
                entries[rel] = _Entry("l", 0o777, target=os.readlink(full), mtime=mtime)
            elif st.S_ISDIR(info.st_mode):
                entries[rel] = _Entry("d", st.S_IMODE(info.st_mode), mtime=mtime)
            elif st.S_ISREG(info.st_mode):
                total += info.st_size
                if total > limit:
                    raise FixtureError(f"--preview {path}: more than {limit // 2**20} MiB of files; "
                                       f"preview a smaller directory")
                try:
                    data = full.read_bytes()
                except PermissionError:
                    raise FixtureError(f"--preview {path}: cannot read {rel}; fix its permissions") from None
                entries[rel] = _Entry("f", st.S_IMODE(info.st_mode), data=data, mtime=mtime)
    blob = _write_tar(entries)
    digest = hashlib.sha256(blob).hexdigest()
    archive = cache_dir("fixtures", "preview") / f"{digest[:24]}.tar"
    if not archive.exists():
        archive.write_bytes(blob)
    return Fixture(name=f"dir:{base.resolve().name}", root=root, archive=archive, hash=digest,
                   files=len(entries), size=total)
