"""A repository simulator for the agent, in the spirit of python-tuf's RepositorySimulator.

``Repository`` holds a root key, signing keys and a keyring, and publishes signed bundle versions
in memory. ``SimulatedControlPlane`` serves them over real HTTP on a loopback port, and can be
told to misbehave: serve an old, tampered, foreign or oversized body, a stale or missing
freshness statement, or an error status. Time is frozen with ``time_machine``.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from agents import protocol

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REGION = "eu-central"
TOKEN = "agent-token-eu"


def sample_content(region: str = REGION, *, note: str = "") -> dict:
    return {
        "region": {"slug": region, "jurisdiction": "EEA", "provider": "aws"},
        "residency_rules": [
            {
                "position": 1,
                "data_category": "user.health",
                "home_jurisdiction": "EEA",
                "data_store": "eu-main",
            },
            {
                "position": 2,
                "subject_country": "DE",
                "home_jurisdiction": "EEA",
                "data_store": "eu-main",
            },
            {"position": 3, "subject_country": "US", "home_jurisdiction": "US"},
        ],
        "data_stores": [{"name": "eu-main", "kind": "postgresql", "retention_days": 30}],
        "transfers": [],
        "models": [],
        "metrics": {"k": 20},
        "note": note,
    }


class Repository:
    def __init__(self, region: str = REGION):
        self.region = region
        self.root_key = protocol.generate_private_key()
        self.signing_key = protocol.generate_private_key()
        self.keyring_version = 0
        self.keyring = None
        self.versions: dict[int, dict] = {}
        self.set_keyring([self.signing_key])

    @property
    def root_public(self) -> str:
        return protocol.public_key_text(self.root_key)

    def set_keyring(self, keys, *, key_expiry=None, root_key=None, version=None):
        self.keyring_version = version or self.keyring_version + 1
        expiry = key_expiry or protocol.utcnow() + timedelta(days=90)
        self.keyring = protocol.make_keyring(
            root_key=root_key or self.root_key,
            signing_keys=[(k, expiry) for k in keys],
            version=self.keyring_version,
            issued=protocol.utcnow(),
        )
        return self.keyring

    def build(
        self,
        *,
        version=None,
        content=None,
        region=None,
        expires=None,
        schema=protocol.BUNDLE_SCHEMA,
        key=None,
        keyring=None,
    ) -> dict:
        version = version or (max(self.versions, default=0) + 1)
        payload = protocol.bundle_payload(
            region=region or self.region,
            version=version,
            content=content if content is not None else sample_content(note=f"v{version}"),
            issued=protocol.utcnow(),
            expires=expires,
            schema=schema,
        )
        return protocol.sign_bundle(
            payload, signing_key=key or self.signing_key, keyring=keyring or self.keyring
        )

    def publish(self, **kwargs) -> dict:
        envelope = self.build(**kwargs)
        self.versions[envelope["payload"]["version"]] = envelope
        return envelope

    @property
    def latest(self) -> dict | None:
        return self.versions[max(self.versions)] if self.versions else None

    def freshness_for(self, envelope, *, key=None, ttl=protocol.DEFAULT_FRESHNESS_TTL) -> str:
        return protocol.encode_header(
            protocol.make_freshness(
                region=envelope["payload"]["region"],
                latest_version=envelope["payload"]["version"],
                digest=protocol.digest_of(envelope["payload"]),
                signing_key=key or self.signing_key,
                ttl=ttl,
            )
        )


class SimulatedControlPlane:
    """Serves ``Repository`` over HTTP; every misbehaviour is an attribute to set."""

    def __init__(self, repo: Repository):
        self.repo = repo
        self.requests: list[dict] = []
        self.reports: list[dict] = []
        self.body_override: bytes | None = None
        self.freshness_override: str | None = None
        self.omit_freshness = False
        self.status_override: int | None = None
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _auth_ok(self):
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.send_response(401)
                    self.end_headers()
                    return False
                return True

            def do_GET(self):  # noqa: N802
                sim.requests.append(dict(self.headers))
                if not self._auth_ok():
                    return
                if sim.status_override:
                    self.send_response(sim.status_override)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                latest = sim.repo.latest
                body = sim.body_override or protocol.canonical_json(latest)
                digest = protocol.digest_of(latest["payload"])
                fresh = sim.freshness_override or sim.repo.freshness_for(latest)
                inm = (self.headers.get("If-None-Match") or "").strip('"')
                status = 304 if inm == digest and sim.body_override is None else 200
                self.send_response(status)
                self.send_header("ETag", f'"{digest}"')
                if not sim.omit_freshness:
                    self.send_header(protocol.FRESHNESS_HEADER, fresh)
                if status == 200:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status == 200:
                    self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                if not self._auth_ok():
                    return
                length = int(self.headers.get("Content-Length", "0"))
                sim.reports.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
