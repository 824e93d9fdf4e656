"""Reads of the model registry used by the pages, the API and other apps (bundles)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps as django_apps
from django.db.models import Count, Q

from controlplane.modelregistry.models import (
    ArtifactLocation,
    DeploymentApproval,
    DeploymentStatus,
    MLModel,
    ModelVersion,
)
from controlplane.permissions import is_auditor, regions_for, restrict

MAX_LINEAGE_DEPTH = 50

APPROVAL_RELATIONS = (
    "version__model",
    "version__base_version__model",
    "region__jurisdiction",
    "requested_by",
    "decided_by",
    "retired_by",
)


def lineage_chain(version: ModelVersion) -> tuple[list[ModelVersion], str]:
    """The version, its base, its base's base... with lineage facts loaded.

    One query (plus three prefetches) per level. Returns ``(chain, broken)`` where ``broken``
    says why the walk stopped early (a loop or an absurd depth), or is empty.
    """
    chain: list[ModelVersion] = []
    seen: set[int] = set()
    next_pk = version.pk
    while next_pk is not None:
        if next_pk in seen:
            return chain, f"{chain[-1]} leads back to a version already in the chain"
        if len(chain) >= MAX_LINEAGE_DEPTH:
            return chain, f"more than {MAX_LINEAGE_DEPTH} base versions"
        seen.add(next_pk)
        step = ModelVersion.objects.with_lineage().get(pk=next_pk)
        chain.append(step)
        next_pk = step.base_version_id
    return chain, ""


def version_by_label(name: str, version: str):
    return ModelVersion.objects.with_lineage().get(model__name=name, version=version)


def approval_for_page(user, pk: int) -> DeploymentApproval:
    """Approvals in regions the user may view, plus the user's own requests."""
    base = DeploymentApproval.objects.all()
    visible = restrict(base, user, "view") | base.filter(requested_by=user.pk)
    return visible.select_related(*APPROVAL_RELATIONS).get(pk=pk)


def deployment_queue(user, *, status: str | None = "requested", region: str | None = None):
    """The approver's queue, oldest first: regions the user decides for (auditors: all)."""
    qs = restrict(
        DeploymentApproval.objects.all(),
        user,
        "view" if is_auditor(user) else "approve_deployments",
    )
    if status:
        qs = qs.filter(status=status)
    if region:
        qs = qs.filter(region__slug=region)
    return qs.select_related(*APPROVAL_RELATIONS).order_by("requested_at", "pk")


def requests_of(user):
    return (
        DeploymentApproval.objects.filter(requested_by=user.pk)
        .select_related(*APPROVAL_RELATIONS)
        .order_by("-requested_at", "-pk")
    )


def approvals_for_version(user, version: ModelVersion):
    return (
        restrict(DeploymentApproval.objects.filter(version=version), user, "view")
        .select_related("region", "requested_by", "decided_by")
        .order_by("region__slug", "-requested_at")
    )


def versions_of(model: MLModel):
    return (
        ModelVersion.objects.filter(model=model)
        .select_related("base_version__model")
        .prefetch_related("training_jurisdictions")
        .order_by("-registered_at", "-pk")
    )


# --------------------------------------------------------------------------------------------
# Desired state per region (for bundles, issue 5)
# --------------------------------------------------------------------------------------------


def desired_versions_for_region(region) -> list[dict]:
    """The region's desired model versions, one per model, as the bundle carries them.

    ``[{"name", "version", "digest", "artifact_uri", "training_mode"}]`` sorted by name;
    ``artifact_uri`` is the copy stored in this region, or None when none is registered.
    Two queries whatever the number of models.
    """
    approvals = (
        DeploymentApproval.objects.filter(region=region, is_desired=True)
        .select_related("version__model")
        .order_by("version__model__name")
    )
    rows = [(a.version, a.pk) for a in approvals]
    uris = dict(
        ArtifactLocation.objects.filter(
            region=region, version_id__in=[v.pk for v, _ in rows]
        ).values_list("version_id", "uri")
    )
    return [
        {
            "name": version.model.name,
            "version": version.version,
            "digest": version.digest,
            "artifact_uri": uris.get(version.pk),
            "training_mode": version.training_mode,
        }
        for version, _ in rows
    ]


# --------------------------------------------------------------------------------------------
# Models by regions
# --------------------------------------------------------------------------------------------


@dataclass
class Cell:
    region: object = None
    desired: ModelVersion | None = None
    approved: list = field(default_factory=list)  # other approved (fallback) versions
    pending: int = 0
    live: list = field(default_factory=list)  # (agent name, version label or None)


@dataclass
class Row:
    model: MLModel
    cells: list  # one Cell per region, in the regions' order


@dataclass
class Matrix:
    regions: list
    rows: list
    live_available: bool


def _live_versions(regions) -> tuple[bool, dict]:
    """What each region's agents run: ``{(region_id, model name): [(agent, version)]}``.

    Agents report the bundle (version and digest) they applied; the bundle's payload lists the
    model versions in it. Two queries. ``available`` is False when no agent identities exist
    in this installation (the distribution app is not installed).
    """
    try:
        Agent = django_apps.get_model("regions", "Agent")
        ConfigBundle = django_apps.get_model("distribution", "ConfigBundle")
    except LookupError:
        return False, {}
    agents = list(
        Agent.objects.filter(region__in=[r.pk for r in regions], revoked_at__isnull=True)
        .exclude(applied_digest="")
        .only("pk", "name", "region_id", "applied_digest")
    )
    if not agents:
        return True, {}
    bundles = {
        (b.region_id, b.digest): b.payload
        for b in ConfigBundle.objects.filter(
            region__in={a.region_id for a in agents},
            digest__in={a.applied_digest for a in agents},
        ).only("region_id", "digest", "payload")
    }
    live: dict = {}
    for agent in agents:
        payload = bundles.get((agent.region_id, agent.applied_digest)) or {}
        for item in (payload.get("content") or {}).get("models", []):
            live.setdefault((agent.region_id, item.get("name")), []).append(
                (agent.name, item.get("version"))
            )
    return True, live


def models_by_regions(user, *, models=None) -> Matrix:
    """Every model against the regions the user may view: desired, approved, pending, live.

    A fixed number of queries whatever the number of models and versions: regions, models,
    the approvals with their versions, and two for what the agents report.
    """
    regions = list(regions_for(user, "view").select_related("jurisdiction").order_by("slug"))
    models = list(MLModel.objects.order_by("name") if models is None else models)
    approvals = (
        restrict(DeploymentApproval.objects.all(), user, "view")
        .filter(Q(status=DeploymentStatus.APPROVED) | Q(status=DeploymentStatus.REQUESTED))
        .select_related("version")
        .order_by("-decided_at", "-pk")
        .only(
            "pk",
            "model_id",
            "region_id",
            "status",
            "is_desired",
            "decided_at",
            "version__id",
            "version__version",
            "version__digest",
            "version__model_id",
        )
    )
    cells: dict = {}
    for a in approvals:
        cell = cells.setdefault((a.model_id, a.region_id), Cell())
        if a.status == DeploymentStatus.REQUESTED:
            cell.pending += 1
        elif a.is_desired:
            cell.desired = a.version
        else:
            cell.approved.append(a.version)
    live_available, live = _live_versions(regions)
    rows = []
    for model in models:
        row_cells = []
        for region in regions:
            cell = cells.get((model.pk, region.pk)) or Cell()
            cell.region = region
            cell.live = live.get((region.pk, model.name), [])
            row_cells.append(cell)
        rows.append(Row(model=model, cells=row_cells))
    return Matrix(regions=regions, rows=rows, live_available=live_available)


def region_models(user, region) -> list[DeploymentApproval]:
    """Desired and pending deployments in one region (the region page's panel)."""
    return list(
        restrict(DeploymentApproval.objects.filter(region=region), user, "view")
        .filter(Q(is_desired=True) | Q(status=DeploymentStatus.REQUESTED))
        .select_related("version__model")
        .order_by("version__model__name", "status")
    )


def dashboard_summary(user) -> dict:
    """Requests the person decides (and how many of them are blocked) and their own, in one
    query."""
    decidable = Q(region__in=regions_for(user, "approve_deployments"))
    mine = Q(requested_by=user.pk)
    return DeploymentApproval.objects.filter(
        decidable | mine, status=DeploymentStatus.REQUESTED
    ).aggregate(
        pending=Count("pk", filter=decidable),
        blocked=Count("pk", filter=decidable & Q(policy_allowed=False)),
        mine=Count("pk", filter=mine),
    )


__all__ = [
    "approval_for_page",
    "desired_versions_for_region",
    "lineage_chain",
    "models_by_regions",
]


def live_versions(regions) -> tuple[bool, dict]:
    """What each region's agents run (see ``_live_versions``); for reports."""
    return _live_versions(regions)
