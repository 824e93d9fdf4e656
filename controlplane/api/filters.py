"""The API side of the shared list mechanism: the list's FilterSet, readable 400s."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


class ListFilterBackend(DjangoFilterBackend):
    """Runs the view's ``filterset_class``; a bad value answers one sentence per filter."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise ValidationError(
                {"detail": filterset.error_text(), "filters": filterset.invalid_fields()}
            )
        return filterset.qs

    def get_schema_operation_parameters(self, view):
        if getattr(view, "filterset_class", None) is None:
            return []  # lists without a FilterSet have no filter parameters
        return super().get_schema_operation_parameters(view)
