"""The layering rules of docs/architecture.md are executable, and the pure cores stay pure."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_policy_engines_import_without_django_or_celery():
    probe = (
        "import sys\n"
        "import controlplane.transfers.policy, controlplane.modelregistry.policy\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'django', 'celery', 'kombu'})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"importing a policy engine loaded: {result.stdout}"


def test_the_contracts_name_every_layering_rule():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {contract["name"]: contract for contract in config["contracts"]}
    sources = {name: set(c["source_modules"]) for name, c in contracts.items()}
    assert {"agents"} in sources.values()
    assert any("controlplane.transfers.policy" in s for s in sources.values())
    assert {"regions"} in sources.values()
    assert {"controlplane.audit"} in sources.values()


def test_the_import_contracts_hold():
    """The same check as `make lint`; here so `make test` (and so CI) runs it too."""
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout
