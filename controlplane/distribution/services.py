"""Writes for bundle distribution: publish, deliver, and the agents' lifecycle and reports."""

import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from agents import protocol
from controlplane import shared_cache as cache
from controlplane.audit.actors import Actor
from controlplane.audit.services import record_event
from controlplane.distribution import conf, keys, repository, selectors
from controlplane.distribution.builder import build_content
from controlplane.distribution.drift import drift_state
from controlplane.distribution.models import ConfigBundle, Delivery, DeliveryAttempt, TufMetadata
from controlplane.errors import DomainError, NotAllowed
from controlplane.transactions import once_on_commit
from regions.agents import hash_token, new_token
from regions.models import Agent, Region

log = logging.getLogger(__name__)
SYSTEM = Actor.system("distribution")


# --------------------------------------------------------------------------- publishing


def publish_region(*, region, reason: str = "", force: bool = False, by=None, now=None):
    """Build the region's bundle; if its content changed (or ``force``, to re-sign ahead of
    expiry), store it as version n+1 and sign it into the TUF repository: a new version of the
    region's role listing it, then a new snapshot and timestamp, all in this transaction.
    Returns the new ``ConfigBundle`` or ``None``.
    """
    with transaction.atomic():
        region = Region.objects.select_for_update().get(pk=region.pk)
        content = build_content(selectors.region_state(region))
        content_digest = protocol.digest_of(content)
        latest = selectors.latest_bundle(region)
        unchanged = latest is not None and latest.content_digest == content_digest
        # A bundle from before the TUF repository (role_version 0) is listed by no role yet.
        if unchanged and not force and latest.role_version:
            return None
        now = (now or timezone.now()).replace(microsecond=0)
        version = (latest.version if latest else 0) + 1
        payload = protocol.bundle_payload(
            region=region.slug, version=version, content=content, issued=now
        )
        data = protocol.bundle_bytes(payload)
        expires = now + conf.bundle_ttl()
        role_version = repository.publish_target(slug=region.slug, data=data, expires=expires)
        bundle = ConfigBundle(
            region=region,
            version=version,
            digest=protocol.sha256_digest(data),
            content_digest=content_digest,
            payload=payload,
            target=data,
            role_version=role_version,
            issued=now,
            expires=expires,
            reason=reason[:200],
        )
        bundle.full_clean()
        bundle.save()
        Delivery.objects.filter(bundle__region=region, state=Delivery.State.PENDING).update(
            state=Delivery.State.SUPERSEDED, updated_at=timezone.now()
        )
        targets = region.agents.filter(revoked_at__isnull=True).exclude(callback_url="")
        deliveries = Delivery.objects.bulk_create(
            [Delivery(bundle=bundle, agent=a, next_attempt_at=now) for a in targets]
        )
        record_event(
            actor=by or SYSTEM,
            action="bundle.published",
            obj=bundle,
            data={
                "region": region.slug,
                "version": version,
                "digest": bundle.digest,
                "content_digest": content_digest,
                "role_version": role_version,
                "reason": reason,
            },
        )
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _after_publish(bundle, ids))
    return bundle


def _after_publish(bundle: ConfigBundle, delivery_ids: list[int]) -> None:
    forget_timestamp()
    if conf.push_enabled():
        queue_deliveries(delivery_ids)


def queue_deliveries(delivery_ids) -> None:
    """Hand deliveries to Celery; a broker that is down leaves them to the beat sweep."""
    from controlplane.distribution.tasks import push_delivery

    for pk in delivery_ids:
        try:
            push_delivery.apply_async((pk,), retry=False)
        except Exception as exc:  # noqa: BLE001 - any broker error: the outbox row stays pending
            log.warning("could not queue delivery %s (%s); the sweep will retry", pk, exc)


def _publish_on_commit_callback():
    """A callback that publishes the regions gathered in its ``pending_region_ids``."""
    region_ids: set[int] = set()

    def publish():
        # One committed state for all of them: parts every bundle shares are built once.
        with selectors.building_many_bundles():
            for region_pk in sorted(region_ids):
                try:
                    publish_region(region=Region(pk=region_pk), reason="desired state changed")
                except keys.KeyMaterialMissing as exc:
                    log.error("bundle for region %s not published: %s", region_pk, exc)
                except Exception:  # noqa: BLE001 - committed already; ensure_current retries
                    log.exception(
                        "bundle for region %s not published; ensure_current will retry",
                        region_pk,
                    )

    publish.pending_region_ids = region_ids
    return publish


def publish_region_on_commit(region) -> None:
    """The listener for ``regions.services``: rebuild once the change has committed.

    However many changes in one transaction touch a region (ending a mechanism that 10,000
    transfers rely on), the region is rebuilt once, after the commit, and all the regions the
    transaction touched are built together (see ``selectors.building_many_bundles``).
    """
    once_on_commit(
        "publish-regions",
        _publish_on_commit_callback,
        join=lambda publish: publish.pending_region_ids.add(region.pk),
    )


def ensure_current(*, now=None) -> list[ConfigBundle]:
    """Beat: publish any region whose state drifted from its bundle; re-sign before expiry
    (regions' roles with their bundle, targets and snapshot on their own, the timestamp when it
    is older than ``TUF_TIMESTAMP_RESIGN_SECONDS``)."""
    now = now or timezone.now()
    published = []
    if repository.resign_expiring(now=now):
        forget_timestamp()
    if repository.refresh_timestamp():
        forget_timestamp()
    with selectors.building_many_bundles():
        for region in Region.objects.all():
            latest = selectors.latest_bundle(region)
            expiring = latest is not None and latest.expires - now <= conf.resign_ahead()
            bundle = publish_region(
                region=region,
                force=expiring,
                reason="re-signed ahead of expiry" if expiring else "periodic consistency check",
                now=now,
            )
            if bundle:
                published.append(bundle)
    return published


# --------------------------------------------------------------------------- the hot path
#
# The poll (``timestamp.json``) must cost about what a bare Django view costs, so once warm it
# reads this process's memory only (docs/agent-protocol.md, "The poll path"):
#
# - the timestamp, re-read from the shared cache at most once a second;
# - agent identities by token hash, valid while the agents' *generation* in the shared cache is
#   the one they were read under (itself re-read at most once a second, and changed whenever an
#   agent is revoked, gets a new token or is changed), and never longer than
#   ``AGENT_AUTH_CACHE_SECONDS`` (the bound when the cache is per process or lost a change);
# - heartbeats: at most one ``last_seen`` write per agent and poll interval, and at most one
#   batch a second per process, however many agents poll it (the heartbeats of that second go
#   in one statement, to the whole second, written by the next request).

TIMESTAMP_KEY = "distribution:tuf:timestamp"
AGENTS_GENERATION_KEY = "distribution:agents:generation"
_SHARED_READ_SECONDS = 1.0  # how stale this process's view of the shared cache may be
_HEARTBEAT_WRITE_SECONDS = 1.0  # at most one heartbeat batch per process per this
_MAX_IDENTITIES = 100_000


@dataclass(frozen=True)
class AgentPrincipal:
    """What the agent API knows about the caller. Not a user: people's endpoints refuse it."""

    id: str
    name: str
    region_id: int
    region_slug: str
    poll_interval: int
    is_authenticated = True
    is_agent = True

    def __str__(self):
        return f"{self.region_slug}/{self.name}"


@dataclass(slots=True)
class _Identity:
    principal: AgentPrincipal
    seen: float  # the last heartbeat this process wrote or holds (epoch seconds)
    generation: object  # the agents' generation it was read under
    until: float  # never trusted after this (AGENT_AUTH_CACHE_SECONDS)


class _ProcessMemo:
    """This process's memory of the hot path. ``clear()`` forgets all of it (tests; a process
    that forgets loses at most the heartbeats of its last second, re-sent by the next poll)."""

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.timestamp = None
        self.timestamp_until = 0.0
        self.generation = None
        self.generation_until = 0.0
        self.identities: dict[str, _Identity] = {}
        self.heartbeats: dict[str, float] = {}  # agent id -> poll time not written yet
        self.heartbeats_written_at = 0.0


_memo = _ProcessMemo()


def forget_timestamp() -> None:
    """After a commit that signed a new timestamp: the next poll reads it from the database."""
    _memo.timestamp, _memo.timestamp_until = None, 0.0
    cache.delete(TIMESTAMP_KEY, after_commit=True)


def current_timestamp(*, memo: bool = False) -> bytes | None:
    """``timestamp.json``, the poll: from this process's memo or the shared cache when it is
    current, else from the database (re-signed first once it is older than
    ``TUF_TIMESTAMP_RESIGN_SECONDS``). Cached a few seconds only: the database is the truth."""
    now = time.time()
    if memo and now < _memo.timestamp_until:
        return _memo.timestamp.data  # checked for re-signing less than a second ago
    resign_after = conf.timestamp_resign_after().total_seconds()
    head = cache.get(TIMESTAMP_KEY)
    if head is None or now - head.signed_at >= resign_after:
        head = repository.timestamp_head()
        if head is None:
            return None
        if now - head.signed_at >= resign_after:
            head = repository.refresh_timestamp()
        cache.set(TIMESTAMP_KEY, head, conf.head_cache_seconds())
    _memo.timestamp, _memo.timestamp_until = head, now + _SHARED_READ_SECONDS
    return head.data


def _metadata_key(role: str, version: int) -> str:
    return f"distribution:tuf:{version}.{role}"


def metadata_file(role: str, version: int) -> bytes | None:
    """``<version>.<role>.json``: immutable once signed, so cached for longer."""
    key = _metadata_key(role, version)
    data = cache.get(key)
    if data is None:
        data = (
            TufMetadata.objects.filter(role=role, version=version)
            .values_list("data", flat=True)
            .first()
        )
        if data is None:
            return None
        data = bytes(data)
        cache.set(key, data, 300)
    return data


def target_file(region_id: int, sha256_hex: str) -> bytes | None:
    data = (
        ConfigBundle.objects.filter(region_id=region_id, digest=f"sha256:{sha256_hex}")
        .values_list("target", flat=True)
        .first()
    )
    return bytes(data) if data is not None else None


def _agents_generation(now: float):
    """The agents' generation in the shared cache (``None`` when unset or unreachable)."""
    if now >= _memo.generation_until:
        _memo.generation = cache.get(AGENTS_GENERATION_KEY)
        _memo.generation_until = now + _SHARED_READ_SECONDS
    return _memo.generation


def _new_agents_generation() -> None:
    """Every process drops the identities it holds within a second (and this one at once)."""
    cache.set(AGENTS_GENERATION_KEY, uuid.uuid4().hex, 7 * 86400)
    _memo.identities.clear()
    _memo.generation_until = 0.0


def _auth_key(token_hash: str) -> str:
    return f"distribution:agent-auth:{token_hash}"


def _identity_from_database(token_hash: str) -> dict | None:
    """One indexed query: the agent that holds this token, unless it is revoked."""
    row = (
        Agent.objects.filter(token_hash=token_hash, revoked_at__isnull=True)
        .values("id", "name", "region_id", "region__slug", "poll_interval", "last_seen")
        .first()
    )
    if row is None:
        return None
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "region_id": row["region_id"],
        "region_slug": row["region__slug"],
        "poll_interval": row["poll_interval"],
        "seen": row["last_seen"].timestamp() if row["last_seen"] else 0.0,
    }


def authenticate_agent(token: str, *, memo: bool = False) -> AgentPrincipal | None:
    """Token -> agent, and the agent's heartbeat. ``memo``: the poll path, which may answer
    from this process's memory (see above); otherwise from the shared cache or the database.

    Drift turns ``unknown`` after three silent intervals, so one write per interval is enough.
    """
    if not token or not token.startswith("sva_"):
        return None
    token_hash = hash_token(token)
    now = time.time()
    generation = _agents_generation(now)
    identity = _memo.identities.get(token_hash) if memo else None
    if identity is not None and (identity.generation != generation or now >= identity.until):
        identity = None
    fetched = False
    if identity is None:
        key = _auth_key(token_hash)
        entry = cache.get(key)
        if entry is not None and entry.get("generation") != generation:
            entry = None  # read before an agent changed: its revocation may be in the database
        if entry is None:
            entry = _identity_from_database(token_hash)
            if entry is None:
                return None
            fetched = True
            entry["generation"] = generation
            cache.set(key, entry, conf.agent_auth_cache_seconds())
        identity = _Identity(
            principal=AgentPrincipal(
                id=entry["id"],
                name=entry["name"],
                region_id=entry["region_id"],
                region_slug=entry["region_slug"],
                poll_interval=entry["poll_interval"],
            ),
            seen=entry["seen"],
            generation=generation,
            until=now + conf.agent_auth_cache_seconds(),
        )
        if memo:
            if len(_memo.identities) >= _MAX_IDENTITIES:
                _memo.identities.clear()
            _memo.identities[token_hash] = identity
    if now - identity.seen >= max(1.0, identity.principal.poll_interval):
        identity.seen = now
        _memo.heartbeats[identity.principal.id] = now
    if _memo.heartbeats and (
        fetched or now - _memo.heartbeats_written_at >= _HEARTBEAT_WRITE_SECONDS
    ):
        write_heartbeats(now)
    return identity.principal


def write_heartbeats(now: float | None = None) -> int:
    """Write the heartbeats this process holds: one UPDATE per second they fall in (one or
    two), to the whole second; ``last_seen`` never goes back. Returns the rows written.

    A database that refuses loses them (logged): the poll is answered all the same, and the
    agent's next poll brings a new heartbeat.
    """
    pending, _memo.heartbeats = _memo.heartbeats, {}
    _memo.heartbeats_written_at = time.time() if now is None else now
    by_second: dict[int, list[str]] = {}
    for agent_id, at in pending.items():
        by_second.setdefault(int(at), []).append(agent_id)
    written = 0
    try:
        for second, agent_ids in sorted(by_second.items()):
            seen = datetime.fromtimestamp(second, UTC)
            written += (
                Agent.objects.filter(pk__in=agent_ids)
                .filter(Q(last_seen__isnull=True) | Q(last_seen__lt=seen))
                .update(last_seen=seen)
            )
    except DatabaseError as exc:
        log.warning("heartbeats of %d agent(s) not written: %s", len(pending), exc)
    return written


# --------------------------------------------------------------------------- delivery


def push_backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 2 ** max(0, attempts - 1) * 2))


@dataclass(frozen=True)
class DeliveryOutcome:
    state: str
    retry_in: float | None = None


def deliver(delivery_id: int, *, now=None) -> DeliveryOutcome:
    """One push attempt: claim the outbox row, POST the bundle, record what happened."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=conf.push_timeout() * 3)
    claimed = Delivery.objects.filter(
        pk=delivery_id,
        state=Delivery.State.PENDING,
        next_attempt_at__lte=now + timedelta(seconds=1),
    ).update(next_attempt_at=lease, attempts=F("attempts") + 1, updated_at=timezone.now())
    delivery = Delivery.objects.select_related("bundle", "agent").filter(pk=delivery_id).first()
    if delivery is None:
        return DeliveryOutcome("missing")
    if not claimed:
        return DeliveryOutcome(delivery.state)
    agent, bundle = delivery.agent, delivery.bundle
    if agent.revoked_at or not agent.callback_url:
        return _finish(delivery, now, Delivery.State.FAILED, None, "agent revoked or no callback")
    # The database decides what is latest: a cache that lost an invalidation must not make the
    # real latest bundle look superseded.
    latest = (
        ConfigBundle.objects.filter(region_id=bundle.region_id)
        .order_by("-version")
        .values_list("digest", flat=True)
        .first()
    )
    if latest != bundle.digest:
        return _finish(delivery, now, Delivery.State.SUPERSEDED, None, "a newer bundle exists")
    # A push is only a "refresh now" signal: it carries nothing the agent trusts.
    request = urllib.request.Request(
        agent.callback_url.rstrip("/") + "/refresh",
        data=protocol.canonical_json({"region": agent.region.slug, "version": bundle.version}),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    started = time.monotonic()
    status, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=conf.push_timeout()) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        error = exc.read(2000).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        error = str(getattr(exc, "reason", exc))
    elapsed = int((time.monotonic() - started) * 1000)
    if status in (200, 202, 204):
        state = Delivery.State.DELIVERED
    elif status in (400, 404, 405, 409, 413):
        state = Delivery.State.REFUSED  # the agent refused the signal: retrying cannot help
    elif delivery.attempts >= conf.push_max_attempts():
        state = Delivery.State.FAILED
    else:
        state = Delivery.State.PENDING
    return _finish(delivery, now, state, status, error, elapsed)


def _finish(delivery, now, state, status, error, elapsed=0) -> DeliveryOutcome:
    retry_in = None
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=now,
            duration_ms=elapsed,
            ok=state == Delivery.State.DELIVERED,
            http_status=status,
            error=error[:2000],
        )
        fields = {"state": state, "last_error": error[:2000], "updated_at": timezone.now()}
        if state == Delivery.State.PENDING:
            backoff = push_backoff(delivery.attempts)
            fields["next_attempt_at"] = now + backoff
            retry_in = backoff.total_seconds()
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
    return DeliveryOutcome(state, retry_in)


def due_deliveries(*, now=None) -> list[int]:
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )


# --------------------------------------------------------------------------- agents


def _check_may_manage(by, region) -> None:
    from controlplane.permissions import can

    if by is None:
        return
    if not (by.has_perm("regions.add_agent") and can(by, "view", region)):
        raise NotAllowed(f"You may not manage agents in {region.slug}.")


def _forget_agent(token_hash: str) -> None:
    """An agent was revoked, got a new token or changed: drop its cached identity now and,
    after commit, again (a poll may have re-cached it in between) with a new agents'
    generation, so every process drops what it holds within a second."""
    key = _auth_key(token_hash)
    cache.delete(key)
    _memo.identities.pop(token_hash, None)

    def forget():
        cache.delete(key, after_commit=True)
        _new_agents_generation()

    transaction.on_commit(forget)


def agent_enroll(*, region, name: str, callback_url: str = "", poll_interval: int = 30, by=None):
    """Create an agent; returns ``(agent, token)``. The token is shown once and stored hashed."""
    _check_may_manage(by, region)
    token = new_token()
    with transaction.atomic():
        agent = Agent(
            region=region,
            name=name,
            callback_url=callback_url,
            poll_interval=poll_interval,
            token_hash=hash_token(token),
            token_hint=token[:10],
            created_by=by,
        )
        agent.full_clean()
        agent.save()
        record_event(
            actor=by,
            action="agent.enrolled",
            obj=agent,
            data={"region": region.slug, "name": name, "callback_url": callback_url},
        )
    return agent, token


def agent_rotate_token(*, agent, by=None) -> str:
    _check_may_manage(by, agent.region)
    token = new_token()
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        if agent.revoked_at:
            raise DomainError("A revoked agent cannot get a new token; enroll a new one.")
        old_hash = agent.token_hash
        agent.token_hash, agent.token_hint = hash_token(token), token[:10]
        agent.save(update_fields=["token_hash", "token_hint"])
        record_event(actor=by, action="agent.token_rotated", obj=agent, data={})
        _forget_agent(old_hash)
    return token


def agent_revoke(*, agent, by=None) -> Agent:
    _check_may_manage(by, agent.region)
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        if agent.revoked_at:
            return agent
        agent.revoked_at = timezone.now()
        agent.save(update_fields=["revoked_at"])
        Delivery.objects.filter(agent=agent, state=Delivery.State.PENDING).update(
            state=Delivery.State.FAILED, last_error="agent revoked", updated_at=timezone.now()
        )
        record_event(actor=by, action="agent.revoked", obj=agent, data={})
        _forget_agent(agent.token_hash)
    return agent


class UnverifiableReport(DomainError):
    """An agent reported a bundle its region never had: refused, logged, nothing stored."""

    code = "unknown_bundle"
    http_status = 409


def _check_report(*, agent_pk, region_id: int, data: dict) -> None:
    version, digest = data.get("applied_version"), data.get("applied_digest") or ""
    if version is None and not digest:
        return  # nothing applied yet: nothing to check
    exists = ConfigBundle.objects.filter(
        region_id=region_id, version=version or 0, digest=digest
    ).exists()
    if exists:
        return
    log.warning(
        "agent %s reported applied version %r digest %r, which its region never published; "
        "report refused",
        agent_pk,
        version,
        digest,
    )
    raise UnverifiableReport(
        f"applied_version {version!r} with applied_digest {digest!r} is not a bundle of this "
        "region; report refused."
    )


def agent_report_status(*, principal: AgentPrincipal, data: dict, now=None) -> Agent:
    """An agent's report: what it applied, its software version, its last refusal.

    The control plane believes only what it can check: the applied version and digest must name
    a bundle of the agent's own region, or the whole report is refused (and logged).
    """
    now = now or timezone.now()
    error = data.get("last_error") or {}
    _check_report(agent_pk=principal.id, region_id=principal.region_id, data=data)
    with transaction.atomic():
        # Lock the agent row only, and only against other writers of it: publishing holds the
        # region row (select_related would join it into FOR UPDATE) and, at commit, checks the
        # deliveries' foreign keys with FOR KEY SHARE on the agent rows, which FOR UPDATE blocks
        # while this report waits for the audit chain head that publishing holds: a deadlock.
        agent = (
            Agent.objects.select_for_update(of=("self",), no_key=True)
            .select_related("region")
            .get(pk=principal.id)
        )
        before = (agent.applied_version, agent.applied_digest, agent.last_error_code)
        software_before = agent.software_version
        agent.applied_version = data.get("applied_version")
        agent.applied_digest = data.get("applied_digest") or ""
        agent.software_version = (data.get("agent_version") or "")[:40]
        agent.last_error_code = (error.get("code") or "")[:40]
        agent.last_error = (error.get("message") or "")[:2000]
        agent.reported_at = agent.last_seen = now
        agent.last_refresh_at = data.get("last_refresh_at")
        agent.trust_expires = data.get("expires")
        latest = selectors.latest_bundle(agent.region)
        agent.desired_version = latest.version if latest else None
        agent.desired_digest = latest.digest if latest else None
        agent.drift = drift_state(
            last_seen=now,
            poll_interval=agent.poll_interval,
            applied_digest=agent.applied_digest,
            last_error_code=agent.last_error_code,
            desired_digest=latest.digest if latest else None,
            now=now,
        )
        agent.save()
        after = (agent.applied_version, agent.applied_digest, agent.last_error_code)
        agent_actor = Actor("agent", str(agent.pk), str(agent))
        if agent.software_version != software_before:
            # What enforces the region's state changed: an upgrade, a downgrade, or another
            # program reporting with the agent's token.
            record_event(
                actor=agent_actor,
                action="agent.software_changed",
                obj=agent,
                data={"from": software_before, "to": agent.software_version},
            )
        if after != before:
            action = "agent.refused_bundle" if agent.last_error_code else "agent.applied_bundle"
            record_event(
                actor=agent_actor,
                action=action,
                obj=agent,
                data={
                    "applied_version": agent.applied_version,
                    "applied_digest": agent.applied_digest,
                    "error": error or None,
                },
            )
    return agent


def refresh_drift(*, now=None) -> dict:
    """Beat: store each agent's drift (indexed), from timestamps and digests."""
    now = now or timezone.now()
    counts = {}
    agents = selectors.agents_with_drift(Agent.objects.all(), now=now)
    for agent in agents:
        counts[agent.live_drift] = counts.get(agent.live_drift, 0) + 1
        if agent.drift != agent.live_drift:
            Agent.objects.filter(pk=agent.pk).update(drift=agent.live_drift)
    return counts


def agent_update(*, agent, by=None) -> Agent:
    """Change an agent's callback URL or poll interval (admin)."""
    _check_may_manage(by, agent.region)
    with transaction.atomic():
        before = Agent.objects.select_for_update().get(pk=agent.pk)
        agent.full_clean()
        agent.save(update_fields=["name", "callback_url", "poll_interval"])
        changes = {
            f: {"from": getattr(before, f), "to": getattr(agent, f)}
            for f in ("name", "callback_url", "poll_interval")
            if getattr(before, f) != getattr(agent, f)
        }
        if changes:
            record_event(actor=by, action="agent.changed", obj=agent, data=changes)
            _forget_agent(agent.token_hash)
    return agent


# --------------------------------------------------------------------------- repository keys


def repository_init(*, root_keys: int = 1, threshold: int | None = None) -> dict:
    """Create the TUF repository (keys and first metadata) unless it exists; audited."""
    with transaction.atomic():
        result = repository.init(root_keys=root_keys, threshold=threshold)
        if result["created"]:
            record_event(
                actor=Actor.system("bundle_keys"),
                action="tuf.initialised",
                data={"root_keys": root_keys, "threshold": result["threshold"]},
            )
    forget_timestamp()
    return result


def repository_rotate(*, role: str, region=None, revoke: bool = False) -> dict:
    """A new key for a role: ``root``, ``targets``, ``snapshot``, ``timestamp`` (a new root
    version, signed with the offline root keys), or ``region`` (a new delegation from targets,
    and the region's bundle re-signed with the new key). ``revoke`` records that the old key is
    compromised; the mechanism is the same, since a key TUF no longer lists signs nothing."""
    action = "tuf.key_revoked" if revoke else "tuf.key_rotated"
    with transaction.atomic():
        if role == "region":
            if region is None:
                raise DomainError("Rotating a region key needs the region.", code="region")
            region = Region.objects.select_for_update().get(pk=region.pk)
            latest = selectors.latest_bundle(region)
            if latest is None:
                raise DomainError(f"{region.slug} has no bundle yet; publish it first.")
            old = repository.load("targets").signed.delegations.roles[region.slug].keyids
            role_version = repository.publish_target(
                slug=region.slug,
                data=bytes(latest.target),
                expires=latest.expires,
                rotate_key=True,
            )
            ConfigBundle.objects.filter(pk=latest.pk).update(role_version=role_version)
            result = {"role": region.slug, "revoked_keyids": list(old)}
            obj = region
        else:
            result = repository.rotate_root_keys(role=role)
            obj = None
        record_event(actor=Actor.system("bundle_keys"), action=action, obj=obj, data=result)
    forget_timestamp()
    return result
