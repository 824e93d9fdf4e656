from datetime import timedelta

from django import forms
from django.utils import timezone

from controlplane.reports.models import ReportKind
from regions.models import Region


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=ReportKind.choices, label="Report")
    period_start = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    period_end = forms.DateField(
        label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    regions = forms.ModelMultipleChoiceField(
        queryset=Region.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="The report covers these regions only.",
    )

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].queryset = regions if regions is not None else Region.objects.none()
        today = timezone.localdate()
        self.fields["period_start"].initial = (today.replace(day=1) - timedelta(days=1)).replace(
            day=1
        )
        self.fields["period_end"].initial = today
        self.fields["regions"].initial = list(self.fields["regions"].queryset)

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The period must end on or after its start.")
        return data
