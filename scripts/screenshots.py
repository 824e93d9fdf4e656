"""Take the README's screenshots from a running `make run` (headless Chromium).

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000] [ONLY]

Pages that do not exist yet are skipped; with ONLY, just the files whose name contains it. Images land in docs/screenshots/.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"
ONLY = sys.argv[2] if len(sys.argv) > 2 else ""
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
    ("dpo-eu", "/metrics/regions/eu-central/", "metrics-eu-central.png"),
    ("dpo-eu", "/metrics/versions/fraud-global:1.0.0/", "metrics-model-version.png"),
]


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
        browser.close()


if __name__ == "__main__":
    main()
