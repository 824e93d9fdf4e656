"""A TUF repository in memory, served over HTTP, for the agent tests (no Django).

``TufRepo`` builds the same shape the control plane builds (``controlplane/distribution/
repository.py``): root, targets delegating ``<region>/*`` to one role per region, snapshot and
timestamp, consistent snapshots. It can rotate any key, and it keeps every file it ever signed,
so tests can replay old ones. ``TufServer`` serves it at the agent API's paths on a loopback
port and can be told to answer anything instead (``server.override[name] = bytes | callable``).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from agents import protocol

REGION = "eu-central"
OTHER = "us-east"
TOKEN = "sva_test-agent-token"
COMPACT = JSONSerializer(compact=True)


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
        "special_categories": ["user.health"],
        "categories": ["user", "user.contact", "user.health"],
        "transfers": [],
        "models": [],
        "metrics": {"k": 20},
        "note": note,
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class TufRepo:
    def __init__(self, regions=(REGION, OTHER), *, timestamp_ttl=timedelta(days=1)):
        self.timestamp_ttl = timestamp_ttl
        self.root_signers = [CryptoSigner.generate_ed25519()]
        self.signers = {
            r: CryptoSigner.generate_ed25519() for r in ("targets", "snapshot", "timestamp")
        }
        self.region_signers = {r: CryptoSigner.generate_ed25519() for r in regions}
        self.files: dict[str, bytes] = {}  # served name -> bytes, every version ever signed
        self.targets_files: dict[str, bytes] = {}  # "<region>/<sha>.bundle.json" -> bytes
        self.versions: dict[str, int] = {}
        self.bundles: dict[str, list[bytes]] = {r: [] for r in regions}
        root = Metadata(Root(expires=_now() + timedelta(days=365), consistent_snapshot=True))
        for signer in self.root_signers:
            root.signed.add_key(signer.public_key, "root")
        for role, signer in self.signers.items():
            root.signed.add_key(signer.public_key, role)
        self.root = root
        self._sign_root(self.root_signers)
        self.targets = Metadata(Targets(expires=_now() + timedelta(days=90)))
        self.targets.signed.delegations = Delegations(keys={}, roles={})
        for region, signer in self.region_signers.items():
            self._delegate(region, signer)
        self._store("targets", self.targets, self.signers["targets"])
        self.roles: dict[str, Metadata] = {}
        self.timestamp_bytes = b""
        for region in regions:
            self.publish(region, snapshot=False)
        self.snapshot_and_timestamp()

    # ------------------------------------------------------------------ signing

    def _store(self, role: str, md: Metadata, *signers) -> bytes:
        md.signatures.clear()
        for signer in signers:
            md.sign(signer, append=True)
        data = md.to_bytes(COMPACT)
        self.files[f"{md.signed.version}.{role}.json"] = data
        self.versions[role] = md.signed.version
        return data

    def _sign_root(self, signers) -> bytes:
        return self._store("root", self.root, *signers)

    @property
    def root_bytes(self) -> bytes:
        return self.files["1.root.json"]

    def _delegate(self, region: str, signer) -> None:
        delegations = self.targets.signed.delegations
        old = delegations.roles.get(region)
        if old:
            for keyid in old.keyids:
                delegations.keys.pop(keyid, None)
        delegations.keys[signer.public_key.keyid] = signer.public_key
        delegations.roles[region] = DelegatedRole(
            name=region,
            keyids=[signer.public_key.keyid],
            threshold=1,
            terminating=True,
            paths=[f"{region}/*"],
        )

    def bundle(self, region=REGION, *, version=None, content=None, for_region=None) -> bytes:
        version = version or len(self.bundles[region]) + 1
        payload = protocol.bundle_payload(
            region=for_region or region,
            version=version,
            content=content if content is not None else sample_content(region, note=f"v{version}"),
            issued=_now(),
        )
        return protocol.bundle_bytes(payload)

    def publish(
        self, region=REGION, *, data=None, snapshot=True, signer=None, expires=None, version=None
    ) -> bytes:
        data = data if data is not None else self.bundle(region)
        self.bundles[region].append(data)
        sha = hashlib.sha256(data).hexdigest()
        self.targets_files[f"{region}/{sha}.bundle.json"] = data
        path = protocol.target_path(region)
        role = Metadata(
            Targets(
                version=version or self.versions.get(region, 0) + 1,
                expires=expires or _now() + timedelta(days=7),
                targets={path: TargetFile(length=len(data), hashes={"sha256": sha}, path=path)},
            )
        )
        self.roles[region] = role
        self._store(region, role, signer or self.region_signers[region])
        if snapshot:
            self.snapshot_and_timestamp()
        return data

    def _meta(self, role: str) -> MetaFile:
        data = self.files[f"{self.versions[role]}.{role}.json"]
        return MetaFile(
            version=self.versions[role],
            length=len(data),
            hashes={"sha256": hashlib.sha256(data).hexdigest()},
        )

    def snapshot_and_timestamp(
        self,
        *,
        snapshot_version=None,
        timestamp_version=None,
        timestamp_expires=None,
        snapshot_signer=None,
        timestamp_signer=None,
    ):
        meta = {"targets.json": self._meta("targets")}
        for region in self.roles:
            meta[f"{region}.json"] = self._meta(region)
        snapshot = Metadata(
            Snapshot(
                version=snapshot_version or self.versions.get("snapshot", 0) + 1,
                expires=_now() + timedelta(days=7),
                meta=meta,
            )
        )
        self._store("snapshot", snapshot, snapshot_signer or self.signers["snapshot"])
        return self.new_timestamp(
            version=timestamp_version, expires=timestamp_expires, signer=timestamp_signer
        )

    def new_timestamp(self, *, version=None, expires=None, signer=None) -> bytes:
        timestamp = Metadata(
            Timestamp(
                version=version or self.versions.get("timestamp", 0) + 1,
                expires=expires or _now() + self.timestamp_ttl,
                snapshot_meta=self._meta("snapshot"),
            )
        )
        self.timestamp_bytes = self._store(
            "timestamp", timestamp, signer or self.signers["timestamp"]
        )
        return self.timestamp_bytes

    # ------------------------------------------------------------------ rotation

    def rotate(self, role: str) -> CryptoSigner:
        """A new key for a top-level role in root version n+1 (old and new root keys sign)."""
        new = CryptoSigner.generate_ed25519()
        old_root_signers = list(self.root_signers)
        for keyid in list(self.root.signed.roles[role].keyids):
            self.root.signed.revoke_key(keyid, role)
        self.root.signed.add_key(new.public_key, role)
        if role == "root":
            self.root_signers = [new]
        else:
            self.signers[role] = new
        self.root.signed.version += 1
        self._sign_root(old_root_signers + ([new] if role == "root" else []))
        if role == "targets":
            self.targets.signed.version += 1
            self._store("targets", self.targets, self.signers["targets"])
        self.snapshot_and_timestamp()
        return new

    def rotate_region(self, region=REGION) -> CryptoSigner:
        new = CryptoSigner.generate_ed25519()
        old = self.region_signers[region]
        self.region_signers[region] = new
        self._delegate(region, new)
        self.targets.signed.version += 1
        self._store("targets", self.targets, self.signers["targets"])
        self.publish(region, data=self.bundles[region][-1])
        return old


class TufServer:
    """Serves a ``TufRepo`` like the control plane's agent API does."""

    def __init__(self, repo: TufRepo, *, region=REGION):
        self.repo, self.region = repo, region
        self.override: dict = {}
        self.requests: list[str] = []
        self.reports: list[dict] = []
        self.up = True
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def _send(self, status, body=b"", ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                sim.requests.append(self.path)
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, b"{}")
                name = self.path.removeprefix("/api/v1/agent/tuf/")
                if name in sim.override:
                    answer = sim.override[name]
                    if callable(answer):
                        return answer(self)
                    return self._send(200, answer)
                if name == "timestamp.json":
                    return self._send(200, sim.repo.timestamp_bytes)
                if name.startswith("targets/"):
                    data = sim.repo.targets_files.get(name.removeprefix("targets/"))
                else:
                    data = sim.repo.files.get(name)
                return self._send(200, data) if data is not None else self._send(404, b"{}")

            def do_POST(self):  # noqa: N802
                import json

                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sim.reports.append(json.loads(body or b"{}"))
                self._send(
                    200, b'{"drift": "synced", "desired_version": null, "desired_digest": null}'
                )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
