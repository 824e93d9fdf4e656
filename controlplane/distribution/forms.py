from django import forms

from regions.models import Agent


class EnrollForm(forms.ModelForm):
    class Meta:
        model = Agent
        fields = ["region", "name", "callback_url", "poll_interval"]

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
