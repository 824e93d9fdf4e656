"""One list mechanism for every list page and API list.

Each list has one ``FilterSet`` (in its app's ``filtersets.py``) built on ``ListFilterSet``:
a ``q`` search over ``search_fields``, the list's own filters, and an ``ordering`` whose
values are the sortable columns. The page (``list_page``) and the API
(``controlplane.api.filters.ListFilterBackend``) both run that one FilterSet over the rows
``restrict()`` lets the person see, so the two can never disagree. A bad value answers 400
with a sentence naming the filter, never a raw error list.

A list page that has exports names itself as a ``Listing`` (its rows, FilterSet and default
filters); the page and its CSV/JSON exports both go through ``Listing.filter``, so an export
holds exactly the page's rows, in the page's order.
"""

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import django_filters
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from controlplane.permissions import regions_for

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50


class ListFilterSet(django_filters.FilterSet):
    """Base of every list's FilterSet: search over ``search_fields`` and readable errors."""

    q = django_filters.CharFilter(method="search", label="Search")
    search_fields: tuple[str, ...] = ()

    def search(self, queryset, name, value):
        words = value.split()
        for word in words[:8]:
            match = self.search_also(word)
            for field in self.search_fields:
                match |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(match)
        return queryset.distinct() if any("__" in f for f in self.search_fields) else queryset

    def search_also(self, word: str) -> Q:
        """Extra matches for one search word beyond ``search_fields`` (none by default)."""
        return Q(pk__in=[])

    def error_text(self) -> str:
        """The form's errors as one sentence per filter, naming it by its label."""
        parts = []
        for name, errors in self.form.errors.items():
            label = self.form.fields[name].label if name in self.form.fields else name
            parts.append(f"{label} ({name}): {' '.join(str(e) for e in errors)}")
        return "Check the filters: " + "; ".join(parts)

    def invalid_fields(self) -> dict[str, str]:
        return {name: " ".join(str(e) for e in errs) for name, errs in self.form.errors.items()}


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorts by the chosen columns, then by primary key: rows with equal values keep one order,
    so pages never repeat or skip a row and an export lists them as the pages do."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "pk") if value else qs


def ordering_filter(*fields: tuple[str, str, str]) -> django_filters.OrderingFilter:
    """An ``ordering`` filter from (parameter, model field, column label) triples."""
    return StableOrderingFilter(
        fields={model_field: param for param, model_field, _ in fields},
        field_labels={model_field: label for _, model_field, label in fields},
        label="Sort by",
    )


def _unless_all(queryset, name, value):
    return queryset if value in ("", "all") else queryset.filter(**{name: value})


def status_filter(choices, *, field_name: str = "status") -> django_filters.ChoiceFilter:
    """A queue's status filter: the page defaults to one status, "all" lifts it."""
    return django_filters.ChoiceFilter(
        field_name=field_name,
        choices=[("all", "All"), *choices],
        method=_unless_all,
        empty_label="Any",
        label="Status",
    )


def region_filter(field_name: str = "region", label: str = "Region"):
    """A filter by region slug, offering only the regions the person may see."""
    return django_filters.ModelChoiceFilter(
        field_name=field_name,
        to_field_name="slug",
        queryset=visible_regions,
        empty_label="All",
        label=label,
    )


def visible_regions(request):
    """Choices of a region filter: the regions the person may see (a callable queryset)."""
    if request is None:
        return regions_for(None)
    return regions_for(request.user, "view").order_by("slug")


class BadFilters(ValueError):
    """A filter value the list refuses; ``text`` names each filter, ``fields`` maps them."""

    def __init__(self, filterset: "ListFilterSet"):
        self.text = filterset.error_text()
        self.fields = filterset.invalid_fields()
        super().__init__(self.text)


def bound_filterset(request, filterset_class, queryset, params, defaults=None):
    """The list's FilterSet over ``queryset`` with ``params``, the page's defaults filled in."""
    data = params.copy()
    for key, value in (defaults or {}).items():
        if key not in data:
            data[key] = value
    return filterset_class(data, queryset=queryset, request=request)


@dataclass(frozen=True)
class Listing:
    """One list page: the rows a person may see (in the page's order), its FilterSet and the
    filters the page applies when the query string does not say (a queue shows the waiting
    ones). Whatever must show the page's rows (its exports) reads them through ``filter``."""

    filterset_class: type
    rows: Callable  # user -> the queryset restrict() lets them see, in the page's order
    defaults: Mapping[str, str] = dataclasses.field(default_factory=dict)
    may_read: Callable | None = None  # user -> None, or raises PermissionDenied

    def check(self, user) -> None:
        if self.may_read is not None:
            self.may_read(user)

    def filter(self, request, params):
        """Every row the page would list for ``params`` (all pages); ``BadFilters`` when the
        page would answer 400."""
        self.check(request.user)
        filterset = bound_filterset(
            request, self.filterset_class, self.rows(request.user), params, self.defaults
        )
        if not filterset.is_valid():
            raise BadFilters(filterset)
        return filterset.qs

    def page(self, request, template, *, context=None):
        self.check(request.user)
        return list_page(
            request,
            template,
            self.filterset_class,
            self.rows(request.user),
            context=context,
            defaults=self.defaults,
        )


@dataclass
class ListResult:
    filterset: ListFilterSet
    page: object
    query: str  # the current parameters without the page, for pager links
    error: str = ""

    @property
    def rows(self):
        return self.page.object_list


def run_list(request, filterset_class, queryset, *, defaults=None, per_page=DEFAULT_PAGE_SIZE):
    """Filter, order and paginate ``queryset`` (already narrowed by ``restrict()``)."""
    filterset = bound_filterset(request, filterset_class, queryset, request.GET, defaults)
    error = ""
    if filterset.is_valid():
        rows = filterset.qs
    else:
        error = filterset.error_text()
        rows = queryset.none()
    try:
        size = int(request.GET.get("per_page", per_page))
    except ValueError:
        size = per_page
    size = size if size in PAGE_SIZES else per_page
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return ListResult(filterset=filterset, page=page, query=query.urlencode(), error=error)


def list_page(request, template, filterset_class, queryset, *, context=None, defaults=None):
    """Render a list page; a bad filter value answers 400 with the reason above the table."""
    result = run_list(request, filterset_class, queryset, defaults=defaults)
    ctx = {"list": result, "rows": result.rows, "page": result.page, **(context or {})}
    return render(request, template, ctx, status=400 if result.error else 200)


def add_service_errors(form, error) -> None:
    """A service's ValidationError onto the form: per-field messages next to their fields,
    the rest above the form; each message once."""
    from django.core.exceptions import ValidationError

    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                for text in message.messages:
                    if text not in form.errors.get(target or "__all__", []):
                        form.add_error(target, text)
        return
    text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
    if text not in form.non_field_errors():
        form.add_error(None, text)
