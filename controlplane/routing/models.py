"""What routing adds to the estate: which models an inference endpoint serves.

The endpoint's own routing facts (serving or not, priority, latency hint, log store, input
categories) live on ``regions.InferenceEndpoint``; the model link lives here because the
model registry is built on ``regions``, not the other way round.
"""

from django.db import models

from controlplane.modelregistry.models import MLModel
from regions.models import InferenceEndpoint


class ServedModel(models.Model):
    """``endpoint`` serves ``model``: whichever version is desired and approved in its region."""

    endpoint = models.ForeignKey(
        InferenceEndpoint, on_delete=models.CASCADE, related_name="served_models"
    )
    model = models.ForeignKey(MLModel, on_delete=models.PROTECT, related_name="+")

    region_path = "endpoint__region"

    class Meta:
        ordering = ["endpoint__region__slug", "endpoint__name", "model__name"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "model"], name="unique_served_model")
        ]

    def __str__(self):
        return f"{self.endpoint} serves {self.model}"
