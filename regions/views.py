from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from controlplane.permissions import can, restrict
from controlplane.web.lists import list_page
from controlplane.web.panels import region_panels, render_panels
from regions import iac
from regions.filtersets import RegionFilterSet
from regions.models import Region
from regions.selectors import visible_iac_facts


@require_safe
def region_list(request):
    regions = (
        restrict(Region.objects.all(), request.user, "view")
        .select_related("jurisdiction", "country")
        .annotate(
            store_count=Count("data_stores", distinct=True),
            key_count=Count("keys", distinct=True),
            endpoint_count=Count("endpoints", distinct=True),
            rule_count=Count("residency_rules", distinct=True),
        )
        .order_by("slug")
    )
    return list_page(request, "regions/region_list.html", RegionFilterSet, regions)


@require_safe
def region_detail(request, slug):
    region = get_object_or_404(
        restrict(Region.objects.select_related("jurisdiction", "country"), request.user, "view"),
        slug=slug,
    )
    context = {
        "region": region,
        "data_stores": region.data_stores.select_related("key"),
        "keys": region.keys.all(),
        "endpoints": region.endpoints.select_related("log_store"),
        "rules": region.residency_rules.select_related(
            "subject_country", "data_category", "home_jurisdiction", "data_store"
        ),
        "may_approve_transfers": can(request.user, "approve_transfers", region),
        "may_approve_deployments": can(request.user, "approve_deployments", region),
        "panels": render_panels(region_panels, request, region),
        "iac_files": list(iac.documents(visible_iac_facts(request.user, slug)[0])),
    }
    return render(request, "regions/region_detail.html", context)


def iac_response(region_facts: iac.RegionFacts, name: str) -> HttpResponse:
    """One infrastructure-as-code file of a region, as a download."""
    files = iac.documents(region_facts)
    if name not in files:
        raise Http404(f"{region_facts.slug} has no file {name!r}; it has {', '.join(files)}.")
    content_type = "application/json" if name.endswith(".json") else "text/plain; charset=utf-8"
    response = HttpResponse(files[name], content_type=content_type)
    filename = f"{region_facts.slug}-{name.replace('/', '-')}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def iac_zip_response(facts: list[iac.RegionFacts], filename: str) -> HttpResponse:
    response = HttpResponse(iac.zip_bytes(facts), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def region_iac_file(request, slug, name):
    facts = visible_iac_facts(request.user, slug)
    if not facts:
        raise Http404("No such region.")
    return iac_response(facts[0], name)


@require_safe
def region_iac_zip(request, slug):
    facts = visible_iac_facts(request.user, slug)
    if not facts:
        raise Http404("No such region.")
    return iac_zip_response(facts, f"{slug}-iac.zip")


@require_safe
def all_iac_zip(request):
    """Every region the person may view, in one zip."""
    return iac_zip_response(visible_iac_facts(request.user), "regions-iac.zip")
