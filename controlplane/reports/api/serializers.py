from rest_framework import serializers
from rest_framework.reverse import reverse

from controlplane.permissions import regions_for
from controlplane.reports.models import Report, ReportKind, ReportStatus
from regions.models import Region


class ReportSerializer(serializers.ModelSerializer):
    """A report as the Reports page lists it: scope, who asked, progress, and the file's facts."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    regions = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "kind_label",
            "period_start",
            "period_end",
            "regions",
            "scope_label",
            "status",
            "progress",
            "stage",
            "error",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "pages",
            "size",
            "sha256",
            "data_digest",
            "download",
        ]
        read_only_fields = fields

    def get_regions(self, report) -> list[str]:
        return sorted(r.slug for r in report.regions.all())

    def get_requested_by(self, report) -> str | None:
        return report.requested_by.get_username() if report.requested_by_id else None

    def get_download(self, report) -> str | None:
        """The PDF's URL once it exists (downloading it needs the auditor or DPO role)."""
        if report.status != ReportStatus.DONE:
            return None
        return reverse("report-download", args=[report.pk], request=self.context.get("request"))


class ReportRequestSerializer(serializers.Serializer):
    """``POST /api/v1/reports/``: the page's form, with regions named by slug."""

    kind = serializers.ChoiceField(choices=ReportKind.choices)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    regions = serializers.SlugRelatedField(
        slug_field="slug", queryset=Region.objects.none(), many=True, allow_empty=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the regions the person may view: another region's slug is as unknown as a
        # made-up one (a 400 either way, never a hint that it exists).
        request = self.context.get("request")
        user = getattr(request, "user", None)
        self.fields["regions"].child_relation.queryset = regions_for(user, "view")

    def validate(self, data):
        if data["period_end"] < data["period_start"]:
            raise serializers.ValidationError(
                {"period_end": "The period must end on or after its start."}
            )
        return data
