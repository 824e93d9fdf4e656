import json

from django import forms
from django.core.exceptions import ValidationError

from controlplane.decisions import ConditionsField
from controlplane.modelregistry.models import MLModel, ModelVersion, TrainingMode
from controlplane.permissions import regions_for
from controlplane.web.widgets import CategoryPicker
from regions.models import DataCategory, Jurisdiction, Region


class ModelForm(forms.ModelForm):
    class Meta:
        model = MLModel
        fields = ["name", "purpose", "owner_team"]
        widgets = {"purpose": forms.Textarea(attrs={"rows": 3})}


class VersionForm(forms.Form):
    version = forms.CharField(max_length=40, help_text="e.g. 1.4.0")
    digest = forms.CharField(
        max_length=71,
        help_text="sha256: and 64 hex characters",
        widget=forms.TextInput(attrs={"size": 75, "class": "mono"}),
    )
    framework = forms.CharField(max_length=60)
    metrics = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "mono"}),
        help_text='JSON object, e.g. {"auc": 0.91, "f1": 0.84}',
    )
    training_mode = forms.ChoiceField(choices=TrainingMode.choices)
    contains_personal_data = forms.BooleanField(
        required=False, label="The training data held personal data"
    )
    training_jurisdictions = forms.ModelMultipleChoiceField(
        queryset=Jurisdiction.objects.filter(regions__isnull=False).distinct(),
        required=False,
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
    )
    data_categories = forms.ModelMultipleChoiceField(
        queryset=DataCategory.objects.filter(key__startswith="user."),
        required=False,
        to_field_name="key",
        widget=CategoryPicker,
        help_text="What the training data held; leave empty if it held no personal data.",
    )
    base_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.select_related("model").order_by("model__name", "version"),
        required=False,
        help_text="Required for transfer learning.",
    )
    participating_regions = forms.ModelMultipleChoiceField(
        queryset=Region.objects.all(),
        required=False,
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        help_text="Federated models only.",
    )
    artifacts = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text="One copy per line: region-slug URI, e.g. eu-central s3://models-eu/fraud/1.4.0",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_metrics(self):
        raw = self.cleaned_data["metrics"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError as error:
            raise ValidationError(f"Not valid JSON: {error}") from None
        except RecursionError:
            raise ValidationError("Not valid JSON: nested too deeply.") from None
        if not isinstance(value, dict):
            raise ValidationError("Give a JSON object of name -> number.")
        return value

    def clean_artifacts(self):
        regions = {r.slug: r for r in Region.objects.all()}
        out = {}
        for number, line in enumerate(self.cleaned_data["artifacts"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2 or parts[0] not in regions:
                raise ValidationError(f"Line {number}: write a region slug, a space, and a URI.")
            if regions[parts[0]] in out:
                raise ValidationError(
                    f"Line {number}: {parts[0]} already has an artifact on an earlier line; "
                    "give one copy per region."
                )
            out[regions[parts[0]]] = parts[1]
        return out

    def clean(self):
        """Contradictions between fields, all reported at once next to the field concerned.

        The same rules answer the live check as the person edits (``controlplane.web.live``);
        what is only missing is coded ``incomplete`` and waits for submit there."""
        data = super().clean()
        categories = data.get("data_categories") or []
        personal = [c for c in categories if c.key.startswith("user.")]
        if personal and not data.get("contains_personal_data"):
            self.add_error(
                "contains_personal_data",
                f"You chose {len(personal)} personal data categor"
                f"{'y' if len(personal) == 1 else 'ies'} but said the training data held no "
                "personal data: tick this box, or remove the categories.",
            )
        mode = data.get("training_mode")
        if mode == TrainingMode.TRANSFER and not data.get("base_version"):
            self.add_error(
                "base_version",
                ValidationError("Transfer learning starts from a base version.", code="incomplete"),
            )
        if data.get("participating_regions") and mode and mode != TrainingMode.FEDERATED:
            self.add_error(
                "participating_regions", "Only federated training has participating regions."
            )
        return data


class RequestForm(forms.Form):
    region = forms.ModelChoiceField(queryset=Region.objects.none(), to_field_name="slug")
    justification = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions_for(user, "view").order_by("slug")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Conditions for an approval; the reason for a rejection (required).",
    )
    confirmed = ConditionsField()

    def __init__(self, *args, conditions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirmed"].set_conditions(conditions)


class RetireForm(forms.Form):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
