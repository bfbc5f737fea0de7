"""The channel to a sandbox container's supervisor: framed requests and replies over a docker attach socket.

Both ways a frame is ``!QQ`` (header length, payload length), a JSON header and
the payload bytes.  The supervisor's stdout and stderr arrive multiplexed in
docker's 8-byte stream frames; its stderr is kept apart for error messages.
No plan process holds these descriptors, so nothing a plan prints is read here.
"""

from __future__ import annotations

import json
import struct

FRAME = struct.Struct("!QQ")


class Channel:
    """Framed request/response over a docker attach socket (stdin in, stdout/stderr out)."""

    def __init__(self, sock):
        self._io = sock
        self._sock = getattr(sock, "_sock", sock)
        self._buf = bytearray()
        self._left = 0  # bytes still to come in the current stdout frame
        self.stderr = bytearray()

    def _fill(self, n: int) -> None:
        while len(self._buf) < n:
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                raise EOFError("sandbox container closed the channel")
            self._buf += chunk

    def _take(self, n: int) -> bytes:
        self._fill(n)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _stdout(self, n: int) -> bytes:
        """n bytes of the supervisor's stdout, skipping (and keeping) stderr frames."""
        out = bytearray()
        while len(out) < n:
            if not self._left:
                stream, size = struct.unpack(">BxxxL", self._take(8))
                if stream == 2:
                    self.stderr += self._take(size)
                    continue
                self._left = size
            take = min(self._left, n - len(out))
            out += self._take(take)
            self._left -= take
        return bytes(out)

    def call(self, header: dict, payload: bytes = b"", timeout: float | None = None) -> tuple[dict, bytes]:
        """Send one request and read its reply; a reply not complete within ``timeout`` seconds (None: no limit)
        raises ``TimeoutError`` (an ``OSError``), so a connection that died silently never hangs the caller."""
        if hasattr(self._sock, "settimeout"):
            self._sock.settimeout(timeout)
        data = json.dumps(header).encode()
        self._sock.sendall(FRAME.pack(len(data), len(payload)) + data + payload)
        hlen, plen = FRAME.unpack(self._stdout(FRAME.size))
        reply = json.loads(self._stdout(hlen))
        return reply, self._stdout(plen) if plen else b""

    def close(self) -> None:
        try:
            self._io.close()
        except OSError:
            pass
