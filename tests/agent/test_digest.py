"""File digests are remembered across processes, and forgotten as soon as the file may have changed."""

import hashlib
import os

import pytest

from agent import digest
from agent.cpu import free_cores


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FENRIR_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "digests"


def _no_hashing(monkeypatch):
    def refuse(path):
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(digest, "hash_file", refuse)


def test_digest_is_remembered_for_an_unchanged_file(tmp_path, cache, monkeypatch):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"weights" * 1000)
    want = hashlib.sha256(model.read_bytes()).hexdigest()
    assert digest.sha256_file(model) == want
    assert len(list(cache.glob("*.json"))) == 1 and not list(cache.glob(".digest.*"))
    _no_hashing(monkeypatch)
    assert digest.sha256_file(model) == want


def test_an_edit_in_place_that_keeps_size_and_mtime_is_hashed_again(tmp_path, cache):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"a" * 4096)
    first = digest.sha256_file(model)
    stat = model.stat()
    with open(model, "r+b") as fh:  # same size, same inode
        fh.write(b"b")
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # mtime put back; ctime moves on regardless
    assert model.stat().st_size == stat.st_size and model.stat().st_mtime_ns == stat.st_mtime_ns
    assert digest.sha256_file(model) == hashlib.sha256(b"b" + b"a" * 4095).hexdigest() != first


def test_a_replaced_file_is_hashed_again(tmp_path, cache):
    model = tmp_path / "adapter_model.safetensors"
    model.write_bytes(b"one")
    assert digest.sha256_file(model) == hashlib.sha256(b"one").hexdigest()
    replacement = tmp_path / "new"
    replacement.write_bytes(b"two")
    os.replace(replacement, model)
    assert digest.sha256_file(model) == hashlib.sha256(b"two").hexdigest()


def test_a_corrupt_or_unusable_cache_only_costs_the_hashing(tmp_path, cache, monkeypatch):
    model = tmp_path / "m"
    model.write_bytes(b"x")
    digest.sha256_file(model)
    (entry,) = cache.glob("*.json")
    entry.write_text("{not json")
    assert digest.sha256_file(model) == hashlib.sha256(b"x").hexdigest()
    assert "not json" not in entry.read_text()  # rewritten
    monkeypatch.setenv("FENRIR_CACHE", str(model))  # a file where the cache folder should be
    assert digest.sha256_file(model) == hashlib.sha256(b"x").hexdigest()


def test_adapter_digest_is_unchanged_by_the_cache(tmp_path, cache, monkeypatch):
    from agent.adapter import adapter_sha256

    (tmp_path / "a" / "sub").mkdir(parents=True)
    (tmp_path / "a" / "adapter_config.json").write_text("{}")
    (tmp_path / "a" / "sub" / "w.bin").write_bytes(b"w")
    expected = hashlib.sha256()
    for name, data in (("adapter_config.json", b"{}"), ("sub/w.bin", b"w")):
        expected.update(name.encode() + b"\0")
        expected.update(hashlib.sha256(data).hexdigest().encode())
    assert adapter_sha256(tmp_path / "a") == expected.hexdigest()
    _no_hashing(monkeypatch)
    assert adapter_sha256(tmp_path / "a") == expected.hexdigest()


def test_threads_follow_the_free_cores():
    assert free_cores(2, 0.1) == 2
    assert free_cores(2, 1.0) == 1  # one core busy elsewhere
    assert free_cores(2, 7.5) == 1  # never fewer than one
    assert free_cores(16, 3.2) == 13
    assert free_cores(4, 0.0) == 4
