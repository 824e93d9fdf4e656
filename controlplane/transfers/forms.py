from django import forms
from django.core.exceptions import ValidationError

from controlplane.decisions import ConditionsField
from controlplane.permissions import regions_for
from controlplane.transfers import policy as p
from controlplane.transfers.models import (
    DEROGATION_CHOICES,
    FREQUENCY_CHOICES,
    ROLE_CHOICES,
    Mechanism,
    Party,
)
from regions.models import Country, DataCategory, Region


class TransferRequestForm(forms.Form):
    source_region = forms.ModelChoiceField(queryset=Region.objects.none())
    destination_region = forms.ModelChoiceField(
        queryset=Region.objects.select_related("country"),
        required=False,
        help_text="One of our regions, or leave empty and give a country.",
    )
    destination_country = forms.ModelChoiceField(
        queryset=Country.objects.all(), required=False, to_field_name="code"
    )
    exporter = forms.ModelChoiceField(queryset=Party.objects.select_related("country"))
    exporter_role = forms.ChoiceField(choices=ROLE_CHOICES)
    importer = forms.ModelChoiceField(queryset=Party.objects.select_related("country"))
    importer_role = forms.ChoiceField(choices=ROLE_CHOICES)
    data_categories = forms.ModelMultipleChoiceField(
        queryset=DataCategory.objects.filter(key__startswith="user"),
        to_field_name="key",
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    data_subjects = forms.CharField(max_length=300, help_text="Customers, employees, patients...")
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    frequency = forms.ChoiceField(choices=FREQUENCY_CHOICES)
    volume_estimate = forms.IntegerField(
        min_value=0, required=False, help_text="Records or people a year."
    )
    derogation = forms.ChoiceField(
        choices=[("", "None")] + DEROGATION_CHOICES,
        required=False,
        help_text="Only for one-off transfers with no other basis.",
    )
    chosen_mechanism = forms.ModelChoiceField(
        queryset=Mechanism.objects.filter(status=p.IN_FORCE), required=False
    )
    requested_expiry = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_region"].queryset = regions_for(user, "view")

    def clean(self):
        data = super().clean()
        if not data.get("destination_region") and not data.get("destination_country"):
            raise ValidationError("Give a destination region or a destination country.")
        return data


class ApproveForm(forms.Form):
    confirmed = ConditionsField()
    conditions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional conditions attached to the approval.",
    )
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional; the approval ends on this date.",
    )

    def __init__(self, *args, conditions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirmed"].set_conditions(conditions)
        self.fields["conditions"].label = "Further conditions (free text)"


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason (required)")


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class MechanismEndForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(p.REVOKED, "Revoked"), (p.SUSPENDED, "Suspended"), (p.EXPIRED, "Expired")]
    )
    ends_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="First day it no longer applies (default: today). Not before it began.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    backdated_because = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why backdated",
        help_text="Required when the end lies more than 30 days in the past.",
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
