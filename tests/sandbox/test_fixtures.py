"""Fixture specs and their materialisation."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile

import pytest

from sandbox import content
from sandbox.fixture import available, load_spec, parse_mode, parse_mtime, parse_size
from sandbox.archive import normalise_git_index
from sandbox.materialize import materialise


def test_parsers():
    assert parse_size("6MiB") == 6 * 2**20 and parse_size("5MB") == 5_000_000 and parse_size(1200) == 1200
    assert parse_mtime("-3d") == "rel:-259200.0" and parse_mtime("2024-01-01T00:00:00Z") == "abs:1704067200.0"
    assert parse_mode("0644") == parse_mode("644") == parse_mode(0o644) == 0o644


def test_every_shipped_fixture_is_valid():
    names = set(available())
    assert {"seed", "seed-b", "mini"} <= names
    for path in available().values():
        load_spec(path)


@pytest.mark.parametrize("kind, expected", [
    ("jpeg", "JPEG image data"), ("png", "PNG image data"), ("gzip", "gzip compressed data"), ("pdf", "PDF document"),
])
def test_generated_content_has_real_magic_bytes(tmp_path, kind, expected):
    data = content.binary(kind, 200_000, seed=1)
    assert content.binary(kind, 200_000, seed=1) == data != content.binary(kind, 200_000, seed=2)
    if kind != "gzip":
        assert len(data) == 200_000
    path = tmp_path / "f"
    path.write_bytes(data)
    try:
        out = subprocess.run(["file", "-b", str(path)], capture_output=True, text=True).stdout
    except FileNotFoundError:
        pytest.skip("file(1) is not installed on this host (the sandbox image has it)")
    assert out.startswith(expected)


def test_log_lines_are_deterministic():
    one = content.log_lines(120, 3)
    assert one == content.log_lines(120, 3) and one.count(b"\n") == 120


def test_same_spec_same_bytes_same_hash(tmp_path, monkeypatch):
    spec = load_spec(available()["mini"])
    monkeypatch.setenv("FENRIR_CACHE", str(tmp_path / "one"))
    one = materialise(spec)
    monkeypatch.setenv("FENRIR_CACHE", str(tmp_path / "two"))
    two = materialise(spec)
    assert one.archive != two.archive and one.read() == two.read() and one.hash == two.hash
    with tarfile.open(fileobj=io.BytesIO(one.read())) as tar:
        info = tar.getmember("sub/b.txt")
        assert info.pax_headers["FENRIR.mtime"] == "rel:-259200.0" and info.mode == 0o600


@pytest.mark.docker
def test_git_fixture_is_byte_identical_when_rebuilt(tmp_path, monkeypatch):
    spec = load_spec(available()["seed"])
    monkeypatch.setenv("FENRIR_CACHE", str(tmp_path / "one"))
    one = materialise(spec)
    monkeypatch.setenv("FENRIR_CACHE", str(tmp_path / "two"))
    two = materialise(spec)
    assert one.hash == two.hash


def test_git_index_normalisation_zeroes_stat_and_fixes_checksum():
    import struct

    path = b"a.txt"
    entry = struct.pack("!10I", 1, 2, 3, 4, 5, 6, 0o100644, 7, 8, 6) + bytes(20) + struct.pack("!H", len(path)) + path
    entry += b"\0" * (8 - len(entry) % 8)
    body = b"DIRC" + struct.pack("!II", 2, 1) + entry
    index = body + hashlib.sha1(body).digest()
    out = normalise_git_index(index)
    fields = struct.unpack("!10I", out[12:52])
    assert fields == (0, 0, 0, 0, 0, 0, 0o100644, 0, 0, 6)
    assert out[-20:] == hashlib.sha1(out[:-20]).digest()


@pytest.mark.docker
def test_a_directory_becomes_a_fixture_and_is_never_touched(tmp_path, box):
    from sandbox.materialize import from_directory

    src = tmp_path / "proj"
    (src / "sub").mkdir(parents=True)
    (src / "a~").write_text("old\n")
    (src / "sub" / "b~").write_text("older\n")
    (src / "keep.txt").write_text("keep\n")
    (src / "link").symlink_to("keep.txt")
    before = sorted((p.relative_to(src).as_posix(), p.is_symlink()) for p in src.rglob("*"))
    fx = from_directory(src)
    ex = box.run("find . -name '*~' | sort; rm -f a~; readlink link", fx)
    assert ex.stdout == "./a~\n./sub/b~\nkeep.txt\n"
    assert [c.path for c in ex.changes] == ["a~"]
    assert sorted((p.relative_to(src).as_posix(), p.is_symlink()) for p in src.rglob("*")) == before
    assert (src / "a~").read_text() == "old\n"
