from rest_framework.permissions import SAFE_METHODS, BasePermission

from controlplane.permissions import is_auditor


class PeopleOnly(BasePermission):
    """A logged-in person. Auditors may only read."""

    message = "Auditors have read-only access."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and getattr(user, "is_active", False)):
            return False
        return request.method in SAFE_METHODS or not is_auditor(user)


class EstateEditors(PeopleOnly):
    """Changing the estate (regions, stores, keys, rules) needs the Django model permission."""

    message = "You may not change this part of the estate."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        model = view.get_queryset().model
        verb = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}.get(
            request.method
        )
        return verb is not None and request.user.has_perm(
            f"{model._meta.app_label}.{verb}_{model._meta.model_name}"
        )
