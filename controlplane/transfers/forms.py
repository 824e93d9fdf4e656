from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from controlplane.decisions import ConditionsField
from controlplane.permissions import regions_for
from controlplane.transfers import policy as p
from controlplane.transfers.models import (
    ART9_CHOICES,
    DEROGATION_CHOICES,
    FREQUENCY_CHOICES,
    ROLE_CHOICES,
    TIA_CHOICES,
    Mechanism,
    Party,
)
from controlplane.web.widgets import CategoryPicker
from regions.models import Country, DataCategory, Region

# The questions a request can answer about the importer, in plain language. ``countries``: the
# importer's countries where the question matters (the form hides it elsewhere and drops an
# answer given for another country); "*" everywhere. ``origins``: the source jurisdictions it
# matters for. A question left at "Not known" becomes a condition the approving DPO confirms.
IMPORTER_QUESTIONS = {
    p.CERT_EU_US_DPF: (
        "Is the importer on the EU-US Data Privacy Framework list?",
        "Look it up on dataprivacyframework.gov. The EU's US decision (2023/1795) covers "
        "only organisations on that list.",
        ("US",),
        ("EEA",),
    ),
    p.CERT_EU_US_DPF_HR: (
        "Does its DPF certification include HR data?",
        "Needed when the data is about employees in an employment context.",
        ("US",),
        ("EEA",),
    ),
    p.CERT_UK_US_DATA_BRIDGE: (
        "Has the importer joined the UK Extension (the UK-US data bridge)?",
        "UK data needs the UK Extension, not only the EU-US certification.",
        ("US",),
        ("GB",),
    ),
    p.CERT_SWISS_US_DPF: (
        "Is the importer certified under the Swiss-US Data Privacy Framework?",
        "Swiss data needs the Swiss-US certification (DPO Annex 1, from 15 September 2024).",
        ("US",),
        ("CH",),
    ),
    p.HINT_APPI_OPERATOR: (
        "Is the importer a personal information handling business operator under Japan's APPI?",
        "Any private-sector body, profit or not; public bodies are not (Decision 2019/419).",
        ("JP",),
        ("EEA", "GB"),
    ),
    p.HINT_COMMERCIAL: (
        "Does Canada's PIPEDA apply to the importer (personal information handled in "
        "commercial activities)?",
        "Canada's adequacy covers only organisations under PIPEDA (Decision 2002/2/EC).",
        ("CA",),
        ("EEA", "GB", "CH"),
    ),
    p.HINT_PUBLIC_AUTHORITY: (
        "Is the importer a public authority or public body?",
        "Public bodies are outside the Japanese and Canadian decisions.",
        ("JP", "CA"),
        ("EEA", "GB", "CH"),
    ),
    p.HINT_AUTOMATED: (
        "Is the data processed by automated means in Israel (not kept as manual files)?",
        "Israel's decision covers automated processing (Decision 2011/61/EU).",
        ("IL",),
        ("EEA", "GB"),
    ),
    p.HINT_PIPA: (
        "Is the importer subject to Korea's PIPA?",
        "Korea's adequacy covers recipients subject to PIPA.",
        ("KR",),
        ("EEA", "GB"),
    ),
    p.HINT_FSC_CREDIT: (
        "Does the importer process this as credit information under Korean FSC supervision?",
        "The EU's Korean decision excludes that; the UK's regulations do not.",
        ("KR",),
        ("EEA",),
    ),
    p.HINT_LGPD: (
        "Is the importer subject to Brazil's LGPD?",
        "Brazil's adequacy covers recipients subject to the LGPD.",
        ("BR",),
        ("EEA",),
    ),
    p.HINT_FAROESE_ACT: (
        "Is the importer subject to the Faroese data protection act?",
        "The Faroese decision covers recipients subject to it.",
        ("FO",),
        ("EEA", "GB"),
    ),
    p.HINT_GDPR_ART3_2: (
        "Is the importer itself subject to the GDPR under Art. 3(2)?",
        "It still receives a transfer, but the 2021/914 SCCs are not made for it.",
        ("*",),
        ("EEA",),
    ),
}
EXPORTER_QUESTIONS = {
    p.HINT_GDPR_ART3_2: (
        "Is the exporter, established outside the EEA, subject to the GDPR under Art. 3(2)?",
        "For example it offers goods or services to people in the EU, or monitors them there. "
        "Its transfers then follow GDPR Chapter V.",
    ),
    p.HINT_PUBLIC_AUTHORITY: (
        "Is the exporter a public authority using its public powers?",
        "Art. 49(3): consent, the contract grounds and compelling interests are closed to it.",
    ),
}
DEROGATION_QUESTIONS = {
    "informed_of_risks": ("explicit_consent",),
    "few_data_subjects": ("compelling_legitimate_interests",),
    "safeguards_assessed": ("compelling_legitimate_interests",),
    "authority_informed": ("compelling_legitimate_interests",),
    "subjects_informed": ("compelling_legitimate_interests",),
}
TRI = [("", "Not known"), ("yes", "Yes"), ("no", "No")]
ONWARD_LEGS = 3


def _tri(label, help_text, **attrs):
    return forms.ChoiceField(
        choices=TRI,
        required=False,
        label=label,
        help_text=help_text,
        widget=forms.Select(attrs=attrs),
    )


def _answer(value):
    return {"yes": True, "no": False}.get(value)


class PartySelect(forms.Select):
    """Options carry the party's country, so the form can hide questions that do not apply."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-country"] = instance.country.code
            option["attrs"]["data-jurisdiction"] = instance.country.jurisdiction.code
        return option


class RegionSelect(forms.Select):
    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-jurisdiction"] = instance.jurisdiction.code
        return option


class TransferRequestForm(forms.Form):
    source_region = forms.ModelChoiceField(queryset=Region.objects.none(), widget=RegionSelect)
    destination_region = forms.ModelChoiceField(
        queryset=Region.objects.select_related("country"),
        required=False,
        help_text="One of our regions, or leave empty and give a country.",
    )
    destination_country = forms.ModelChoiceField(
        queryset=Country.objects.all(), required=False, to_field_name="code"
    )
    exporter = forms.ModelChoiceField(
        queryset=Party.objects.select_related("country__jurisdiction"), widget=PartySelect
    )
    exporter_role = forms.ChoiceField(choices=ROLE_CHOICES)
    importer = forms.ModelChoiceField(
        queryset=Party.objects.select_related("country__jurisdiction"),
        widget=PartySelect,
        help_text="The company or body that receives the data. Its own country decides where "
        "the data goes, wherever the servers are.",
    )
    importer_role = forms.ChoiceField(choices=ROLE_CHOICES)
    data_categories = forms.ModelMultipleChoiceField(
        queryset=DataCategory.objects.filter(key__startswith="user"),
        to_field_name="key",
        widget=CategoryPicker,
        help_text="Find categories by name; Art. 9 and Art. 10 data are marked.",
    )
    data_subjects = forms.CharField(max_length=300, help_text="Customers, employees, patients...")
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    frequency = forms.ChoiceField(
        choices=FREQUENCY_CHOICES,
        help_text="Occasional is not one-off: now and then, outside the regular course of "
        "business. Regular transfers cannot rely on most Art. 49 derogations.",
    )
    volume_estimate = forms.IntegerField(
        min_value=0, required=False, help_text="Records or people a year."
    )
    derogation = forms.ChoiceField(
        choices=[("", "None")] + DEROGATION_CHOICES,
        required=False,
        help_text="A last resort, when no adequacy decision, BCR or contract covers the "
        "transfer (Art. 49).",
    )
    chosen_mechanism = forms.ModelChoiceField(
        queryset=Mechanism.objects.filter(status=p.IN_FORCE),
        required=False,
        help_text="The SCCs, IDTA, UK Addendum or BCRs you rely on, if you know.",
    )
    tia_on = forms.DateField(
        required=False,
        label="Transfer impact assessment made on",
        widget=forms.DateInput(attrs={"type": "date", "data-when": "mechanism"}),
        help_text="Your TIA for this transfer under that mechanism (Schrems II; EDPB "
        "Recommendations 01/2020). Leave empty to use the mechanism's own.",
    )
    tia_outcome = forms.ChoiceField(
        choices=[("", "-")] + TIA_CHOICES,
        required=False,
        label="Its conclusion",
        widget=forms.Select(attrs={"data-when": "mechanism"}),
    )
    art9_condition = forms.ChoiceField(
        choices=[("", "Not stated")] + ART9_CHOICES,
        required=False,
        label="Art. 9 condition relied on",
        help_text="Health, biometric and other special categories need one of the Art. 9(2) "
        "conditions as well as a transfer basis.",
        widget=forms.Select(attrs={"data-when": "special"}),
    )
    art10_authorisation = forms.CharField(
        max_length=300,
        required=False,
        label="Legal authorisation for criminal-offence data",
        help_text="The law that authorises processing it (Art. 10), e.g. a statute and section.",
        widget=forms.TextInput(attrs={"data-when": "criminal"}),
    )
    hr_data = _tri(
        "Is this data about employees, in an employment context?",
        "HR data sent under the DPF needs an HR certification.",
        **{"data-countries": "US"},
    )
    requested_expiry = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional; not in the past (YYYY-MM-DD).",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_region"].queryset = regions_for(user, "view").select_related(
            "jurisdiction"
        )
        for key, (label, help_text, countries, origins) in IMPORTER_QUESTIONS.items():
            self.fields[f"importer__{key}"] = _tri(
                label,
                help_text,
                **{"data-countries": " ".join(countries), "data-origins": " ".join(origins)},
            )
        for key, (label, help_text) in EXPORTER_QUESTIONS.items():
            when = "derogation" if key == p.HINT_PUBLIC_AUTHORITY else "outside-eea"
            self.fields[f"exporter__{key}"] = _tri(label, help_text, **{"data-when": when})
        for key, grounds in DEROGATION_QUESTIONS.items():
            self.fields[f"derogation__{key}"] = _tri(
                "Is it so that " + p.DEROGATION_CONDITIONS[key] + "?",
                "",
                **{"data-derogations": " ".join(grounds)},
            )
        parties = Party.objects.select_related("country__jurisdiction")
        for n in range(1, ONWARD_LEGS + 1):
            self.fields[f"onward_{n}"] = forms.ModelChoiceField(
                queryset=parties,
                required=False,
                widget=PartySelect,
                label=f"Onward recipient {n}",
                help_text="Who the importer passes the data on to (a sub-processor abroad), "
                "in order. Each step is checked like a transfer."
                if n == 1
                else "",
            )

    def clean_requested_expiry(self):
        expiry = self.cleaned_data.get("requested_expiry")
        if expiry and expiry < timezone.localdate():
            raise ValidationError(
                f"{expiry:%Y-%m-%d} is in the past; give a date from today on, or leave it empty."
            )
        return expiry

    def clean(self):
        """Contradictions between fields, all reported at once next to the field concerned.

        The same rules answer the live check as the person edits (``controlplane.web.live``);
        what is only missing is coded ``incomplete`` and waits for submit there."""
        data = super().clean()
        if not data.get("destination_region") and not data.get("destination_country"):
            self.add_error(
                "destination_country",
                ValidationError(
                    "Give a destination region or a destination country.", code="incomplete"
                ),
            )
        exporter, importer = data.get("exporter"), data.get("importer")
        if exporter and importer and exporter == importer:
            self.add_error(
                "importer",
                f"{importer.name} is also the exporter: a transfer goes from one party to another.",
            )
        source, destination = data.get("source_region"), data.get("destination_region")
        if source and destination and source == destination:
            self.add_error("destination_region", "The destination is the source region itself.")
        country = data.get("destination_country")
        if destination and country and destination.country_id != country.pk:
            self.add_error(
                "destination_country",
                f"{destination.slug} lies in {destination.country.name}, not {country.name}; "
                "give one or the other.",
            )
        if data.get("derogation") and data.get("chosen_mechanism"):
            self.add_error(
                "derogation",
                "An Art. 49 derogation applies only when no mechanism does; you also chose "
                f"{data['chosen_mechanism']}.",
            )
        importer, region = data.get("importer"), data.get("source_region")
        country = importer.country.code if importer else ""
        origin = region.jurisdiction.code if region else ""
        scope = {}
        for key, (_, _, countries, origins) in IMPORTER_QUESTIONS.items():
            applies = ("*" in countries or country in countries) and origin in origins
            answer = _answer(data.get(f"importer__{key}"))
            if applies and answer is not None:  # an answer to a hidden question is dropped
                scope[key] = answer
        data["importer_scope"] = scope
        data["exporter_scope"] = {
            key: answer
            for key in EXPORTER_QUESTIONS
            if (answer := _answer(data.get(f"exporter__{key}"))) is not None
        }
        derogation = data.get("derogation") or ""
        data["derogation_facts"] = {
            key: answer
            for key, grounds in DEROGATION_QUESTIONS.items()
            if derogation in grounds
            and (answer := _answer(data.get(f"derogation__{key}"))) is not None
        }
        data["hr_data"] = _answer(data.get("hr_data"))
        data["onward_transfers"] = [
            {"party": leg.pk, "role": leg.role}
            for n in range(1, ONWARD_LEGS + 1)
            if (leg := data.get(f"onward_{n}")) is not None
        ]
        if bool(data.get("tia_on")) != bool(data.get("tia_outcome")):
            self.add_error(
                "tia_outcome",
                ValidationError(
                    "Give the TIA's date and its conclusion together.", code="incomplete"
                ),
            )
        return data

    def facts(self) -> dict:
        """The request's facts, as ``transfer_request_create`` takes them."""
        d = self.cleaned_data
        keys = (
            "importer_scope", "exporter_scope", "hr_data", "art9_condition",
            "art10_authorisation", "tia_on", "tia_outcome", "derogation_facts",
            "onward_transfers",
        )  # fmt: skip
        return {key: d.get(key) for key in keys}


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


class ReinstateForm(forms.Form):
    confirmed = ConditionsField()

    def __init__(self, *args, conditions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirmed"].set_conditions(conditions)


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
