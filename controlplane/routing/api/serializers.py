from rest_framework import serializers

from controlplane.modelregistry.models import MLModel
from regions.models import DataCategory, DataStore


class ResolveQuerySerializer(serializers.Serializer):
    """``?country=DE&category=user.contact.email&category=...&model=...``"""

    country = serializers.RegexField(
        r"^[A-Z]{2}$",
        error_messages={"invalid": "country must be an ISO 3166-1 alpha-2 code in capitals."},
    )
    category = serializers.ListField(
        child=serializers.SlugRelatedField(slug_field="key", queryset=DataCategory.objects.all()),
        required=False,
        max_length=20,
    )
    model = serializers.CharField(required=False, max_length=80)


class EndpointRoutingSerializer(serializers.Serializer):
    """What routing knows about an inference endpoint (PATCH: any subset)."""

    id = serializers.IntegerField(read_only=True)
    endpoint = serializers.CharField(source="__str__", read_only=True)
    url = serializers.URLField(read_only=True)
    serves_traffic = serializers.BooleanField(required=False)
    priority = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    latency_hint_ms = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=600_000
    )
    log_store = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="The name of a data store of the endpoint's own region.",
    )
    input_categories = serializers.ListField(
        child=serializers.SlugRelatedField(slug_field="key", queryset=DataCategory.objects.all()),
        required=False,
        max_length=50,
    )
    models = serializers.ListField(
        child=serializers.SlugRelatedField(slug_field="name", queryset=MLModel.objects.all()),
        required=False,
        max_length=50,
    )

    def validate_log_store(self, value):
        if value is None:
            return None
        endpoint = self.instance
        # The name is looked up among the endpoint's own region's stores only; a store of
        # another region is refused by the model's own check with the reason.
        store = DataStore.objects.filter(region=endpoint.region, name=value).first()
        if store is None:
            raise serializers.ValidationError(
                f"{endpoint.region.slug} has no data store named {value!r}; inference logs stay "
                "in the serving region."
            )
        return store

    def to_representation(self, endpoint):
        return {
            "id": endpoint.pk,
            "endpoint": str(endpoint),
            "url": endpoint.url,
            "serves_traffic": endpoint.serves_traffic,
            "priority": endpoint.priority,
            "latency_hint_ms": endpoint.latency_hint_ms,
            "log_store": endpoint.log_store.name if endpoint.log_store_id else None,
            "input_categories": sorted(c.key for c in endpoint.input_categories.all()),
            "models": sorted(s.model.name for s in endpoint.served_models.all()),
        }
