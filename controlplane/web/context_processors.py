from django.urls import NoReverseMatch, reverse

from controlplane.permissions import is_auditor, regions_for, sees_every_region

# (label, url name). Sections whose URLs do not exist yet are left out of the menu.
NAVIGATION = [
    ("Dashboard", "dashboard"),
    ("Regions", "regions:list"),
    ("Transfers", "transfers:queue"),
    ("Models", "modelregistry:index"),
    ("Agents", "distribution:agents"),
    ("Metrics", "metrics:index"),
    ("Reports", "reports:index"),
    ("Audit", "audit:list"),
]


def _resolved_navigation():
    items = []
    for label, name in NAVIGATION:
        try:
            items.append((label, reverse(name)))
        except NoReverseMatch:
            continue
    return items


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    path = request.path
    items = [
        {"label": label, "url": url, "active": url != "/" and path.startswith(url) or path == url}
        for label, url in _resolved_navigation()
    ]
    user = request.user
    return {
        "navigation": items,
        # What the person may do, for navigation and headings that follow the role. Callables:
        # evaluated (one query) only by the pages that ask.
        "may_change": not is_auditor(user),
        "decides_transfers": lambda: (
            sees_every_region(user) or regions_for(user, "approve_transfers").exists()
        ),
    }
