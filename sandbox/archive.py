"""The fixture archive: a deterministic PAX tar of entries with FENRIR.mtime records.

Each entry carries its mode, and its mtime either absolute or relative to
load time (``FENRIR.mtime``: ``abs:EPOCH`` or ``rel:SECONDS``), so ``find
-mtime -30`` stays true forever.  A one-root fixture's entries are named
relative to its root; a fixture with several roots names them relative to
``/`` (``workspace/a.txt``, ``backup/b.txt``), the roots themselves left out.
"""

from __future__ import annotations

import hashlib
import io
import struct
import tarfile
from dataclasses import dataclass

from harness.errors import FixtureError

DEFAULT_MTIME = "rel:-7200.0"  # two hours ago: inside -mtime -1, outside -mmin -60


@dataclass
class Entry:
    """One path of a tree: type 'd', 'f' or 'l'."""

    type: str  # 'd', 'f', 'l'
    mode: int
    data: bytes = b""
    target: str = ""
    mtime: str = DEFAULT_MTIME
    built_mtime: float = 0.0  # the mtime a setup/git build left (archives read back only)


def write_tar(entries: dict[str, Entry], prefix: str = "") -> bytes:
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


def read_tar(blob: bytes, strip: str) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        for info in tar:
            name = info.name
            if name == strip or name == strip + "/":
                continue
            if not name.startswith(strip + "/"):
                continue
            path = name[len(strip) + 1:].rstrip("/")
            if info.isdir():
                entries[path] = Entry("d", info.mode & 0o7777, built_mtime=info.mtime)
            elif info.issym():
                entries[path] = Entry("l", 0o777, target=info.linkname, built_mtime=info.mtime)
            elif info.isfile():
                entries[path] = Entry("f", info.mode & 0o7777, data=tar.extractfile(info).read(),
                                       built_mtime=info.mtime)
            elif info.islnk():
                target = info.linkname[len(strip) + 1:]
                entries[path] = Entry("f", info.mode & 0o7777, data=entries[target].data, built_mtime=info.mtime)
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
