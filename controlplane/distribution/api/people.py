"""Agents and their drift for people (read-only), scoped by restrict()."""

from rest_framework import serializers, viewsets
from rest_framework.response import Response

from controlplane.distribution import selectors
from controlplane.permissions import restrict
from regions.models import Agent


class AgentDriftSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    drift = serializers.CharField(source="live_drift")
    desired_version = serializers.IntegerField(allow_null=True)
    desired_digest = serializers.CharField(allow_null=True)
    trust_state = serializers.CharField()

    class Meta:
        model = Agent
        fields = [
            "id",
            "name",
            "region",
            "drift",
            "desired_version",
            "desired_digest",
            "applied_version",
            "applied_digest",
            "last_seen",
            "poll_interval",
            "software_version",
            "last_error_code",
            "last_refresh_at",
            "trust_expires",
            "trust_state",
            "last_error",
            "callback_url",
        ]


class AgentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AgentDriftSerializer
    pagination_class = None

    def get_queryset(self):
        queryset = restrict(Agent.objects.all(), self.request.user, "view")
        region = self.request.query_params.get("region")
        if region:
            queryset = queryset.filter(region__slug=region)
        return queryset

    def list(self, request, *args, **kwargs):
        agents = selectors.agents_with_drift(self.get_queryset())
        return self._respond(agents)

    def retrieve(self, request, *args, **kwargs):
        agent = self.get_object()
        return self._respond(selectors.agents_with_drift(Agent.objects.filter(pk=agent.pk))[0])

    def _respond(self, data):
        many = isinstance(data, list)
        return Response(self.get_serializer(data, many=many).data)
