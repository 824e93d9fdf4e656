from django.db.models import Count
from django.shortcuts import get_object_or_404, render

from controlplane.permissions import can, restrict
from controlplane.web.lists import list_page
from controlplane.web.panels import region_panels, render_panels
from regions.filtersets import RegionFilterSet
from regions.models import Region


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


def region_detail(request, slug):
    region = get_object_or_404(
        restrict(Region.objects.select_related("jurisdiction", "country"), request.user, "view"),
        slug=slug,
    )
    context = {
        "region": region,
        "data_stores": region.data_stores.select_related("key"),
        "keys": region.keys.all(),
        "endpoints": region.endpoints.all(),
        "rules": region.residency_rules.select_related(
            "subject_country", "data_category", "home_jurisdiction", "data_store"
        ),
        "may_approve_transfers": can(request.user, "approve_transfers", region),
        "may_approve_deployments": can(request.user, "approve_deployments", region),
        "panels": render_panels(region_panels, request, region),
    }
    return render(request, "regions/region_detail.html", context)
