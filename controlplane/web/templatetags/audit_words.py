from django import template

from controlplane.web import audit_words

register = template.Library()


@register.filter
def changes_in_words(event):
    return audit_words.describe(event.data)


@register.filter
def object_link(event):
    return audit_words.object_url(event.object_type, event.object_id, event.object_repr)
