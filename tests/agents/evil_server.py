"""A malicious HTTP server on a loopback port: each connection gets raw bytes from a script.

``EvilServer(script)`` where ``script(conn, request_bytes)`` writes whatever it wants to the
socket (a bad status line, a thousand headers, a body dripped one byte at a time, ...). It records
the requests it saw, so a test can check what an agent sent (for example whether a bearer token
reached it). Every connection is handled in a daemon thread; ``close()`` stops accepting and
closes every open connection, so a dripping script never outlives its test.
"""

from __future__ import annotations

import socket
import threading
import time


def read_request(conn: socket.socket, limit: int = 1 << 20) -> bytes:
    """Read one request head (and a Content-Length body) from ``conn``."""
    conn.settimeout(5)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < limit:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest
    except OSError:
        return data


class EvilServer:
    def __init__(self, script):
        self.script = script
        self.requests: list[bytes] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.closed = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            req = read_request(conn)
            self.requests.append(req)
            self.script(conn, req)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def drip(self, conn, data: bytes, every: float = 0.2):
        """Send ``data`` one byte at a time until it ends or the server closes."""
        for byte in data:
            if self.closed.wait(every):
                return
            conn.sendall(bytes([byte]))

    def close(self):
        self.closed.set()
        try:
            self.sock.close()
        except OSError:
            pass
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass


def raw(data: bytes):
    """A script that answers every request with ``data`` and closes."""

    def script(conn, _req):
        conn.sendall(data)

    return script


def ok(body: bytes, *, status: str = "200 OK", extra: bytes = b"") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nContent-Type: application/json\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


def wait_for(predicate, timeout: float = 10.0, step: float = 0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
