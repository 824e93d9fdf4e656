"""``POST /api/v1/agent/transfers``: executed transfers reported by an agent, into the register.

The transfer register (``controlplane.transfers``) owns the log and its rules; this module only
checks the agent's payload and calls ``transfer_record_create`` with the agent as the actor.
"""

from datetime import datetime

from django.db import transaction
from rest_framework import serializers

from controlplane.audit.actors import Actor
from controlplane.errors import DomainError
from controlplane.privacy import refuse_personal_data
from regions.models import Country, Region

MAX_RECORDS = 500


class RecordSerializer(serializers.Serializer):
    destination_country = serializers.RegexField(r"^[A-Z]{2}$")
    destination_region = serializers.SlugField(required=False, allow_null=True)
    categories = serializers.ListField(
        child=serializers.RegexField(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$"), min_length=1, max_length=50
    )
    volume = serializers.IntegerField(min_value=0)
    executed_at = serializers.DateTimeField()
    exporter_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, validators=[refuse_personal_data]
    )
    importer_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, validators=[refuse_personal_data]
    )
    idempotency_key = serializers.RegexField(r"^[A-Za-z0-9._:-]{1,100}$", required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {"non_field_errors": [f"unknown fields: {', '.join(sorted(unknown))}"]}
                )
        return super().to_internal_value(data)


class PayloadSerializer(serializers.Serializer):
    records = RecordSerializer(many=True, allow_empty=False, max_length=MAX_RECORDS)


def record_from_agent(*, principal, data) -> dict:
    try:
        from controlplane.transfers.services import transfer_record_create
    except ImportError:
        raise DomainError("The transfer register is not installed.", code="unavailable") from None
    serializer = PayloadSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    actor = Actor("agent", str(principal.id), str(principal))
    source = Region.objects.get(pk=principal.region_id)
    results = []
    with transaction.atomic():
        for item in serializer.validated_data["records"]:
            country = Country.objects.filter(code=item["destination_country"]).first()
            if country is None:
                raise DomainError(f"unknown country {item['destination_country']}")
            destination = None
            if item.get("destination_region"):
                destination = Region.objects.filter(slug=item["destination_region"]).first()
                if destination is None:
                    raise DomainError(f"unknown region {item['destination_region']}")
            executed_at: datetime = item["executed_at"]
            record = transfer_record_create(
                by=actor,
                source_region=source,
                destination_country=country,
                destination_region=destination,
                categories=item["categories"],
                volume=item["volume"],
                executed_at=executed_at,
                exporter_name=item.get("exporter_name", ""),
                importer_name=item.get("importer_name", ""),
                idempotency_key=item.get("idempotency_key"),
            )
            results.append(
                {
                    "id": record.pk,
                    "violation": record.violation,
                    "violation_reason": record.violation_reason,
                }
            )
    return {"records": results}
