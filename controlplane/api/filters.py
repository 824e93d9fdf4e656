"""The API side of the shared list mechanism: the list's FilterSet, readable 400s."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

from controlplane.web.lists import BadFilters


def bad_filters(error: BadFilters) -> ValidationError:
    """The API's 400 for a refused filter value: one sentence, and the reason per filter."""
    return ValidationError({"detail": error.text, "filters": error.fields})


class ListFilterBackend(DjangoFilterBackend):
    """Runs the view's ``filterset_class``; a bad value answers one sentence per filter."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise bad_filters(BadFilters(filterset))
        return filterset.qs

    def get_schema_operation_parameters(self, view):
        if getattr(view, "filterset_class", None) is None:
            return []  # lists without a FilterSet have no filter parameters
        return super().get_schema_operation_parameters(view)
