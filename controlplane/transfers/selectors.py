"""Reads of the transfer register used by several views, the API and other apps."""

from __future__ import annotations

from datetime import date, timedelta

from django.apps import apps
from django.db.models import Count, Prefetch, Q, Window
from django.utils import timezone

from controlplane.permissions import is_auditor, restrict
from controlplane.transfers import policy as p
from controlplane.transfers.models import (
    IN_EFFECT,
    Mechanism,
    Party,
    TransferRecord,
    TransferRequest,
    TransferStatus,
)

# The regions and countries of a request are joined; its parties, mechanisms and people come
# in one prefetch query each. Joining all of them (17 tables) cost PostgreSQL about 30 ms of
# planning per query, many times what running it costs.
REQUEST_JOINS = (
    "source_region__jurisdiction",
    "source_region__country",
    "destination_region",
    "destination_country__jurisdiction",
)


def with_request_relations(requests):
    """``requests`` with every relation a page, the API or a report shows of a request, in a
    fixed number of queries whatever their number."""
    parties = Party.objects.select_related("country__jurisdiction")
    return requests.select_related(*REQUEST_JOINS).prefetch_related(
        Prefetch("exporter", queryset=parties),
        Prefetch("importer", queryset=parties),
        "requested_by",
        "decided_by",
        "policy_mechanism",
        "chosen_mechanism",
        "data_categories",
    )


def today() -> date:
    return timezone.localdate()


def mechanism_set() -> p.MechanismSet:
    """Every mechanism on record, as the engine's index (a fixed number of queries)."""
    return p.MechanismSet(m.to_policy() for m in Mechanism.objects.with_relations())


def visible_requests(user):
    """Requests in regions the user may view, plus the user's own."""
    base = TransferRequest.objects.all()
    return (restrict(base, user, "view") | base.filter(requested_by=user.pk)).distinct()


def request_for_page(user, pk: int) -> TransferRequest:
    return with_request_relations(visible_requests(user)).get(pk=pk)


class NotYours(Exception):
    """The person sees the request but does not decide on its region (a 403)."""


def decidable_request(user, pk) -> TransferRequest:
    """The request ``pk`` if ``user`` decides on its source region.

    Raises ``NotYours`` when they can see it but not decide (403), and
    ``TransferRequest.DoesNotExist`` when they cannot see it, whether or not it exists in a
    region they cannot see (404): the error code reveals nothing.
    """
    found = restrict(TransferRequest.objects.all(), user, "approve_transfers").filter(pk=pk).first()
    if found is not None:
        return found
    if visible_requests(user).filter(pk=pk).exists():
        raise NotYours("Only a DPO of the source region decides this request.")
    raise TransferRequest.DoesNotExist


def dpo_queue(user):
    """The DPO's queue, every status (the page's FilterSet narrows it), oldest first: the
    regions the user decides for (auditors: all).

    A fixed number of queries whatever the length: relations joined, categories prefetched.
    """
    qs = restrict(
        TransferRequest.objects.all(), user, "view" if is_auditor(user) else "approve_transfers"
    )
    return with_request_relations(qs).order_by("submitted_at", "created_at", "pk")


def mechanisms(user=None):
    """The mechanisms register: every mechanism, for everyone (it is the shared register)."""
    return Mechanism.objects.select_related(
        "from_jurisdiction", "to_country", "to_jurisdiction", "exporter", "importer"
    ).order_by("from_jurisdiction__code", "kind", "name", "pk")


def transfer_log(user):
    """Executed transfers in the user's regions, newest first."""
    return (
        restrict(TransferRecord.objects.all(), user, "view")
        .select_related("source_region", "destination_country", "destination_region", "request")
        .order_by("-executed_at", "-pk")
    )


def requests_of(user):
    return with_request_relations(TransferRequest.objects.filter(requested_by=user.pk)).order_by(
        "-created_at"
    )


def _categories_covered(granted: set[str], wanted) -> bool:
    frozen = frozenset(granted)
    return all(p.covers(frozen, key) for key in wanted)


def covering_requests(
    *,
    categories,
    on: date | None = None,
    source_region=None,
    source_jurisdiction=None,
    destination_region=None,
    destination_country=None,
):
    """Approved requests in effect on ``on`` that cover ``categories`` on this route.

    The source is a region, or any region of a jurisdiction (code or object). The destination
    is a region (then a request naming that region, or its country without a region, covers
    it) or a country. Category keys are covered by the same key or a parent key.
    """
    on = on or today()
    qs = TransferRequest.objects.filter(status__in=IN_EFFECT).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gt=on)
    )
    if source_region is not None:
        qs = qs.filter(source_region=source_region)
    elif source_jurisdiction is not None:
        code = getattr(source_jurisdiction, "code", source_jurisdiction)
        qs = qs.filter(source_region__jurisdiction__code=code)
    else:
        raise ValueError("Give source_region or source_jurisdiction.")
    if destination_region is not None:
        qs = qs.filter(
            Q(destination_region=destination_region)
            | Q(destination_region__isnull=True, destination_country=destination_region.country_id)
        )
    elif destination_country is not None:
        code = getattr(destination_country, "code", destination_country)
        qs = qs.filter(destination_country__code=code)
    else:
        raise ValueError("Give destination_region or destination_country.")
    wanted = [getattr(c, "key", c) for c in categories]
    found = []
    for tr in qs.prefetch_related("data_categories").select_related("source_region"):
        if _categories_covered({c.key for c in tr.data_categories.all()}, wanted):
            found.append(tr)
    return found


def active_transfer_covers(
    *,
    categories,
    on: date | None = None,
    source_region=None,
    source_jurisdiction=None,
    destination_region=None,
    destination_country=None,
) -> bool:
    """Whether an approved transfer in effect covers these categories on this route.

    For the model registry: ``active_transfer_covers(source_jurisdiction="EEA",
    destination_region=us_east, categories=["user.contact.email"])``.
    """
    return bool(
        covering_requests(
            categories=categories,
            on=on,
            source_region=source_region,
            source_jurisdiction=source_jurisdiction,
            destination_region=destination_region,
            destination_country=destination_country,
        )
    )


def expiring_mechanisms(*, on: date | None = None, within_days: int = 30):
    """In-force mechanisms whose end, review or TIA falls within ``within_days``.

    Returns (mechanism, what, date) tuples sorted by date.
    """
    on = on or today()
    horizon = on + timedelta(days=within_days)
    rows = []
    qs = Mechanism.objects.filter(status=p.IN_FORCE).filter(
        Q(ends_on__lte=horizon)
        | Q(review_on__lte=horizon)
        | Q(tia_on__isnull=False, kind__in=[p.KIND_SCC, p.KIND_IDTA, p.KIND_UK_ADDENDUM])
    )
    for m in qs.select_related("exporter", "importer"):
        if m.ends_on and m.ends_on <= horizon:
            rows.append((m, "ends", m.ends_on))
        if m.review_on and on <= m.review_on <= horizon:
            rows.append((m, "review due", m.review_on))
        tia_end = m.tia_expires_on()
        if tia_end and tia_end <= horizon:
            rows.append((m, "TIA lapses", tia_end))
    rows.sort(key=lambda row: row[2])
    return rows


def dashboard_summary(user, *, on: date | None = None) -> dict:
    """The dashboard's transfer figures in four queries, whatever the size of the register:
    each list of ten carries the count of all its rows (a window count)."""
    on = on or today()
    counts = restrict(
        TransferRequest.objects.filter(status=TransferStatus.SUBMITTED),
        user,
        "view" if is_auditor(user) else "approve_transfers",
    ).aggregate(pending=Count("pk"), pending_blocked=Count("pk", filter=Q(policy_allowed=False)))
    suspended = list(
        restrict(TransferRequest.objects.filter(status=TransferStatus.SUSPENDED), user, "view")
        .select_related("source_region", "destination_country", "suspended_because")
        .annotate(total=Window(Count("pk")))
        .order_by("-ended_at")[:10]
    )
    violations = list(
        restrict(TransferRecord.objects.filter(violation=True), user, "view")
        .select_related("source_region", "destination_country")
        .annotate(total=Window(Count("pk")))[:10]
    )
    return {
        "pending": counts["pending"],
        "pending_blocked": counts["pending_blocked"],
        "suspended": suspended,
        "suspended_count": suspended[0].total if suspended else 0,
        "violations": violations,
        "violation_count": violations[0].total if violations else 0,
        "expiring": expiring_mechanisms(on=on)[:10],
    }


def _split_visible(user, rows):
    """(the rows ``user`` may see, how many others exist in regions they cannot see)."""
    rows = list(rows)
    if not rows:
        return [], 0
    seen = set(
        restrict(
            TransferRequest.objects.filter(pk__in=[r.pk for r in rows]), user, "view"
        ).values_list("pk", flat=True)
    )
    shown = [r for r in rows if r.pk in seen]
    return shown, len(rows) - len(shown)


def mechanism_impact(user, mechanism) -> dict:
    """The mechanism page: transfers relying on it now, transfers suspended when it ended and
    the deployments withdrawn with them. Rows in regions the person cannot see are never
    shown, and never silently dropped either: each list says how many more there are."""
    related = ("source_region", "destination_country", "exporter", "importer")
    relying = (
        TransferRequest.objects.filter(policy_mechanism=mechanism)
        .exclude(status__in=["rejected", "revoked", "expired", "suspended"])
        .select_related(*related)
    )
    suspended = TransferRequest.objects.filter(suspended_because=mechanism).select_related(*related)
    relying, relying_hidden = _split_visible(user, relying)
    suspended, suspended_hidden = _split_visible(user, suspended)
    withdrawn, withdrawn_all = [], None
    if apps.is_installed("controlplane.modelregistry"):  # the app built on this one
        DeploymentApproval = apps.get_model("modelregistry", "DeploymentApproval")
        withdrawn_all = DeploymentApproval.objects.filter(
            withdrawn_because__suspended_because=mechanism
        )
        withdrawn = list(
            restrict(withdrawn_all, user, "view").select_related(
                "version__model", "region", "withdrawn_because"
            )
        )
    return {
        "relying": relying,
        "relying_hidden": relying_hidden,
        "suspended": suspended,
        "suspended_hidden": suspended_hidden,
        "withdrawn": withdrawn,
        "withdrawn_hidden": (withdrawn_all.count() - len(withdrawn)) if withdrawn_all else 0,
    }
