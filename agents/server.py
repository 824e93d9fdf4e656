"""The agent's local HTTP endpoint (``--listen HOST:PORT``), standard library only.

* ``POST /refresh`` (``/bundle`` too, for older control planes): a push is only a "refresh
  now" signal, authenticated or not. Its body (at most ``MAX_SIGNAL_BYTES``) is read and
  ignored: nothing in it is trusted. 202; the agent refreshes through TUF at most once a second.
* ``POST /route``: record metadata in, routing decision out (200 accepted, 403 refused).
* ``POST /resolve``: a gateway in the region asks where a user may be served,
  ``{"country": "DE", "categories"?: [...], "model"?: "..."}``; the answer comes from the
  routing table in the applied bundle through ``agents.routing.resolve`` (the control plane's
  ``GET /api/v1/routing/resolve`` answers through the same function). 200 with the ordered
  routes (``gap`` when there are none), 400 naming the bad field, 403 when the agent answers
  nothing (``no_bundle``, ``expired`` trust, ``no_routing_table``), 413 over the size cap.
* ``POST /observe``: observations from services in the region, ``{"name", "value",
  "dimensions", "at"?}`` (``at``: when it happened, epoch seconds, within the last hour) or
  ``{"observations": [...]}``; they never leave the agent except as
  suppressed aggregates (``agents.metrics``). 202 when recorded, 400 with the first refusal.
* ``GET /status``: what is applied (and the metrics pipeline's counters).

The listener holds at most ``MAX_CONNECTIONS`` connections at once (one more is answered 503 and
closed at once) and gives each connection ``CONNECTION_DEADLINE`` seconds in all: a client that
drips its request one byte at a time is cut off, whatever its per-read pace.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from agents import protocol
from agents.client import Agent, NotServing
from agents.routing import RoutingInputError

log = logging.getLogger("sovereign.agent.server")

MAX_ROUTE_BYTES = 64 * 1024
MAX_RESOLVE_BYTES = 8 * 1024
MAX_SIGNAL_BYTES = 64 * 1024
MAX_OBSERVE_BYTES = 256 * 1024
MAX_OBSERVATIONS = 1000
MAX_CONNECTIONS = 32
CONNECTION_DEADLINE = 10.0
READ_TIMEOUT = 5.0
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class AgentRequestHandler(BaseHTTPRequestHandler):
    server_version = "sovereign-agent"
    timeout = READ_TIMEOUT  # per read; the server's deadline bounds the whole connection
    agent: Agent  # set on the subclass built by make_server
    metrics = None  # an agents.metrics.MetricsPipeline, when the agent collects metrics

    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        log.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body, sort_keys=True).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self, cap: int) -> bytes:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            raise protocol.MalformedError("Content-Length required")
        if int(length) > cap:
            raise protocol.TooLargeError(f"body of {length} bytes exceeds the cap of {cap}")
        return self.rfile.read(int(length))

    def do_GET(self):  # noqa: N802
        if self.path == "/status":
            status = self.agent.status()
            if self.metrics is not None:
                status["metrics"] = self.metrics.status()
            return self._send(200, status)
        if self.path == "/healthz":
            return self._send(200, {"ok": True})
        return self._send(404, {"code": "not_found", "message": self.path})

    def do_POST(self):  # noqa: N802
        if self.path in ("/refresh", "/bundle"):
            return self._signal()
        if self.path == "/route":
            return self._route()
        if self.path == "/resolve":
            return self._resolve()
        if self.path == "/observe":
            return self._observe()
        return self._send(404, {"code": "not_found", "message": self.path})

    def _signal(self):
        try:
            self._body(MAX_SIGNAL_BYTES)  # read and drop: a signal carries nothing trusted
        except protocol.ProtocolError as exc:
            return self._send(413 if exc.code == "too_large" else 400, exc.as_dict())
        queued = self.agent.signal()
        return self._send(202, {"refresh": "queued" if queued else "already queued"})

    def _route(self):
        try:
            metadata = protocol.parse_json_bytes(self._body(MAX_ROUTE_BYTES))
            decision = self.agent.route(metadata)
        except protocol.ProtocolError as exc:
            return self._send(400, exc.as_dict())
        return self._send(200 if decision.accepted else 403, decision.as_dict())

    def _resolve(self):
        try:
            question = protocol.parse_json_bytes(self._body(MAX_RESOLVE_BYTES))
            answer = self.agent.resolve(question)
        except RoutingInputError as exc:
            return self._send(400, exc.as_dict())
        except NotServing as exc:
            return self._send(403, exc.as_dict())
        except protocol.ProtocolError as exc:
            return self._send(413 if exc.code == "too_large" else 400, exc.as_dict())
        return self._send(200, answer)

    def _observe(self):
        from agents.metrics import ObservationRefused

        if self.metrics is None:
            return self._send(404, {"code": "no_metrics", "message": "metrics are off"})
        try:
            body = protocol.parse_json_bytes(self._body(MAX_OBSERVE_BYTES))
        except protocol.ProtocolError as exc:
            return self._send(400, exc.as_dict())
        batch = body.get("observations", [body]) if isinstance(body, dict) else None
        if not isinstance(batch, list) or not 0 < len(batch) <= MAX_OBSERVATIONS:
            return self._send(
                400, {"code": "malformed", "message": f"1 to {MAX_OBSERVATIONS} observations"}
            )
        recorded = 0
        for index, item in enumerate(batch):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                return self._send(
                    400,
                    {
                        "code": "malformed",
                        "message": f"observation {index}: name required",
                        "recorded": recorded,
                    },
                )
            at = item.get("at")
            if at is not None and not _recent(at):
                return self._send(
                    400,
                    {
                        "code": "invalid_time",
                        "recorded": recorded,
                        "message": f"observation {index}: at is seconds since the epoch, "
                        "within the last hour",
                    },
                )
            try:
                self.metrics.observe(
                    item["name"], item.get("value"), item.get("dimensions") or {}, at=at
                )
            except ObservationRefused as exc:
                return self._send(
                    400,
                    {
                        **exc.as_dict(),
                        "message": f"observation {index}: {exc.message}",
                        "recorded": recorded,
                    },
                )
            recorded += 1
        return self._send(202, {"recorded": recorded})


def _recent(at) -> bool:
    import time

    if isinstance(at, bool) or not isinstance(at, int | float):
        return False
    now = time.time()
    return now - 3600 <= at <= now + 5


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class AgentHTTPServer(ThreadingHTTPServer):
    """A threading server with a connection cap and an overall deadline per connection."""

    daemon_threads = True

    def __init__(self, address, handler, *, max_connections: int, deadline: float):
        self.slots = threading.BoundedSemaphore(max_connections)
        self.deadline = deadline
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        timer = threading.Timer(self.deadline, _cut, args=(request,))
        timer.daemon = True
        timer.start()
        try:
            super().process_request_thread(request, client_address)
        finally:
            timer.cancel()
            self.slots.release()

    def handle_error(self, request, client_address):
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


def make_server(
    agent: Agent,
    address: tuple[str, int],
    *,
    max_connections: int = MAX_CONNECTIONS,
    deadline: float = CONNECTION_DEADLINE,
    metrics=None,
) -> AgentHTTPServer:
    handler = type(
        "BoundAgentRequestHandler", (AgentRequestHandler,), {"agent": agent, "metrics": metrics}
    )
    return AgentHTTPServer(address, handler, max_connections=max_connections, deadline=deadline)
