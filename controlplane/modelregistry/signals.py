"""Guards that keep an approved version's lineage as it was approved.

``ModelVersion.save()`` guards the columns; these guard the many-to-many lineage facts
(training jurisdictions, data categories, participating regions), which change without a save.
"""

from django.db.models.signals import m2m_changed

from controlplane.modelregistry.models import ModelVersion, VersionIsImmutable

GUARDED = (
    ModelVersion.training_jurisdictions.through,
    ModelVersion.data_categories.through,
    ModelVersion.participating_regions.through,
)


def _refuse_if_frozen(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if not reverse:
        frozen = ModelVersion.objects.filter(pk=instance.pk, frozen_at__isnull=False).exists()
    else:
        # Changed from the other side (e.g. a region's reverse set): check the versions touched.
        versions = ModelVersion.objects.filter(frozen_at__isnull=False)
        if pk_set is not None:
            versions = versions.filter(pk__in=pk_set)
        else:
            field = {
                ModelVersion.training_jurisdictions.through: "training_jurisdictions",
                ModelVersion.data_categories.through: "data_categories",
                ModelVersion.participating_regions.through: "participating_regions",
            }[sender]
            versions = versions.filter(**{field: instance})
        frozen = versions.exists()
    if frozen:
        raise VersionIsImmutable(
            "A version that a region approved keeps its lineage; register a new version."
        )


for through in GUARDED:
    m2m_changed.connect(
        _refuse_if_frozen, sender=through, dispatch_uid=f"frozen-{through.__name__}"
    )
