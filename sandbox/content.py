"""Deterministic generated file content: same (kind, size, seed) -> same bytes.

Binary kinds carry real magic bytes so ``file`` names them (a 6 MiB "JPEG"
is a JFIF header, seeded noise and an end-of-image marker).  Text kinds are
readable lines, for head/tail/grep/wc prompts.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import struct
import zlib

_JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010101004800480000")  # SOI + APP0 JFIF 1.01
_JPEG_TAIL = bytes.fromhex("ffd9")
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
_PDF_TAIL = b"\n%%EOF\n"

_WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
          "november oscar papa quebec romeo sierra tango uniform victor whiskey xray").split()
_LEVELS = ("INFO",) * 6 + ("DEBUG",) * 2 + ("WARN", "ERROR")
_PATHS = ("/api/items", "/api/users", "/login", "/static/app.js", "/health", "/api/orders")


def noise(size: int, seed: int) -> bytes:
    """``size`` pseudo-random bytes from ``seed`` (SHAKE-256: stable everywhere)."""
    if size <= 0:
        return b""
    return hashlib.shake_256(f"fenrir:{seed}".encode()).digest(size)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _framed(head: bytes, tail: bytes, size: int, seed: int) -> bytes:
    body = max(0, size - len(head) - len(tail))
    return (head + noise(body, seed) + tail)[: max(size, len(head) + len(tail))]


def binary(kind: str, size: int, seed: int) -> bytes:
    if kind == "bytes":
        return noise(size, seed)
    if kind == "jpeg":
        return _framed(_JPEG_HEAD, _JPEG_TAIL, size, seed)
    if kind == "png":
        head = _PNG_SIG + _png_chunk(b"IHDR", struct.pack("!IIBBBBB", 640, 480, 8, 2, 0, 0, 0))
        tail = _png_chunk(b"IEND", b"")
        return _framed(head, tail, size, seed)
    if kind == "pdf":
        return _framed(_PDF_HEAD, _PDF_TAIL, size, seed)
    if kind == "gzip":
        # a real, valid gzip stream (gunzip -t passes); its payload is noise,
        # so the compressed size lands within a few dozen bytes of ``size``
        return gzip.compress(noise(max(0, size - 40), seed), compresslevel=6, mtime=0)
    raise ValueError(f"unknown binary kind {kind!r}")


def log_lines(lines: int, seed: int) -> bytes:
    """Web-server-like log lines with fixed timestamps, levels and latencies."""
    rng = random.Random(seed)
    out = []
    t = 1714521600  # 2024-05-01T00:00:00Z
    for n in range(1, lines + 1):
        t += rng.randint(1, 9)
        hh, mm, ss = (t // 3600) % 24, (t // 60) % 60, t % 60
        level = rng.choice(_LEVELS)
        status = 500 if level == "ERROR" else rng.choice((200, 200, 200, 201, 304, 404))
        out.append(f"2024-05-01T{hh:02d}:{mm:02d}:{ss:02d}Z {level:<5} [worker-{rng.randint(1, 4)}] "
                   f"GET {rng.choice(_PATHS)}/{rng.randint(1, 999)} {status} {rng.randint(2, 900)}ms "
                   f"req={n}")
    return ("\n".join(out) + "\n").encode()


def text_lines(lines: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = [f"line {n}: " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 9)))
           for n in range(1, lines + 1)]
    return ("\n".join(out) + "\n").encode()


def generate(kind: str, size: int | None, lines: int | None, seed: int) -> bytes:
    if kind == "log":
        return log_lines(lines or 0, seed)
    if kind == "text":
        return text_lines(lines or 0, seed)
    return binary(kind, size or 0, seed)
