"""Audit grants and removals of region rights and roles, however they are made."""

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from guardian.models import GroupObjectPermission, UserObjectPermission

from controlplane.audit.context import current_actor
from controlplane.audit.services import record_event


def _holder(permission) -> str:
    if isinstance(permission, UserObjectPermission):
        return f"user:{permission.user.get_username()}"
    return f"group:{permission.group.name}"


def _region(permission):
    from regions.models import Region

    if permission.content_type.model_class() is not Region:
        return None
    return Region.objects.filter(pk=permission.object_pk).first()


@receiver(post_save, sender=UserObjectPermission)
@receiver(post_save, sender=GroupObjectPermission)
def permission_granted(sender, instance, created, **kwargs):
    if created:
        record_event(
            actor=current_actor(),
            action="permission.granted",
            obj=_region(instance),
            data={"holder": _holder(instance), "permission": instance.permission.codename},
        )


@receiver(post_delete, sender=UserObjectPermission)
@receiver(post_delete, sender=GroupObjectPermission)
def permission_revoked(sender, instance, **kwargs):
    record_event(
        actor=current_actor(),
        action="permission.revoked",
        obj=_region(instance),
        data={"holder": _holder(instance), "permission": instance.permission.codename},
    )


@receiver(m2m_changed, sender=get_user_model().groups.through)
def roles_changed(sender, instance, action, pk_set, reverse, **kwargs):
    if reverse or action not in {"post_add", "post_remove"} or not pk_set:
        return
    from django.contrib.auth.models import Group

    names = sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
    verb = "user.role_granted" if action == "post_add" else "user.role_removed"
    record_event(actor=current_actor(), action=verb, obj=instance, data={"roles": names})
