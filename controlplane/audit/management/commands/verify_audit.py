from django.core.management.base import BaseCommand, CommandError

from controlplane.audit.selectors import verify_chain


class Command(BaseCommand):
    help = "Walk the audit hash chain; name the first broken event and exit non-zero if any."

    def handle(self, *args, **options):
        verdict = verify_chain()
        if not verdict.intact:
            raise CommandError(
                f"Audit chain broken at event #{verdict.first_broken_sequence}: {verdict.problem}. "
                f"{verdict.events_checked} events before it are intact."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {verdict.events_checked} events.")
        )
