from django import forms

from regions.models import Agent


class EnrollForm(forms.ModelForm):
    callback_url = forms.URLField(
        required=False,
        max_length=400,
        assume_scheme="https",
        help_text="Where pushed bundles go (POST {url}/bundle); leave empty for polling only.",
    )

    class Meta:
        model = Agent
        fields = ["region", "name", "callback_url", "poll_interval"]

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
