import json

from django.core.management.base import BaseCommand, CommandError

from controlplane.distribution import conf, keys, services
from controlplane.errors import DomainError
from regions.models import Region

ROLES = ["root", "targets", "snapshot", "timestamp", "region"]


class Command(BaseCommand):
    help = (
        "The TUF repository's keys (files, never the database). `init` creates the offline root "
        "keys (--root-keys, --threshold), the online targets/snapshot/timestamp keys and the "
        "first metadata; `rotate --role R [--region SLUG]` replaces a role's key (root, targets, "
        "snapshot and timestamp through a new root version signed with the root keys; a "
        "region's key through a new delegation); `revoke` does the same for a key that is "
        "compromised; `show` prints the trusted root file agents start from."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["init", "rotate", "revoke", "show"])
        parser.add_argument("--role", choices=ROLES)
        parser.add_argument("--region", help="region slug (with --role region)")
        parser.add_argument("--root-keys", type=int, default=1, dest="root_keys")
        parser.add_argument("--threshold", type=int, default=None)

    def handle(self, *args, action, role, region, root_keys, threshold, **options):
        try:
            if action == "init":
                result = services.repository_init(root_keys=root_keys, threshold=threshold)
                self.stdout.write(json.dumps(result))
                for r in Region.objects.all():
                    bundle = services.publish_region(region=r, reason="repository initialised")
                    if bundle:
                        self.stdout.write(f"published {bundle}")
            elif action in ("rotate", "revoke"):
                if not role:
                    raise CommandError("--role is required")
                target = None
                if role == "region":
                    target = Region.objects.filter(slug=region or "").first()
                    if target is None:
                        raise CommandError(f"--region: no region {region!r}")
                result = services.repository_rotate(
                    role=role, region=target, revoke=action == "revoke"
                )
                self.stdout.write(json.dumps(result))
            self.stdout.write(f"trusted root for agents: {conf.trusted_root_file()}")
        except (keys.KeyMaterialMissing, DomainError) as exc:
            raise CommandError(str(exc)) from None
