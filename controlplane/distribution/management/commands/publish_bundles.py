from django.core.management.base import BaseCommand

from controlplane.distribution import services
from regions.models import Region


class Command(BaseCommand):
    help = "Publish each region's bundle if its desired state changed (--force re-signs anyway)."

    def add_arguments(self, parser):
        parser.add_argument("regions", nargs="*", help="region slugs (default: all)")
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, regions, force, **options):
        queryset = Region.objects.all()
        if regions:
            queryset = queryset.filter(slug__in=regions)
        for region in queryset:
            bundle = services.publish_region(region=region, force=force, reason="manage.py")
            self.stdout.write(
                f"{region.slug}: {f'v{bundle.version} published' if bundle else 'unchanged'}"
            )
