"""The agent's one HTTP client: an overall deadline per request, bounded sizes, strict parsing.

Standard library only (sockets, ``ssl``), so that nothing about a response is left to a parser
we do not control. Every way a request can fail (refused connection, DNS, TLS, a deadline that
passes while a server drips bytes, a malformed status line, too many or too long headers, a bad
chunk size, a body over the cap, a redirect to another origin) raises one exception,
``TransportError``, with a stable ``code`` the agent reports. Nothing else escapes ``request``.

::

    from agents.transport import request, TransportError

    resp = request("POST", url, headers={"Authorization": f"Bearer {token}"},
                   body=payload_bytes, deadline_s=10, max_bytes=64 * 1024)
    resp.status, resp.header("content-type"), resp.body, resp.json()

Redirects (301, 302, 303, 307, 308) are followed up to ``max_redirects`` times and only to the
same origin (scheme, host and port): a redirect to another origin is refused outright, so
credentials in ``headers`` never reach a host they were not meant for.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

USER_AGENT = "sovereign-agent"
MAX_STATUS_LINE = 1024
MAX_HEADER_LINE = 8 * 1024
MAX_HEADERS = 64
MAX_HEADER_BYTES = 32 * 1024
MAX_CHUNK_LINE = 1024
MAX_JSON_DEPTH = 64
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_READ_SIZE = 64 * 1024


class TransportError(Exception):
    """A request that produced no usable response. ``code`` is stable; ``message`` says why.

    Codes: ``bad_url``, ``unreachable`` (DNS, refused, reset, TLS), ``timeout`` (the overall
    deadline passed), ``bad_http`` (anything unparseable in the response), ``too_large`` (headers
    or body over their caps), ``redirect_refused`` (another origin, or too many), ``malformed``
    (``Response.json`` on a body that is not strict JSON).
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    url: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        """The last value of a header, case-insensitively."""
        name = name.lower()
        for key, value in reversed(self.headers):
            if key == name:
                return value
        return default

    def json(self, *, max_depth: int = MAX_JSON_DEPTH):
        """The body as strict JSON (see ``parse_json``); ``TransportError("malformed")``."""
        try:
            return parse_json(self.body, max_depth=max_depth)
        except ValueError as exc:
            raise TransportError("malformed", str(exc)) from None


# --------------------------------------------------------------------------- strict JSON


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")) or value != value:
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _check(obj, depth: int, max_depth: int) -> None:
    if depth > max_depth:
        raise ValueError(f"nesting deeper than {max_depth}")
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("string with a lone surrogate") from None
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _check(key, depth + 1, max_depth)
            _check(value, depth + 1, max_depth)
    elif isinstance(obj, list):
        for value in obj:
            _check(value, depth + 1, max_depth)


def _nesting_ok(text: str, max_depth: int) -> None:
    """Reject deep nesting before ``json.loads`` can recurse on it (RecursionError)."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                raise ValueError(f"nesting deeper than {max_depth}")
        elif ch in "]}":
            depth -= 1


def parse_json(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH):
    """Strict JSON: UTF-8, no NaN/Infinity, no overflowing numbers, no lone surrogates,
    bounded nesting. Raises ``ValueError`` with a reason, never anything else."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc.reason}") from None
    _nesting_ok(text, max_depth)
    try:
        obj = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("nesting too deep") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    _check(obj, 0, max_depth + 1)
    return obj


# --------------------------------------------------------------------------- the client


class _Deadline:
    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TransportError("timeout", "the request's deadline passed")
        return left


class _Reader:
    """Reads from a socket, re-arming the socket timeout to what is left of the deadline."""

    def __init__(self, sock: socket.socket, deadline: _Deadline):
        self.sock = sock
        self.deadline = deadline
        self.buf = bytearray()
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        self.sock.settimeout(self.deadline.left())
        try:
            chunk = self.sock.recv(_READ_SIZE)
        except TimeoutError:
            raise TransportError("timeout", "the request's deadline passed") from None
        except (OSError, ssl.SSLError) as exc:
            raise TransportError("unreachable", f"connection broken: {exc}") from None
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def line(self, limit: int, what: str) -> bytes:
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                if end > limit:
                    raise TransportError("too_large", f"{what} longer than {limit} bytes")
                line = bytes(self.buf[: end + 1])
                del self.buf[: end + 1]
                return line.rstrip(b"\r\n")
            if len(self.buf) > limit:
                raise TransportError("too_large", f"{what} longer than {limit} bytes")
            if not self._fill():
                raise TransportError("bad_http", f"connection closed while reading the {what}")

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise TransportError("bad_http", "connection closed before the body ended")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def rest(self, cap: int) -> bytes:
        while not self.eof:
            if len(self.buf) > cap:
                raise TransportError("too_large", f"body exceeds the cap of {cap} bytes")
            self._fill()
        if len(self.buf) > cap:
            raise TransportError("too_large", f"body exceeds the cap of {cap} bytes")
        data = bytes(self.buf)
        self.buf.clear()
        return data


def _origin(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TransportError("bad_url", f"{url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError("bad_url", f"{url!r}: need an http(s) URL with a host")
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def _connect(scheme: str, host: str, port: int, deadline: _Deadline) -> socket.socket:
    try:
        sock = socket.create_connection((host, port), timeout=deadline.left())
    except TimeoutError:
        raise TransportError("timeout", f"connecting to {host}:{port}") from None
    except OSError as exc:
        raise TransportError("unreachable", f"{host}:{port}: {exc}") from None
    if scheme == "https":
        try:
            sock.settimeout(deadline.left())
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        except TransportError:
            sock.close()
            raise
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise TransportError("unreachable", f"TLS with {host}:{port}: {exc}") from None
    return sock


def _parse_status(line: bytes) -> tuple[int, str]:
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        raise TransportError("bad_http", "status line is not ASCII") from None
    version, _, rest = text.partition(" ")
    code, _, reason = rest.partition(" ")
    if version not in ("HTTP/1.0", "HTTP/1.1") or len(code) != 3 or not code.isdigit():
        raise TransportError("bad_http", f"bad status line {text[:80]!r}")
    status = int(code)
    if not 100 <= status <= 599:
        raise TransportError("bad_http", f"bad status code {status}")
    return status, reason


def _read_headers(reader: _Reader) -> list[tuple[str, str]]:
    headers, total = [], 0
    while True:
        line = reader.line(MAX_HEADER_LINE, "header line")
        if not line:
            return headers
        total += len(line)
        if len(headers) >= MAX_HEADERS or total > MAX_HEADER_BYTES:
            raise TransportError(
                "too_large", f"more than {MAX_HEADERS} headers or {MAX_HEADER_BYTES} bytes"
            )
        if line[:1] in (b" ", b"\t"):
            raise TransportError("bad_http", "obsolete header folding")
        name, sep, value = line.partition(b":")
        try:
            name_text = name.decode("ascii")
            value_text = value.decode("latin-1").strip()
        except UnicodeDecodeError:
            raise TransportError("bad_http", "header name is not ASCII") from None
        if (
            not sep
            or not name_text
            or not all(c.isalnum() or c in "-_!#$%&'*+.^`|~" for c in name_text)
        ):
            raise TransportError("bad_http", f"bad header line {line[:80]!r}")
        headers.append((name_text.lower(), value_text))


def _header(headers, name: str) -> str | None:
    values = [v for k, v in headers if k == name]
    if len(set(values)) > 1:
        raise TransportError("bad_http", f"conflicting {name} headers")
    return values[0] if values else None


def _read_chunked(reader: _Reader, cap: int) -> bytes:
    body = bytearray()
    while True:
        line = reader.line(MAX_CHUNK_LINE, "chunk size line")
        size_text = line.split(b";", 1)[0].strip()
        if (
            not size_text
            or len(size_text) > 16
            or not all(c in b"0123456789abcdefABCDEF" for c in size_text)
        ):
            raise TransportError("bad_http", f"bad chunk size {line[:40]!r}")
        size = int(size_text, 16)
        if size == 0:
            # Trailers: read and discard, bounded like headers.
            _read_headers(reader)
            return bytes(body)
        if len(body) + size > cap:
            raise TransportError("too_large", f"body exceeds the cap of {cap} bytes")
        body += reader.exactly(size)
        if reader.exactly(2) != b"\r\n":
            raise TransportError("bad_http", "chunk not followed by CRLF")


def _read_body(reader: _Reader, method: str, status: int, headers, cap: int) -> bytes:
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return b""
    encoding = _header(headers, "transfer-encoding")
    if encoding is not None:
        if encoding.lower() != "chunked":
            raise TransportError("bad_http", f"unsupported transfer-encoding {encoding[:40]!r}")
        return _read_chunked(reader, cap)
    length = _header(headers, "content-length")
    if length is not None:
        if not length.isdigit() or len(length) > 18:
            raise TransportError("bad_http", f"bad content-length {length[:40]!r}")
        if int(length) > cap:
            raise TransportError(
                "too_large", f"announced body of {length} bytes exceeds the cap of {cap}"
            )
        return reader.exactly(int(length))
    return reader.rest(cap)


def _one(method, url, headers, body, deadline: _Deadline, max_bytes: int) -> Response:
    scheme, host, port = _origin(url)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}", "Connection: close"]
    names = {k.lower() for k in headers}
    if "user-agent" not in names:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "accept-encoding" not in names:
        lines.append("Accept-Encoding: identity")
    for name, value in headers.items():
        if any(c in str(value) for c in "\r\n") or any(c in name for c in "\r\n:"):
            raise TransportError("bad_url", f"header {name!r} contains a line break")
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    sock = _connect(scheme, host, port, deadline)
    try:
        try:
            sock.settimeout(deadline.left())
            sock.sendall(head + (body or b""))
        except TimeoutError:
            raise TransportError("timeout", "the request's deadline passed while sending") from None
        except (OSError, ssl.SSLError) as exc:
            raise TransportError("unreachable", f"sending to {host}:{port}: {exc}") from None
        reader = _Reader(sock, deadline)
        while True:
            status, reason = _parse_status(reader.line(MAX_STATUS_LINE, "status line"))
            headers_in = _read_headers(reader)
            if 100 <= status < 200:
                continue  # interim answers (100 Continue) carry no body
            break
        payload = _read_body(reader, method, status, headers_in, max_bytes)
        return Response(status, reason[:200], headers_in, payload, url)
    finally:
        try:
            sock.close()
        except OSError:
            pass


def request(
    method: str,
    url: str,
    *,
    headers: dict | None = None,
    body: bytes | None = None,
    deadline_s: float,
    max_bytes: int,
    max_redirects: int = 3,
) -> Response:
    """One HTTP request that finishes, in full, within ``deadline_s`` seconds or raises.

    ``max_bytes`` caps the body; a larger one (announced or actual) raises ``too_large``. Returns
    any status the server answers (4xx and 5xx included); raises ``TransportError`` only.
    """
    deadline = _Deadline(deadline_s)
    headers = dict(headers or {})
    origin = _origin(url)
    try:
        for _ in range(max_redirects + 1):
            resp = _one(method.upper(), url, headers, body, deadline, max_bytes)
            if resp.status not in REDIRECTS:
                return resp
            location = resp.header("location")
            if not location:
                return resp
            target = urljoin(url, location)
            if _origin(target) != origin:
                raise TransportError(
                    "redirect_refused",
                    f"redirect from {origin[1]}:{origin[2]} to another origin refused",
                )
            if resp.status == 303 or (resp.status in (301, 302) and method.upper() == "POST"):
                method, body = "GET", None
            url = target
        raise TransportError("redirect_refused", f"more than {max_redirects} redirects")
    except TransportError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: nothing but TransportError escapes
        raise TransportError("bad_http", f"{type(exc).__name__}: {exc}") from None
