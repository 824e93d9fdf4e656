"""The one permission choke point.

Every list, page and API viewset narrows its queryset with ``restrict()``; no view
filters by region on its own. Rights are django-guardian object permissions on
``Region``; a model says how it reaches its region with a ``region_path``
attribute (``"region"``, ``"source_region"``, ...; ``None`` for Region itself). A model whose
rows name several regions sets ``region_path_all = True``: a row is allowed only when every
region it names is.
"""

from django.contrib.auth.models import Group
from guardian.shortcuts import get_objects_for_user

from controlplane.errors import NotAllowed
from regions.models import Region


class Role:
    DPO = "dpo"
    ML_ENGINEER = "ml-engineer"
    REQUESTER = "requester"
    AUDITOR = "auditor"

    ALL = (DPO, ML_ENGINEER, REQUESTER, AUDITOR)


ACTION_PERMISSIONS = {
    "view": "regions.view_region",
    "approve_transfers": "regions.approve_transfers",
    "approve_deployments": "regions.approve_deployments",
}


def _permission(action: str) -> str:
    try:
        return ACTION_PERMISSIONS[action]
    except KeyError:
        raise ValueError(
            f"Unknown action {action!r}; use one of {sorted(ACTION_PERMISSIONS)}"
        ) from None


def role_names(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(role_names(user) & set(roles))


def is_auditor(user) -> bool:
    """Auditors read everything and change nothing (superusers are never held read-only)."""
    return not user.is_superuser and has_role(user, Role.AUDITOR)


def sees_every_region(user) -> bool:
    return user.is_superuser or is_auditor(user)


def regions_for(user, action: str = "view"):
    """The regions on which ``user`` may perform ``action``, as a lazy queryset."""
    perm = _permission(action)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Region.objects.none()
    if user.is_superuser or (action == "view" and is_auditor(user)):
        return Region.objects.all()
    return get_objects_for_user(user, perm, klass=Region, accept_global_perms=True)


def restrict(queryset, user, action: str = "view"):
    """Narrow ``queryset`` to the rows whose region ``user`` may ``action``."""
    model = queryset.model
    if not hasattr(model, "region_path"):
        raise TypeError(f"{model.__name__} has no region_path; restrict() cannot scope it.")
    if user.is_superuser or (action == "view" and is_auditor(user) and user.is_active):
        _permission(action)
        return queryset
    regions = regions_for(user, action)
    path = model.region_path
    if getattr(model, "region_path_all", False):
        # A row that names several regions (a report's scope): every one must be allowed.
        hidden = Region.objects.exclude(pk__in=regions.values("pk"))
        return queryset.exclude(**{f"{path}__in": hidden.values("pk")})
    lookup = "pk__in" if path is None else f"{path}__in"
    return queryset.filter(**{lookup: regions.values("pk")})


def can(user, action: str, region: Region) -> bool:
    """Whether ``user`` may ``action`` on ``region`` (a single object check)."""
    perm = _permission(action)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if action == "view" and is_auditor(user):
        return True
    return user.has_perm(perm, region) or user.has_perm(perm)


def ensure_may_change(user) -> None:
    """The first check of every service that writes for a person: signed in, active, and not
    an auditor (auditors read everything and change nothing)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise NotAllowed("Sign in first.")
    if is_auditor(user):
        raise NotAllowed("Auditors have read-only access.")


def ensure_role_groups() -> dict[str, Group]:
    return {name: Group.objects.get_or_create(name=name)[0] for name in Role.ALL}
