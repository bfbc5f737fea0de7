"""sha256 of model files, remembered across processes so that every ``fenrir`` run does not re-read them.

Every load names its base by the sha256 of the embedded GGUF (98 MB) and its
adapter by the sha256 of the adapter's files: reading them costs more than
the rest of loading.  :func:`sha256_file` remembers a file's digest in
``cache_dir("digests")``, keyed by what changes whenever its content can have
changed: device, inode, size, mtime and ctime (in nanoseconds).  ``ctime``
cannot be set back by a user (``touch -d`` and ``os.utime`` move it to now),
so an edit in place that keeps the size and restores the mtime still misses
the cache.  Entries are written atomically (:mod:`harness.atomic`); an
unreadable or unwritable cache only costs the hashing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from harness.atomic import write_text
from harness.paths import cache_dir


def hash_file(path: Path) -> str:
    """The sha256 of a file's bytes, read now."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _identity(path: Path) -> str:
    st = os.stat(path)
    return f"{os.path.abspath(path)}\0{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def sha256_file(path: Path) -> str:
    """The sha256 of a file, from the digest cache when the file is unchanged since it was last hashed."""
    identity = _identity(path)
    try:
        entry = cache_dir("digests") / (hashlib.sha256(identity.encode()).hexdigest()[:32] + ".json")
    except OSError:  # no cache to be had
        return hash_file(path)
    try:
        record = json.loads(entry.read_text(encoding="utf-8"))
        if record.get("identity") == identity and len(record.get("sha256", "")) == 64:
            return record["sha256"]
    except (OSError, ValueError, AttributeError):
        pass
    sha = hash_file(path)
    if _identity(path) != identity:  # changed while we read it: do not remember this digest
        return sha
    try:
        write_text(entry, json.dumps({"identity": identity, "sha256": sha}))
    except OSError:
        pass
    return sha
