from django import forms

from controlplane.notifications.models import EmailMode
from controlplane.notifications.registry import KINDS


class PreferenceForm(forms.Form):
    email = forms.ChoiceField(
        choices=EmailMode.choices, widget=forms.RadioSelect, label="E-mail me"
    )
    wanted = forms.MultipleChoiceField(
        choices=list(KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Tell me when",
    )
