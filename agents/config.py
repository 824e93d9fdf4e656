"""Agent configuration: command-line flags override environment, which overrides a TOML file.

Environment variables are ``SOVEREIGN_AGENT_<NAME>`` (``SOVEREIGN_AGENT_URL``,
``SOVEREIGN_AGENT_TOKEN``, ...). The token may also come from a file: ``token_file`` /
``SOVEREIGN_AGENT_TOKEN_FILE``. ``trusted_root`` is the path of the TUF root metadata the agent
starts from (``var/keys/root.json`` on the control plane; any version: the agent walks the chain).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

ENV_PREFIX = "SOVEREIGN_AGENT_"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class AgentConfig:
    url: str = ""
    token: str = ""
    region: str = ""
    trusted_root: str = ""
    state_dir: str = "var/agent"
    poll_min: float = 10.0
    poll_max: float = 30.0
    backoff_max: float = 300.0
    listen: str = ""
    listen_deadline: float = 10.0
    listen_connections: int = 32
    max_bundle_bytes: int = 8 * 1024 * 1024
    timeout: float = 10.0
    metrics_period: int = 300
    metrics_spool_max: int = 2000
    demo_observations: int = 0  # > 0: record this many synthetic observations every few seconds

    @property
    def metrics_spool_dir(self) -> str:
        return str(Path(self.state_dir) / "metrics-spool")

    @property
    def listen_address(self) -> tuple[str, int] | None:
        if not self.listen:
            return None
        host, _, port = self.listen.rpartition(":")
        return (host or "127.0.0.1", int(port))

    def require(self, *names: str) -> None:
        missing = [n for n in names if not getattr(self, n)]
        if missing:
            env = ", ".join(ENV_PREFIX + n.upper() for n in missing)
            raise ConfigError(f"missing configuration: {', '.join(missing)} (or {env})")


_FIELD_TYPES = {f.name: f.type for f in fields(AgentConfig)}


def _coerce(name: str, value):
    kind = _FIELD_TYPES[name]
    try:
        if kind == "float":
            return float(value)
        if kind == "int":
            return int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: expected a number, got {value!r}") from exc
    return str(value)


def _read_secret_file(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {path}: {exc}") from exc


def _layer(raw: dict) -> dict:
    """Resolve ``*_file`` indirections and drop unknown or empty keys."""
    out = {}
    for key, value in raw.items():
        if value is None or value == "":
            continue
        if key == "token_file":
            out["token"] = _read_secret_file(value, "token")
        elif key in _FIELD_TYPES:
            out[key] = _coerce(key, value)
        else:
            raise ConfigError(f"unknown configuration key {key!r}")
    return out


def load_config(
    *,
    flags: dict | None = None,
    environ: dict | None = None,
    config_file: str | None = None,
) -> AgentConfig:
    environ = os.environ if environ is None else environ
    merged: dict = {}
    config_file = config_file or environ.get(ENV_PREFIX + "CONFIG")
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                merged.update(_layer(tomllib.load(fh)))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
    env_names = list(_FIELD_TYPES) + ["token_file"]
    merged.update(_layer({n: environ.get(ENV_PREFIX + n.upper()) for n in env_names}))
    merged.update(_layer(flags or {}))
    config = AgentConfig(**merged)
    if config.poll_min <= 0 or config.poll_max < config.poll_min:
        raise ConfigError("need 0 < poll_min <= poll_max")
    if config.metrics_period not in (60, 300, 900, 3600):
        raise ConfigError("metrics_period must be 60, 300, 900 or 3600 seconds")
    if config.listen:
        try:
            config.listen_address  # noqa: B018 - validates the port
        except ValueError as exc:
            raise ConfigError(f"listen must be HOST:PORT, got {config.listen!r}") from exc
    return config
