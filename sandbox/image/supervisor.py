"""PID 1 of a Fenrir sandbox container: loads fixtures, runs plans, diffs, resets.

Runs inside the container as root with only CAP_SETUID, CAP_SETGID and
CAP_KILL.  Plans run as the unprivileged ``user`` (uid 1000) in a new
session; this process stays root, so a plan can neither read its memory or
``/proc/1/environ`` nor signal it.  Everything that touches the work tree
(materialising, diffing, resetting) happens in a forked child that drops to
uid 1000 too: the tree is the plan user's, and root here has no
CAP_DAC_OVERRIDE to bypass its modes.

The channel to the host is this process's stdin/stdout (docker attach).  No
plan process holds those descriptors, and ``/proc/1/fd`` is closed to them,
so nothing a plan prints can be taken for a result.  Frames, both ways::

    !QQ (header length, payload length) | header (JSON) | payload (bytes)

A fixture has one root or several (each its own tmpfs): every root is
materialised, diffed and reset.  With one root, changed paths are reported
relative to it ('.' for the root itself), as they always were; with several,
they are absolute ('/backup/a.txt', '/backup').

Standard library only: the image's python3 is the only runtime here.
"""

import bisect
import errno
import hashlib
import io
import json
import marshal
import os
import resource
import selectors
import signal
import stat
import struct
import sys
import tarfile
import time

PLAN_UID = 1000
PLAN_GID = 1000
FRAME = struct.Struct("!QQ")
SCRATCH = ("/tmp", "/home/user")
READ_CHUNK = 1 << 16

_in = sys.stdin.buffer
_out = sys.stdout.buffer


# --- framing -------------------------------------------------------------------
def _read_exact(stream, n):
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv():
    hlen, plen = FRAME.unpack(_read_exact(_in, FRAME.size))
    header = json.loads(_read_exact(_in, hlen))
    payload = _read_exact(_in, plen) if plen else b""
    return header, payload


def send(header, payload=b""):
    data = json.dumps(header, separators=(",", ":")).encode()
    _out.write(FRAME.pack(len(data), len(payload)) + data + payload)
    _out.flush()


def log(msg):
    sys.stderr.write(f"supervisor: {msg}\n")
    sys.stderr.flush()


# --- pristine fixtures -----------------------------------------------------------
class Entry:
    """One path of a pristine fixture: type 'd', 'f' or 'l'."""

    __slots__ = ("type", "mode", "data", "target", "mtime_spec", "sha256", "mtime_ns")

    def __init__(self, type_, mode, data, target, mtime_spec):
        self.type = type_
        self.mode = mode
        self.data = data
        self.target = target
        self.mtime_spec = mtime_spec
        self.sha256 = hashlib.sha256(data).hexdigest() if type_ == "f" else None
        self.mtime_ns = 0

    def state(self):
        return _state(self.type, self.mode, len(self.data) if self.type == "f" else 0,
                      self.sha256, self.target)


def _state(type_, mode, size, sha256, target):
    kind = {"d": "dir", "f": "file", "l": "symlink"}[type_]
    return {"type": kind, "mode": mode, "size": size, "sha256": sha256, "target": target}


def parse_fixture(blob):
    """Tar (with FENRIR.mtime pax records) -> {path as in the archive: Entry}."""
    entries = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
        for info in tar:
            path = os.path.normpath(info.name).lstrip("/")
            if path in (".", ""):
                continue
            if path.startswith("..") or "/../" in path:
                raise ValueError(f"fixture path escapes the tree: {info.name}")
            spec = info.pax_headers.get("FENRIR.mtime", f"abs:{info.mtime}")
            if info.isdir():
                entries[path] = Entry("d", info.mode & 0o7777, b"", None, spec)
            elif info.issym():
                entries[path] = Entry("l", 0o777, b"", info.linkname, spec)
            elif info.isfile():
                entries[path] = Entry("f", info.mode & 0o7777, tar.extractfile(info).read(), None, spec)
            else:
                raise ValueError(f"unsupported fixture entry type: {info.name}")
    return entries


def root_entry():
    """A tree's root directory itself: a tmpfs mount point, reset like any entry."""
    return Entry("d", 0o755, b"", None, "rel:-7200.0")


class Tree:
    """One root of the loaded fixture: where it is, its pristine entries, and how its paths are reported."""

    def __init__(self, root, entries, label):
        self.root = root
        self.entries = entries
        self.label = label  # '' with one root (paths relative to it), else the root ('/backup')
        self.top = root_entry()
        self.snap = {}

    def name(self, rel):
        if not self.label:
            return rel
        return self.label if rel == "." else f"{self.label}/{rel}"


def split_roots(entries, roots):
    """{archive path: Entry} -> one Tree per root (archive paths are root-relative with one root, else '/'-relative)."""
    if len(roots) == 1:
        return [Tree(roots[0], entries, "")]
    trees = [Tree(root, {}, root) for root in roots]
    for path, entry in entries.items():
        for tree in trees:
            prefix = tree.root.lstrip("/") + "/"
            if path.startswith(prefix):
                tree.entries[path[len(prefix):]] = entry
                break
        else:
            raise ValueError(f"fixture path /{path} is in none of its roots {', '.join(roots)}")
    return trees


def resolve_mtime(spec, now):
    kind, _, value = spec.partition(":")
    seconds = float(value)
    return int((now + seconds if kind == "rel" else seconds) * 1e9)


# --- file-system work, always as the plan user in a child ------------------------
def _drop_to_plan_user():
    os.setgroups([])
    os.setresgid(PLAN_GID, PLAN_GID, PLAN_GID)
    os.setresuid(PLAN_UID, PLAN_UID, PLAN_UID)
    os.umask(0o022)


def _writable(path):
    """Make a directory we own usable again if a plan locked it (chmod 000)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode) and (st.st_mode & 0o700) != 0o700:
        os.chmod(path, st.st_mode | 0o700)


def _remove(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        _writable(path)
        for name in os.listdir(path):
            _remove(os.path.join(path, name))
        os.rmdir(path)
    else:
        os.unlink(path)


def _wipe(directory):
    _writable(directory)
    for name in os.listdir(directory):
        _remove(os.path.join(directory, name))


def _write_entry(root, rel, entry):
    path = os.path.join(root, rel)
    if entry.type == "d":
        os.mkdir(path, 0o700)
    elif entry.type == "l":
        os.symlink(entry.target, path)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            view = memoryview(entry.data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)


def _finish_entry(root, rel, entry):
    """Mode and mtime, applied after a directory's contents are in place."""
    path = os.path.join(root, rel)
    if entry.type != "l":
        os.chmod(path, entry.mode)
    os.utime(path, ns=(entry.mtime_ns, entry.mtime_ns), follow_symlinks=False)


def _stat_key(st):
    return (stat.S_IFMT(st.st_mode), st.st_mode & 0o7777, st.st_size,
            st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _walk(root, visit):
    """Depth-first lstat of every path below root (plan-locked dirs reopened)."""
    stack = [""]
    while stack:
        rel = stack.pop()
        base = os.path.join(root, rel) if rel else root
        try:
            # a directory a plan made unsearchable (chmod 644) lists but cannot be stat'ed into; its own
            # mode was recorded when its parent was listed, and reset restores it
            _writable(base)
        except PermissionError:
            pass
        try:
            it = os.scandir(base)
        except PermissionError:
            _writable(base)
            it = os.scandir(base)
        with it:
            for de in it:
                child = f"{rel}/{de.name}" if rel else de.name
                st = de.stat(follow_symlinks=False)
                visit(child, st)
                if stat.S_ISDIR(st.st_mode):
                    stack.append(child)


def snapshot(root):
    snap = {}
    _walk(root, lambda rel, st: snap.__setitem__(rel, _stat_key(st)))
    return snap


def materialise(root, entries, now, top):
    for entry in entries.values():
        entry.mtime_ns = resolve_mtime(entry.mtime_spec, now)
    _wipe(root)
    for rel in sorted(entries):
        _write_entry(root, rel, entries[rel])
    for rel in sorted(entries, reverse=True):
        _finish_entry(root, rel, entries[rel])
    top.mtime_ns = resolve_mtime(top.mtime_spec, now)
    _finish_entry(root, "", top)
    snap = snapshot(root)
    snap.update(pin_atimes(root, entries, top))
    return snap


def pin_atimes(root, entries, top, only=None):
    """Give every pristine entry its pristine access time (its mtime, as materialise set it) back.

    Reads move atimes (a tmpfs is relatime: the first read after a write does), and the diff did not
    look at them, so a file a plan or the diff's own walk had read kept its new atime for the next plan:
    ``find -atime -1``, ``find -amin``, ``ls -lu`` and ``stat`` answered by what ran before in the same
    warm sandbox.  ``only``: the entries to look at (the diff's list of those it saw read, and every folder
    it walked), else all.  Returns the snapshot keys that moved (setting times moves ctime)."""
    updates = {}
    listed = entries.items() if only is None else [(rel, entries[rel]) for rel in only]
    for rel, entry in [("", top), *listed]:
        path = os.path.join(root, rel) if rel else root
        try:
            st = os.lstat(path)
            if st.st_atime_ns != entry.mtime_ns:
                os.utime(path, ns=(entry.mtime_ns, st.st_mtime_ns), follow_symlinks=False)
                if rel:
                    updates[rel] = _stat_key(os.lstat(path))
        except (FileNotFoundError, PermissionError):
            continue
    return updates


def _current_state(root, rel, st):
    path = os.path.join(root, rel)
    mode = st.st_mode & 0o7777
    if stat.S_ISDIR(st.st_mode):
        return _state("d", mode, 0, None, None)
    if stat.S_ISLNK(st.st_mode):
        return _state("l", mode, 0, None, os.readlink(path))
    if stat.S_ISREG(st.st_mode):
        if not mode & 0o400:
            os.chmod(path, mode | 0o400)
        digest = hashlib.sha256()
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                digest.update(chunk)
        finally:
            os.close(fd)
        return _state("f", mode, st.st_size, digest.hexdigest(), None)
    kind = "fifo" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "other"
    return {"type": kind, "mode": mode, "size": st.st_size, "sha256": None, "target": None}


def diff(root, entries, snap, top):
    """Compare the tree with the pristine fixture.

    Returns (changes, restore, stale_dirs): the reported changes, the pristine
    paths to rewrite, and directories whose mtime alone moved.  A path whose
    (type, mode, size, mtime, ctime, inode) is unchanged is unchanged: a plan
    cannot set ctime, so content edits that keep size and mtime still show.
    """
    changes, restore, added, stale_dirs, read = [], [], [], [], []
    seen = set()

    def visit(rel, st):
        seen.add(rel)
        pristine = entries.get(rel)
        if pristine is not None and (stat.S_ISDIR(st.st_mode) or st.st_atime_ns != pristine.mtime_ns):
            read.append(rel)  # a folder's atime moves when this walk lists it, after its lstat
        key = _stat_key(st)
        old = snap.get(rel)
        if old == key:
            return
        entry = entries.get(rel)
        if entry is None:
            added.append(rel)
            changes.append({"path": rel, "kind": "added", "before": None,
                            "after": _current_state(root, rel, st), "fields": []})
            return
        now = _current_state(root, rel, st)
        was = entry.state()
        fields = [f for f, a, b in (
            ("type", was["type"], now["type"]),
            ("content", (was["sha256"], was["target"]), (now["sha256"], now["target"])),
            ("mode", was["mode"], now["mode"]),
        ) if a != b]
        mtime_moved = st.st_mtime_ns != entry.mtime_ns
        if entry.type != "d" and mtime_moved and now["type"] == was["type"]:
            fields.append("mtime")
        if fields:
            changes.append({"path": rel, "kind": "modified", "before": was, "after": now,
                            "fields": fields})
            restore.append(rel)
        elif entry.type == "d" and mtime_moved:
            stale_dirs.append(rel)
        else:
            restore.append(rel)  # only ctime/inode moved: refresh, cheap and safe

    st = os.lstat(root)
    if st.st_mode & 0o7777 != top.mode:
        changes.append({"path": ".", "kind": "modified", "before": top.state(),
                        "after": _state("d", st.st_mode & 0o7777, 0, None, None), "fields": ["mode"]})
    _walk(root, visit)
    for rel in entries:
        if rel not in seen:
            changes.append({"path": rel, "kind": "removed", "before": entries[rel].state(),
                            "after": None, "fields": []})
            restore.append(rel)
    changes.sort(key=lambda c: c["path"])
    return changes, restore, added, stale_dirs, read


def _relink_in_order(root, entries, directory, first):
    """Give a directory back the order its entries list in, after reset wrote some of them again.

    A tmpfs lists a directory's entries by when they were linked into it (newest first), not by name, and
    ``find``, ``ls -f``, ``du`` and globs-free walks print in that order.  :func:`materialise` links them in
    sorted order; a file reset wrote again was linked last, so the same fixture printed its files in
    another order once a plan had changed one of them, and a reference and a candidate run in one sandbox
    differed on that alone.  Renaming every pristine child away and back, in materialise's order, links
    them again in that order.  Only ``first`` (the first name written again) and the names after it need
    it: those before it still stand where materialise put them, whichever end a tmpfs lists new links at.
    Returns the children relinked (their ctime moved).
    """
    base = os.path.join(root, directory) if directory else root
    prefix = directory + "/" if directory else ""
    names = sorted(rel[len(prefix):] for rel in entries if os.path.dirname(rel) == directory)
    names = names[bisect.bisect_left(names, first):]
    if len(names) < 2:
        return []
    _writable(base)
    spare = os.path.join(base, ".fenrir-relink")
    for name in names:
        path = os.path.join(base, name)
        os.rename(path, spare)
        os.rename(spare, path)
    return [prefix + name for name in names]


def reset(root, entries, restore, added, stale_dirs, top, read=None):
    """Put back exactly what the plan changed; returns snapshot updates."""
    touched_dirs = set(stale_dirs)
    added_set = set(added)
    for rel in added:
        parent = os.path.dirname(rel)
        if parent in added_set:
            continue  # goes with its added parent
        _writable(os.path.join(root, parent) if parent else root)
        _remove(os.path.join(root, rel))
        touched_dirs.add(parent)
    rewrite = sorted(set(restore))
    for rel in rewrite:
        path = os.path.join(root, rel)
        parent = os.path.dirname(path)
        _writable(parent)
        entry = entries[rel]
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None and entry.type == "d" and stat.S_ISDIR(st.st_mode):
            continue  # keep the directory and its (separately diffed) children
        if st is not None:
            _remove(path)
        _write_entry(root, rel, entry)
        touched_dirs.add(os.path.dirname(rel))
    # rewrite is sorted, so this is each folder's first name put back; a kept folder counts too, since a
    # plan that moved it away and back linked it again
    first = {}
    for rel in rewrite:
        first.setdefault(os.path.dirname(rel), os.path.basename(rel))
    relinked = []
    for parent, name in first.items():
        relinked += _relink_in_order(root, entries, parent, name)
        touched_dirs.add(parent)
    dirs = {d for d in touched_dirs if d in entries}
    for rel in sorted(set(rewrite) | dirs, reverse=True):
        _finish_entry(root, rel, entries[rel])
    _finish_entry(root, "", top)  # always: cheap, and covers chmod/touch of '.'
    updates = {}
    gone = []
    for rel in set(rewrite) | dirs | added_set | set(relinked):
        try:
            updates[rel] = _stat_key(os.lstat(os.path.join(root, rel)))
        except FileNotFoundError:
            gone.append(rel)
    updates.update(pin_atimes(root, entries, top, read))
    return updates, gone


# --- running a plan ----------------------------------------------------------------
_CHLD_PIPE = None  # (read, write) SIGCHLD wake-up pipe, only where the kernel has no pidfd_open


def _watch_children():
    """Set up the SIGCHLD wake-up pipe when pidfd_open is missing (gVisor's runsc: ENOSYS); else nothing."""
    global _CHLD_PIPE
    try:
        os.close(os.pidfd_open(os.getpid()))
        return
    except OSError as exc:
        if exc.errno != errno.ENOSYS:
            raise
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    _CHLD_PIPE = (r, w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # a handler, so the wake-up fd is written
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)


class ExitWatch:
    """A descriptor that turns readable when the plan's shell exits: its pidfd, or the SIGCHLD pipe."""

    def __init__(self, pid):
        self.pid, self.status = pid, None
        self.fd = _CHLD_PIPE[0] if _CHLD_PIPE else os.pidfd_open(pid)

    def exited(self):
        """Called when fd is readable: True once the shell has exited (the pipe also wakes for other children)."""
        if not _CHLD_PIPE or self.status is not None:
            return True
        try:
            while os.read(self.fd, 256):
                pass
        except BlockingIOError:
            pass
        done, status = os.waitpid(self.pid, os.WNOHANG)
        if done:
            self.status = status
        return bool(done)

    def wait(self):
        """The shell's wait status (reaped here unless exited() already did)."""
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)
        return self.status

    def close(self):
        if not _CHLD_PIPE:
            os.close(self.fd)


def kill_all():
    """SIGKILL every process but PID 1 (setsid escapes included), then reap."""
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            break
        _reap()
    _reap()


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _plan_child_setup(limits):
    def setup():
        os.setsid()
        # Python ignores these; ignored signals survive exec, and plans expect the defaults
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        for name, value in limits.items():
            res = getattr(resource, f"RLIMIT_{name.upper()}")
            resource.setrlimit(res, (value, value))
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")  # the OOM killer takes the plan, never PID 1
        _drop_to_plan_user()
    return setup


def run_plan(req):
    script = req["script"]
    limit = int(req["output_limit"])
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    null = os.open("/dev/null", os.O_RDONLY)
    env = dict(req["env"])
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child: becomes the plan
        try:
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.closerange(3, 65536)
            _plan_child_setup(req["rlimits"])()
            os.chdir(req["cwd"])
            os.execve("/bin/bash", ["bash", "-c", script], env)
        except BaseException as exc:  # noqa: BLE001 - report and die, never return
            os.write(2, f"fenrir: cannot start plan: {exc}\n".encode())
        os._exit(127)
    os.close(out_w)
    os.close(err_w)
    os.close(null)
    watch = ExitWatch(pid)
    buffers = {out_r: bytearray(), err_r: bytearray()}
    totals = {out_r: 0, err_r: 0}
    sel = selectors.DefaultSelector()
    sel.register(out_r, selectors.EVENT_READ)
    sel.register(err_r, selectors.EVENT_READ)
    sel.register(watch.fd, selectors.EVENT_READ)
    deadline = start + float(req["timeout"])
    timed_out = False
    status = None
    open_pipes = 2
    while open_pipes:
        timeout = None if status is not None else max(0.0, deadline - time.monotonic())
        events = sel.select(timeout)
        # past the deadline even when events keep coming (a plan's children dying wake the SIGCHLD pipe)
        if status is None and not timed_out and (not events or time.monotonic() >= deadline):
            timed_out = True
            os.kill(pid, signal.SIGKILL)
        for key, _ in events:
            fd = key.fd
            if fd == watch.fd:
                if watch.exited():
                    sel.unregister(fd)
                continue
            chunk = os.read(fd, READ_CHUNK)
            if not chunk:
                sel.unregister(fd)
                os.close(fd)
                open_pipes -= 1
                continue
            totals[fd] += len(chunk)
            room = limit - len(buffers[fd])
            if room > 0:
                buffers[fd] += chunk[:room]
        if status is None and (timed_out or not any(k.fd == watch.fd for k in sel.get_map().values())):
            status = watch.wait()
            wall = time.monotonic() - start
            kill_all()  # background and setsid children die with the plan
    if status is None:
        status = watch.wait()
        wall = time.monotonic() - start
    watch.close()
    sel.close()
    kill_all()
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        exit_code = 128 + sig
    else:
        sig = None
        exit_code = os.WEXITSTATUS(status)
    stdout, stderr = bytes(buffers[out_r]), bytes(buffers[err_r])
    header = {
        "exit_code": exit_code,
        "signal": sig,
        "timed_out": timed_out,
        "wall_time": wall,
        "stdout_bytes": totals[out_r],
        "stderr_bytes": totals[err_r],
        "stdout_truncated": totals[out_r] > limit,
        "stderr_truncated": totals[err_r] > limit,
        "stdout_len": len(stdout),
    }
    return header, stdout + stderr


# --- the loop ------------------------------------------------------------------------
class Supervisor:
    def __init__(self):
        self.cache = {}          # fixture hash -> {archive path: Entry}
        self.current = None      # hash of the fixture in the trees
        self.trees = []          # one Tree per root of the loaded fixture
        self.pending = None      # (pid, read fd) of a reset still running

    def _fork_fs(self, work):
        """Run work() as the plan user in a child; return its marshalled result."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            code = 0
            try:
                _drop_to_plan_user()
                result = work(w)
            except BaseException as exc:  # noqa: BLE001 - sent to the parent
                result = ("error", f"{type(exc).__name__}: {exc}")
                code = 1
            _send_marshal(w, result)
            os._exit(code)
        os.close(w)
        return pid, r

    def _wait_pending(self):
        if self.pending is None:
            return
        pid, r = self.pending
        self.pending = None
        result = _recv_marshal(r)
        os.close(r)
        os.waitpid(pid, 0)
        if isinstance(result, tuple) and result and result[0] == "error":
            self.current = None  # the tree is in an unknown state: the next load rewrites it whole
            raise RuntimeError(f"reset failed: {result[1]}")
        for tree, (updates, gone) in zip(self.trees, result):
            tree.snap.update(updates)
            for rel in gone:
                tree.snap.pop(rel, None)

    def op_hello(self, req, payload):
        return {"ok": True, "pid": os.getpid(), "uid": os.getuid()}, b""

    def op_shutdown(self, req, payload):
        self._wait_pending()
        return {"ok": True}, b""

    def op_load(self, req, payload):
        self._wait_pending()
        digest = req["hash"]
        if digest not in self.cache:
            if not payload:
                return {"ok": False, "need_payload": True}, b""
            self.cache[digest] = parse_fixture(payload)
            while len(self.cache) > int(req.get("keep", 8)):
                oldest = next(iter(self.cache))
                if oldest == digest:
                    break
                del self.cache[oldest]
        self.current = None
        trees = split_roots(self.cache[digest], req["roots"])
        epoch = req.get("epoch")
        now = time.time() if epoch is None else float(epoch)
        pid, r = self._fork_fs(lambda w: [materialise(t.root, t.entries, now, t.top) for t in trees])
        result = _recv_marshal(r)
        os.close(r)
        os.waitpid(pid, 0)
        if isinstance(result, tuple) and result and result[0] == "error":
            return {"ok": False, "error": f"cannot materialise fixture: {result[1]}"}, b""
        workdir = req.get("workdir") or trees[0].root
        if not os.path.isdir(workdir):
            return {"ok": False, "error": f"workdir {workdir} does not exist in the sandbox: it is in neither "
                                          f"the image nor the fixture"}, b""
        for tree, snap in zip(trees, result):
            tree.snap = snap
            # the parent keeps the resolved mtimes for diffing
            for rel, key in snap.items():
                if rel in tree.entries:
                    tree.entries[rel].mtime_ns = key[3]
            tree.top.mtime_ns = os.stat(tree.root).st_mtime_ns
        self.trees = trees
        self.current = digest
        return {"ok": True, "files": sum(len(t.entries) for t in trees)}, b""

    def op_run(self, req, payload):
        self._wait_pending()
        if self.current is None or self.current != req["hash"]:
            return {"ok": False, "error": "fixture not loaded"}, b""
        if not os.path.isdir(req["cwd"]):
            return {"ok": False, "error": f"workdir {req['cwd']} does not exist in the sandbox: it is in neither "
                                          f"the image nor the fixture"}, b""
        header, out = run_plan(req)
        if req.get("probe"):
            # the graders' own read-only look at the tree, after every plan process is dead
            probe = dict(req, script=req["probe"], timeout=10)
            probe_header, probe_out = run_plan(probe)
            header["probe_stdout"] = probe_out[:probe_header["stdout_len"]].decode("utf-8", "replace")
            header["probe_exit_code"] = probe_header["exit_code"]
        trees = self.trees

        def work(w):
            changes, resets = [], []
            for t in trees:
                found, restore, added, stale, read = diff(t.root, t.entries, t.snap, t.top)
                changes += [dict(c, path=t.name(c["path"])) for c in found]
                resets.append((t, restore, added, stale, read))
            changes.sort(key=lambda c: c["path"])
            _send_marshal(w, ("diff", json.dumps(changes)))
            done = [reset(t.root, t.entries, restore, added, stale, t.top, read)
                    for t, restore, added, stale, read in resets]
            for directory in SCRATCH:
                _wipe(directory)
            return done

        pid, r = self._fork_fs(work)
        first = _recv_marshal(r)
        if first[0] == "error":
            os.close(r)
            os.waitpid(pid, 0)
            self.current = None
            return {"ok": False, "error": f"diff failed: {first[1]}"}, b""
        header["changes"] = json.loads(first[1])
        header["ok"] = True
        self.pending = (pid, r)  # the reset finishes while the host reads the result
        return header, out

    def serve(self):
        while True:
            try:
                req, payload = recv()
            except EOFError:
                return
            op = getattr(self, f"op_{req.get('op')}", None)
            try:
                if op is None:
                    send({"ok": False, "error": f"unknown op {req.get('op')!r}"})
                    continue
                header, out = op(req, payload)
            except Exception as exc:  # noqa: BLE001 - reported to the host, which raises
                log(f"{type(exc).__name__}: {exc}")
                header, out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}, b""
            send(header, out)
            if req.get("op") == "shutdown":
                return


def _send_marshal(fd, obj):
    data = marshal.dumps(obj)
    data = struct.pack("!Q", len(data)) + data
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _recv_marshal(fd):
    def exact(n):
        buf = bytearray()
        while len(buf) < n:
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                raise EOFError("file-system child died")
            buf += chunk
        return bytes(buf)
    (n,) = struct.unpack("!Q", exact(8))
    return marshal.loads(exact(n))


if __name__ == "__main__":
    if os.getpid() != 1:
        log("warning: not PID 1; kill_all() would reach processes outside the sandbox")
        sys.exit(2)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _watch_children()
    Supervisor().serve()
