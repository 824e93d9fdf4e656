"""The agent's HTTP client against a malicious server: every failure is one TransportError."""

from __future__ import annotations

import socket
import time

import pytest

from agents.transport import TransportError, parse_json, request
from tests.agents.evil_server import EvilServer, ok, raw


@pytest.fixture
def evil():
    servers = []

    def make(script):
        server = EvilServer(script)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def _get(url, **kw):
    kw.setdefault("deadline_s", 3.0)
    kw.setdefault("max_bytes", 1024)
    return request("GET", url + "/x", **kw)


def test_plain_answer_chunked_answer_and_statuses(evil):
    server = evil(raw(ok(b'{"a": 1}', extra=b"X-Thing: one\r\n")))
    resp = _get(server.url, headers={"Authorization": "Bearer t"})
    assert (resp.status, resp.json(), resp.header("x-thing")) == (200, {"a": 1}, "one")
    assert b"Authorization: Bearer t" in server.requests[0]

    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
    )
    assert _get(evil(raw(chunked)).url).body == b"abcde"
    assert _get(evil(raw(ok(b"gone", status="404 Not Found"))).url).status == 404
    until_close = b"HTTP/1.0 200 OK\r\n\r\nall of it"
    assert _get(evil(raw(until_close)).url).body == b"all of it"


def test_post_sends_body_and_length(evil):
    server = evil(raw(ok(b"{}", status="201 Created")))
    resp = request("POST", server.url + "/m", body=b'{"k":1}', deadline_s=3, max_bytes=100)
    assert resp.status == 201
    assert server.requests[0].startswith(b"POST /m HTTP/1.1\r\n")
    assert b"Content-Length: 7" in server.requests[0]
    assert server.requests[0].endswith(b'{"k":1}')


@pytest.mark.parametrize(
    "answer, code",
    [
        (b"HTTP/1.1 2OO OK\r\n\r\n", "bad_http"),
        (b"SPDY/9 200 OK\r\n\r\n", "bad_http"),
        (b"\xff\xfe garbage\r\n\r\n", "bad_http"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-H: v\r\n" * 500 + b"\r\n", "too_large"),
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 20000 + b"\r\n\r\n", "too_large"),
        (b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "bad_http"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            "bad_http",
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "bad_http"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n", "too_large"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", "too_large"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", "bad_http"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "bad_http"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "bad_http"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "bad_http"),
        (b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 5000, "too_large"),
        (b"", "bad_http"),
    ],
)
def test_malformed_http_is_one_refusal(evil, answer, code):
    with pytest.raises(TransportError) as info:
        _get(evil(raw(answer)).url)
    assert info.value.code == code


def test_dripping_server_hits_the_overall_deadline(evil):
    """One byte every 0.2 s would keep a per-read timeout alive forever; the deadline ends it."""
    server = None

    def drip(conn, _req):
        server.drip(conn, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 1000, every=0.05)

    server = evil(drip)
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        _get(server.url, deadline_s=0.6)
    assert info.value.code == "timeout"
    assert time.monotonic() - started < 1.5


def test_dripped_body_also_hits_the_deadline(evil):
    server = None

    def drip(conn, _req):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        server.drip(conn, b"x" * 1000, every=0.05)

    server = evil(drip)
    with pytest.raises(TransportError) as info:
        _get(server.url, deadline_s=0.5, max_bytes=2000)
    assert info.value.code == "timeout"


def test_connection_refused_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(TransportError) as info:
            _get(url)
    assert info.value.code == "unreachable"


def test_bad_urls_are_refusals():
    for url in ("ftp://example/x", "http:///nohost", "http://h:notaport/"):
        with pytest.raises(TransportError) as info:
            request("GET", url, deadline_s=1, max_bytes=10)
        assert info.value.code == "bad_url"


def test_redirect_to_another_origin_is_refused_and_gets_no_token(evil):
    other = evil(raw(ok(b"{}")))
    first = evil(raw(f"HTTP/1.1 302 Found\r\nLocation: {other.url}/steal\r\n\r\n".encode()))
    with pytest.raises(TransportError) as info:
        _get(first.url, headers={"Authorization": "Bearer secret"})
    assert info.value.code == "redirect_refused"
    assert other.requests == []


def test_same_origin_redirect_is_followed_and_loops_end(evil):
    def script(conn, req):
        if req.startswith(b"GET /x "):
            conn.sendall(b"HTTP/1.1 307 Temporary\r\nLocation: /y\r\n\r\n")
        else:
            conn.sendall(ok(b'"there"'))

    server = evil(script)
    assert _get(server.url).json() == "there"
    loop = evil(raw(b"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n"))
    with pytest.raises(TransportError) as info:
        _get(loop.url)
    assert info.value.code == "redirect_refused"


def test_header_injection_is_refused():
    with pytest.raises(TransportError):
        request(
            "GET", "http://127.0.0.1:1/", headers={"X": "a\r\nEvil: 1"}, deadline_s=1, max_bytes=1
        )


@pytest.mark.parametrize(
    "body",
    [
        b"NaN",
        b'{"a": Infinity}',
        b"[1e400]",
        b'"\\ud800"',
        b"[" * 100000 + b"]" * 100000,
        b'{"a": ' * 5000 + b"1" + b"}" * 5000,
        b"\xff",
        b"1" * 5000,
        b"{",
    ],
)
def test_strict_json_refuses_what_json_loads_accepts_or_crashes_on(body):
    with pytest.raises(ValueError):
        parse_json(body)


def test_strict_json_accepts_ordinary_documents():
    assert parse_json(b'{"a": [1, 2.5, "\\u00e9", null, true]}') == {"a": [1, 2.5, "é", None, True]}
