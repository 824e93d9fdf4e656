import json

from django.core.management.base import BaseCommand, CommandError

from controlplane.distribution import conf, services, signing
from regions.models import Region


class Command(BaseCommand):
    help = (
        "Bundle signing keys (files, never the database). `init` creates the root key, a signing "
        "key and keyring v1 for development; `rotate` makes a new signing key and keyring v+1 "
        "(the old key is revoked unless --keep-old) and republishes every region; `show` prints "
        "the root public key agents must trust."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["init", "rotate", "show"])
        parser.add_argument("--keep-old", action="store_true")

    def handle(self, *args, action, keep_old, **options):
        try:
            if action == "init":
                result = signing.init_keys()
                for path in result["created"]:
                    self.stdout.write(f"created {path}")
                self.stdout.write(f"root public key: {result['root_public_key']}")
            elif action == "rotate":
                result = signing.rotate_signing_key(keep_old=keep_old)
                self.stdout.write(json.dumps(result))
                for region in Region.objects.all():
                    bundle = services.publish_region(region=region, reason="signing key rotated")
                    if bundle:
                        self.stdout.write(f"republished {bundle}")
            else:
                self.stdout.write(signing.root_public_key_text())
                self.stdout.write(f"(file: {conf.root_public_key_file()})")
        except signing.KeyMaterialMissing as exc:
            raise CommandError(str(exc)) from None
