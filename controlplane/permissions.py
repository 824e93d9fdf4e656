"""The one permission choke point.

Every list, page and API viewset narrows its queryset with ``restrict()``; no view
filters by region on its own. Rights are django-guardian object permissions on
``Region``; a model says how it reaches its region with a ``region_path``
attribute (``"region"``, ``"source_region"``, ...; ``None`` for Region itself). A model whose
rows name several regions sets ``region_path_all = True``: a row is allowed only when every
region it names is.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from guardian.models import GroupObjectPermission, UserObjectPermission

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
    return standing_of(user).roles


def has_role(user, *roles: str) -> bool:
    return bool(role_names(user) & set(roles))


def is_auditor(user) -> bool:
    """Auditors read everything and change nothing (superusers are never held read-only)."""
    return not user.is_superuser and has_role(user, Role.AUDITOR)


def sees_every_region(user) -> bool:
    return user.is_superuser or is_auditor(user)


def regions_for(user, action: str = "view"):
    """The regions on which ``user`` may perform ``action``, as a queryset."""
    perm = _permission(action)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Region.objects.none()
    if user.is_superuser or (action == "view" and is_auditor(user)):
        return Region.objects.all()
    allowed = _region_ids(user, action, perm)
    return Region.objects.all() if allowed is None else Region.objects.filter(pk__in=allowed)


def _region_ids(user, action: str, perm: str) -> list[int] | None:
    """The pks of the regions on which ``user`` holds ``perm`` (``None``: every region, a
    global permission). The queries that ``restrict()`` narrows filter by this short list
    instead of repeating guardian's permission sub-queries in each of them."""
    return standing_of(user).regions.get(perm.split(".", 1)[1], [])


@dataclass(frozen=True)
class Standing:
    """A person's roles and region rights: codename -> region pks, ``None`` for every region."""

    roles: frozenset[str]
    regions: dict[str, list[int] | None]


def standing_of(user) -> Standing:
    """Read once per user object (one query), which lives for one request, as Django's own
    permission cache on it does: a right granted during a request counts from the next."""
    standing = getattr(user, "_standing", None)
    if standing is None:
        standing = user._standing = _read_standing(user.pk)
    return standing


def _read_standing(user_pk) -> Standing:
    """Roles and region rights in one query. It answers what guardian's
    ``get_objects_for_user(accept_global_perms=True)`` answers for each right (a global
    permission, held directly or through a group, means every region; otherwise the object
    permissions held directly or through a group; tests/regions/test_visibility.py checks it),
    without the four to six queries guardian and ModelBackend take for it on every page."""
    codenames = [perm.split(".", 1)[1] for perm in ACTION_PERMISSIONS.values()]
    region_type = ContentType.objects.get_for_model(Region).pk  # cached per process by Django
    with connection.cursor() as cursor:
        cursor.execute(_standing_sql(), _standing_params(user_pk, region_type, codenames))
        rows = cursor.fetchall()
    roles, regions = set(), {}
    for kind, value, codename in rows:
        if kind == "role":
            roles.add(value)
        elif kind == "global":
            regions[codename] = None
        elif regions.get(codename, []) is not None and value.isdigit():
            regions.setdefault(codename, []).append(int(value))
    return Standing(frozenset(roles), regions)


def _standing_sql() -> str:
    def t(model):
        return connection.ops.quote_name(model._meta.db_table)

    User = get_user_model()
    memberships, perms = t(User.groups.through), t(Permission)
    on = "p.content_type_id = %s AND p.codename IN (%s, %s, %s)"
    return f"""
        SELECT 'role', g.name, '' FROM {memberships} m JOIN {t(Group)} g ON g.id = m.group_id
        WHERE m.user_id = %s
        UNION ALL
        SELECT 'object', o.object_pk, p.codename FROM {t(UserObjectPermission)} o
        JOIN {perms} p ON p.id = o.permission_id WHERE o.user_id = %s AND {on}
        UNION ALL
        SELECT 'object', o.object_pk, p.codename FROM {t(GroupObjectPermission)} o
        JOIN {memberships} m ON m.group_id = o.group_id
        JOIN {perms} p ON p.id = o.permission_id WHERE m.user_id = %s AND {on}
        UNION ALL
        SELECT 'global', '', p.codename FROM {t(User.user_permissions.through)} d
        JOIN {perms} p ON p.id = d.permission_id WHERE d.user_id = %s AND {on}
        UNION ALL
        SELECT 'global', '', p.codename FROM {t(Group.permissions.through)} d
        JOIN {memberships} m ON m.group_id = d.group_id
        JOIN {perms} p ON p.id = d.permission_id WHERE m.user_id = %s AND {on}
    """


def _standing_params(user_pk, region_type, codenames) -> list:
    on = [region_type, *codenames]
    return [user_pk, user_pk, *on, user_pk, *on, user_pk, *on, user_pk, *on]


def restrict(queryset, user, action: str = "view"):
    """Narrow ``queryset`` to the rows whose region ``user`` may ``action``."""
    model = queryset.model
    if not hasattr(model, "region_path"):
        raise TypeError(f"{model.__name__} has no region_path; restrict() cannot scope it.")
    if user.is_superuser or (action == "view" and is_auditor(user) and user.is_active):
        _permission(action)
        return queryset
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    allowed = _region_ids(user, action, _permission(action))
    if allowed is None:  # a global permission: every region
        return queryset
    path = model.region_path
    if getattr(model, "region_path_all", False):
        # A row that names several regions (a report's scope): every one must be allowed.
        hidden = Region.objects.exclude(pk__in=allowed)
        return queryset.exclude(**{f"{path}__in": hidden.values("pk")})
    lookup = "pk__in" if path is None else f"{path}__in"
    return queryset.filter(**{lookup: allowed})


def can(user, action: str, region: Region) -> bool:
    """Whether ``user`` may ``action`` on ``region`` (a single object check)."""
    perm = _permission(action)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if action == "view" and is_auditor(user):
        return True
    allowed = _region_ids(user, action, perm)
    return allowed is None or region.pk in allowed


def ensure_may_change(user) -> None:
    """The first check of every service that writes for a person: signed in, active, and not
    an auditor (auditors read everything and change nothing)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise NotAllowed("Sign in first.")
    if is_auditor(user):
        raise NotAllowed("Auditors have read-only access.")


def ensure_role_groups() -> dict[str, Group]:
    return {name: Group.objects.get_or_create(name=name)[0] for name in Role.ALL}


def people_who_can(action: str, region: Region):
    """The active people who hold ``action`` on ``region`` itself (directly or through a
    group), superusers left out: whom a notice about that region is for."""
    from guardian.shortcuts import get_users_with_perms

    perm = _permission(action).split(".", 1)[1]
    users = get_users_with_perms(
        region, only_with_perms_in=[perm], with_group_users=True, with_superusers=False
    )
    return [u for u in users if u.is_active]


class PeopleWhoCan(dict):
    """``people_who_can(action, region)`` by region, each region asked once (for a batch of
    notices about many objects)."""

    def __init__(self, action: str):
        super().__init__()
        self.action = action

    def __missing__(self, region):
        self[region] = people = people_who_can(self.action, region)
        return people
