"""Template tags of the shared list mechanism: sortable column headers."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, label, param):
    """A column header that sorts by ``param``; a second click reverses it."""
    request = context["request"]
    current = request.GET.get("ordering", "")
    query = request.GET.copy()
    query.pop("page", None)
    if current == param:
        query["ordering"], state, arrow = f"-{param}", "ascending", " ▲"
    elif current == f"-{param}":
        query["ordering"], state, arrow = param, "descending", " ▼"
    else:
        query["ordering"], state, arrow = param, "none", ""
    return format_html(
        '<th scope="col" aria-sort="{}"><a href="?{}" data-sort="{}">{}{}</a></th>',
        state,
        query.urlencode(),
        param,
        label,
        arrow,
    )
