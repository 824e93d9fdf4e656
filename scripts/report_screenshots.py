"""Render each report on the current database (e.g. the demo estate) and save PNGs of its first
pages in docs/screenshots/ with pdftoppm (Debian package poppler-utils).

    DJANGO_DEBUG=1 .venv/bin/python scripts/report_screenshots.py [--pages 3]
"""

import argparse
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")


def main() -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from controlplane.reports import services
    from controlplane.reports.models import ReportKind
    from regions.models import Region

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3)
    args = parser.parse_args()
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    today = timezone.localdate()
    out = ROOT / "docs" / "screenshots"
    for kind in ReportKind.values:
        report = services.report_request(
            kind=kind,
            period_start=today - timedelta(days=365),
            period_end=today,
            regions=Region.objects.all(),
            by=admin,
        )
        report = services.report_generate(report_id=report.pk)
        if report.status != "done":
            print(f"{kind}: {report.error}", file=sys.stderr)
            return 1
        for number in range(1, min(args.pages, report.pages) + 1):
            target = out / f"report-{kind.replace('_', '-')}-{number}"
            subprocess.run(
                ["pdftoppm", "-png", "-r", "70", "-f", str(number), "-l", str(number),
                 "-singlefile", str(services.file_path(report)), str(target)],
                check=True,
            )  # fmt: skip
        print(f"{kind}: {report.pages} pages, sha256 {report.sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
