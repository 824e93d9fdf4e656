"""Audit grants and removals of region rights and roles, however they are made.

A person's rights on a region come from four places, and each change to any of them is an
event: an object permission on the region held by them or by one of their groups (guardian),
their membership of a group (from either side, cleared or not), a global permission held by them
or their group (``regions_for`` accepts global permissions: every region at once), and the
superuser flag. Guardian's bulk ``assign_perm`` with a queryset inserts without signals: the
project never uses it (grant one region at a time, as the admin does).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from guardian.models import GroupObjectPermission, UserObjectPermission

from controlplane.audit.context import current_actor
from controlplane.audit.services import record_event

User = get_user_model()


def _holder(permission) -> str:
    if isinstance(permission, UserObjectPermission):
        return f"user:{permission.user.get_username()}"
    return f"group:{permission.group.name}"


def _members(group) -> list[str]:
    return sorted(group.user_set.values_list("username", flat=True))


def _region(permission):
    from regions.models import Region

    if permission.content_type.model_class() is not Region:
        return None
    return Region.objects.filter(pk=permission.object_pk).first()


def _object_permission_data(permission) -> dict:
    data = {"holder": _holder(permission), "permission": permission.permission.codename}
    if isinstance(permission, GroupObjectPermission):
        data["members"] = _members(permission.group)  # who gains or loses the right with it
    return data


@receiver(post_save, sender=UserObjectPermission)
@receiver(post_save, sender=GroupObjectPermission)
def permission_granted(sender, instance, created, **kwargs):
    if created:
        record_event(
            actor=current_actor(),
            action="permission.granted",
            obj=_region(instance),
            data=_object_permission_data(instance),
        )


@receiver(post_delete, sender=UserObjectPermission)
@receiver(post_delete, sender=GroupObjectPermission)
def permission_revoked(sender, instance, **kwargs):
    record_event(
        actor=current_actor(),
        action="permission.revoked",
        obj=_region(instance),
        data=_object_permission_data(instance),
    )


def _cleared(instance, action, related_name):
    """``pre_clear`` is the last moment the cleared links can be read: keep them on the
    instance, and hand them back at ``post_clear``."""
    if action == "pre_clear":
        related = getattr(instance, related_name)
        instance._audit_cleared = set(related.values_list("pk", flat=True))
        return None
    return getattr(instance, "_audit_cleared", set())


@receiver(m2m_changed, sender=User.groups.through)
def roles_changed(sender, instance, action, pk_set, reverse, **kwargs):
    """``user.groups.add(...)`` and ``group.user_set.add(...)`` alike, ``clear()`` too."""
    if action in {"pre_clear", "post_clear"}:
        pk_set = _cleared(instance, action, "user_set" if reverse else "groups")
        action = "post_remove" if pk_set is not None else action
    if action not in {"post_add", "post_remove"} or not pk_set:
        return
    verb = "user.role_granted" if action == "post_add" else "user.role_removed"
    if reverse:  # instance is the group, pk_set its new or former members
        for user in User.objects.filter(pk__in=pk_set).order_by("username"):
            record_event(actor=current_actor(), action=verb, obj=user, data={"roles": [instance.name]})
        return
    names = sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
    record_event(actor=current_actor(), action=verb, obj=instance, data={"roles": names})


def _global_permissions_changed(holder_of, instance, action, pk_set, reverse, related_name):
    if action in {"pre_clear", "post_clear"}:
        pk_set = _cleared(instance, action, related_name)
        action = "post_remove" if pk_set is not None else action
    if action not in {"post_add", "post_remove"} or not pk_set:
        return
    verb = "permission.granted" if action == "post_add" else "permission.revoked"
    if reverse:  # instance is the permission; pk_set the holders
        pairs = [(holder, instance) for holder in holder_of(pk_set)]
    else:
        permissions = Permission.objects.filter(pk__in=pk_set).select_related("content_type")
        pairs = [(instance, permission) for permission in permissions]
    for holder, permission in pairs:
        data = {
            "holder": f"group:{holder.name}" if isinstance(holder, Group) else f"user:{holder}",
            "permission": f"{permission.content_type.app_label}.{permission.codename}",
            "scope": "global: every object, every region",
        }
        if isinstance(holder, Group):
            data["members"] = _members(holder)
        record_event(actor=current_actor(), action=verb, data=data)


@receiver(m2m_changed, sender=Group.permissions.through)
def group_permissions_changed(sender, instance, action, pk_set, reverse, **kwargs):
    _global_permissions_changed(
        lambda pks: Group.objects.filter(pk__in=pks).order_by("name"),
        instance, action, pk_set, reverse, "group_set" if reverse else "permissions",
    )


@receiver(m2m_changed, sender=User.user_permissions.through)
def user_permissions_changed(sender, instance, action, pk_set, reverse, **kwargs):
    _global_permissions_changed(
        lambda pks: User.objects.filter(pk__in=pks).order_by("username"),
        instance, action, pk_set, reverse, "user_set" if reverse else "user_permissions",
    )


FLAGS = ("is_superuser", "is_staff", "is_active")


@receiver(pre_save, sender=User)
def _remember_flags(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None or (update_fields and not set(FLAGS) & set(update_fields)):
        return  # e.g. the last_login update of every login: no query
    instance._audit_flags = User.objects.filter(pk=instance.pk).values(*FLAGS).first()


@receiver(post_save, sender=User)
def flags_changed(sender, instance, created, raw=False, **kwargs):
    """A superuser sees and decides everything: becoming one is a grant on every region."""
    if raw:
        return
    before = {} if created else (instance.__dict__.pop("_audit_flags", None) or {})
    changes = {
        flag: {"from": before.get(flag), "to": getattr(instance, flag)}
        for flag in FLAGS
        if (created and getattr(instance, flag) and flag != "is_active")
        or (not created and flag in before and before[flag] != getattr(instance, flag))
    }
    if changes:
        record_event(actor=current_actor(), action="user.flags_changed", obj=instance, data=changes)
