"""Shared form widgets."""

from django import forms


class CategoryPicker(forms.CheckboxSelectMultiple):
    """Data categories by name, grouped under their top-level branch, key in small print,
    GDPR Art. 9 special categories and Art. 10 criminal data marked; a search box narrows the
    list as you type (static/controlplane/picker.js; without JavaScript every box is shown)."""

    template_name = "web/widgets/category_picker.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        chosen = {str(v) for v in (value or [])}
        groups: dict = {}
        queryset = self.choices.queryset.select_related("parent").order_by("key")
        for category in queryset:
            branch = ".".join(category.key.split(".")[:2])
            groups.setdefault(branch, []).append(category)
        names = {c.key: c.name for c in queryset if c.key.count(".") <= 1}
        context["widget"]["groups"] = [
            {"key": key, "name": names.get(key, key), "categories": cats}
            for key, cats in groups.items()
        ]
        context["widget"]["chosen"] = chosen
        return context
