"""make audit: known vulnerabilities in the installed Python environment.

1. pip-audit (pinned in the test extra), strict: every installed distribution must be audited,
   against PyPI's per-release vulnerability data (OSV's database). Any known vulnerability fails.
2. Where pip-audit's services are out of reach (this project's machines reach PyPI's package
   index and its per-project JSON, but neither the per-release JSON pip-audit reads nor OSV),
   the fallback says so loudly and checks what the reachable data can tell: for each installed
   distribution, PyPI's per-project JSON lists the known vulnerabilities of the *latest* release
   and which releases are yanked. A distribution at its latest release is checked in full; one
   behind it is reported as not checkable here (not as safe). A known vulnerability or a yanked
   release fails.

Run with the environment's own interpreter: ``.venv/bin/python scripts/audit_dependencies.py``.
"""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

PYPI = "https://pypi.org/pypi"
PROJECT = "sovereign-controlplane"  # this checkout, installed editable: nothing to audit
TIMEOUT = 20


def _get(url: str):
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 - https only
        return json.load(response)


def installed() -> dict[str, str]:
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() != PROJECT:
            found[name] = dist.version
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def pip_audit_reachable() -> bool:
    """pip-audit's PyPI service reads /pypi/<name>/<version>/json."""
    try:
        _get(f"{PYPI}/pip/{metadata.version('pip')}/json")
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return True


def run_pip_audit() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [str(pip_audit), "--strict", "--skip-editable", "--progress-spinner", "off", "--desc"]
    print("$", " ".join(command), flush=True)
    return subprocess.run(command).returncode


def fallback() -> int:
    print(
        "pip-audit cannot run here: PyPI's per-release JSON API and OSV are unreachable from "
        "this machine.\nFalling back to PyPI's per-project JSON: full checks only for "
        "distributions at their latest release.",
        flush=True,
    )
    vulnerable, yanked, behind, unknown, clean = [], [], [], [], 0
    for name, version in installed().items():
        try:
            project = _get(f"{PYPI}/{name}/json")
        except (urllib.error.URLError, OSError, ValueError) as error:
            unknown.append(f"{name} {version}: {error}")
            continue
        files = project.get("releases", {}).get(version) or []
        if files and all(f.get("yanked") for f in files):
            reason = next((f.get("yanked_reason") for f in files if f.get("yanked_reason")), "")
            yanked.append(f"{name} {version} is yanked{': ' + reason if reason else ''}")
        latest = project["info"]["version"]
        if latest != version:
            behind.append(f"{name} {version} (latest {latest})")
            continue
        found = [v for v in project.get("vulnerabilities", []) if not v.get("withdrawn")]
        if found:
            for v in found:
                fixed = ", ".join(v.get("fixed_in") or []) or "no fixed release"
                vulnerable.append(f"{name} {version}: {v['id']} (fixed in: {fixed})")
        else:
            clean += 1
    print(f"\n{clean} distributions at their latest release with no known vulnerability.")
    if behind:
        print(f"{len(behind)} behind their latest release, NOT checkable here:")
        print("".join(f"  {line}\n" for line in behind), end="")
    for title, lines in (
        ("could not be read", unknown),
        ("YANKED", yanked),
        ("KNOWN VULNERABILITIES", vulnerable),
    ):
        if lines:
            print(f"{title}:")
            print("".join(f"  {line}\n" for line in lines), end="")
    return 1 if vulnerable or yanked else 0


def main() -> int:
    if pip_audit_reachable():
        return run_pip_audit()
    return fallback()


if __name__ == "__main__":
    sys.exit(main())
