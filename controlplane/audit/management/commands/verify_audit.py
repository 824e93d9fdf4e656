from django.core.management.base import BaseCommand, CommandError

from controlplane.audit.checkpoint import checkpoint_path
from controlplane.audit.services import verify_trail


class Command(BaseCommand):
    help = (
        "Verify the audit chain (keyed links, head row, and the last checkpoint outside the "
        "database); name the first broken event and exit non-zero if any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="When intact, write the verified head as the new checkpoint (as the nightly "
            "verification does).",
        )

    def handle(self, *args, checkpoint=False, **options):
        verdict, previous = verify_trail(advance_checkpoint=checkpoint)
        if not verdict.intact:
            where = (
                f"at event #{verdict.first_broken_sequence}"
                if verdict.first_broken_sequence
                else "at its end"
            )
            raise CommandError(
                f"Audit chain broken {where}: {verdict.problem}. "
                f"{verdict.events_checked} events before it are intact."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {verdict.events_checked} events, "
                f"head #{verdict.head_sequence} {verdict.head_hash or '(empty)'}."
            )
        )
        if previous:
            self.stdout.write(f"It extends the checkpoint {previous.describe()}.")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"No checkpoint at {checkpoint_path()} yet: removing the newest events "
                    "cannot be detected until one is written (the nightly verification writes "
                    "it; or run verify_audit --checkpoint)."
                )
            )
        if verdict.unkeyed_events:
            self.stdout.write(
                f"{verdict.unkeyed_events} events predate the keyed chain (plain SHA-256 "
                f"links); the keyed event #{verdict.keyed_from} seals them."
                if verdict.keyed_from
                else f"{verdict.unkeyed_events} events predate the keyed chain and no keyed "
                "event seals them yet: the next event recorded will."
            )
        if checkpoint:
            self.stdout.write(f"Checkpoint written: {checkpoint_path()}.")
