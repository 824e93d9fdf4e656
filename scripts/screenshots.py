"""Take the README's screenshots from a running `make run` (headless Chromium).

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000] [ONLY] [--drill=<mechanism id>]

Pages that do not exist yet are skipped; with ONLY, just the files whose name contains it. Images land in docs/screenshots/.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"
_REST = [a for a in sys.argv[2:] if not a.startswith("--")]
ONLY = _REST[0] if _REST else ""
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "sovereign-demo"

SHOTS = [
    # (user, path, file)
    ("dpo-eu", "/", "dashboard.png"),
    ("dpo-eu", "/regions/", "regions.png"),
    ("dpo-eu", "/regions/eu-central/", "region-eu-central.png"),
    ("dpo-eu", "/transfers/", "transfer-queue.png"),
    ("dpo-eu", "/models/", "models-by-region.png"),
    ("admin", "/agents/", "agents.png"),
    ("auditor", "/audit/", "audit.png"),
    ("admin", "/routing/", "routing-matrix.png"),
    ("dpo-eu", "/metrics/regions/eu-central/", "metrics-eu-central.png"),
    ("dpo-eu", "/metrics/versions/fraud-global:1.0.0/", "metrics-model-version.png"),
]

# The revocation drill (docs/schrems-ii.md): `--drill=<mechanism id>` simulates ending it, then
# ends it. The worked example approves the demo's Cloudy Compute request first.


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        sessions = {}
        for user, path, name in SHOTS:
            if ONLY not in name:
                continue
            if user not in sessions:
                context = browser.new_context(viewport={"width": 1280, "height": 860})
                page = context.new_page()
                page.goto(f"{BASE}/login/")
                page.fill("#id_username", user)
                page.fill("#id_password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_selector("[data-testid=current-user]")
                sessions[user] = page
            page = sessions[user]
            response = page.goto(f"{BASE}{path}")
            if response is None or response.status >= 400:
                print(f"skip {path}: {response.status if response else 'no answer'}")
                continue
            page.screenshot(path=str(OUT / name), full_page=False)
            print(f"wrote docs/screenshots/{name}")
        for arg in sys.argv[2:]:
            if arg.startswith("--drill="):
                drill(sessions["admin"], int(arg.split("=", 1)[1]))
        browser.close()


def drill(page, pk):
    """Screenshots of the drill: the simulated impact, the mechanism once ended, the matrix."""
    page.goto(f"{BASE}/routing/drill/{pk}/")
    page.select_option("#id_status", "revoked")
    page.fill(
        "#id_reason",
        "Rehearsal: the Court of Justice invalidates the decision (as it did the Privacy Shield on 16 July 2020, C-311/18).",
    )
    page.click("[data-testid=simulate]")
    page.wait_for_selector("[data-testid=impact]")
    page.screenshot(path=str(OUT / "drill-simulated.png"), full_page=True)
    print("wrote docs/screenshots/drill-simulated.png")
    page.click("[data-testid=end]")
    page.wait_for_selector("[data-testid=current-user]")
    page.screenshot(path=str(OUT / "drill-ended.png"), full_page=False)
    print("wrote docs/screenshots/drill-ended.png")
    page.goto(f"{BASE}/routing/")
    page.screenshot(path=str(OUT / "routing-matrix-after.png"), full_page=False)
    print("wrote docs/screenshots/routing-matrix-after.png")


if __name__ == "__main__":
    main()
