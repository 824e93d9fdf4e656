"""``sovereign-agent run | status | verify FILE``."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from agents import __version__, protocol
from agents.client import Agent
from agents.config import AgentConfig, ConfigError, load_config
from agents.state import StateStore

EXIT_OK, EXIT_REFUSED, EXIT_CONFIG = 0, 2, 3


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML configuration file")
    p.add_argument("--region")
    p.add_argument(
        "--trusted-root", dest="trusted_root", help="TUF root metadata file to start from"
    )
    p.add_argument("--state-dir", dest="state_dir")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sovereign-agent", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="refresh from the control plane (TUF) and apply bundles")
    _add_common(run)
    run.add_argument("--url", help="control plane base URL")
    run.add_argument("--token")
    run.add_argument("--token-file", dest="token_file")
    run.add_argument("--poll-min", dest="poll_min", type=float)
    run.add_argument("--poll-max", dest="poll_max", type=float)
    run.add_argument(
        "--listen", help="HOST:PORT for refresh signals, POST /route, POST /resolve, GET /status"
    )
    run.add_argument("--once", action="store_true", help="refresh once, report, and exit")

    status = sub.add_parser("status", help="show the locally applied bundle and its trust")
    _add_common(status)

    verify = sub.add_parser(
        "verify", help="check a bundle file against the state directory's TUF metadata"
    )
    _add_common(verify)
    verify.add_argument("file")
    return parser


def _config(args, keys) -> AgentConfig:
    flags = {k: getattr(args, k, None) for k in keys}
    return load_config(flags=flags, config_file=args.config)


COMMON = ("region", "trusted_root", "state_dir")
RUN = COMMON + ("url", "token", "token_file", "poll_min", "poll_max", "listen")


def cmd_run(args) -> int:
    config = _config(args, RUN)
    config.require("url", "token", "region", "trusted_root")
    agent = Agent(config)
    # The saved state is loaded before anything listens: no signal or route request can be
    # served against an empty agent that then overwrites what was on disk.
    agent.load()
    if args.once:
        result = agent.poll_once()
        agent.report_status()
        print(json.dumps({"outcome": result.outcome, "code": result.code, **agent.status()}))
        return EXIT_OK if result.outcome in ("applied", "unchanged") else EXIT_REFUSED
    stop = threading.Event()

    def shutdown(*_):
        stop.set()
        agent.wake.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, shutdown)
    metrics = start_metrics(agent, config, stop)
    server = None
    if config.listen_address:
        from agents.server import make_server

        server = make_server(
            agent,
            config.listen_address,
            max_connections=config.listen_connections,
            deadline=config.listen_deadline,
            metrics=metrics,
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        logging.getLogger("sovereign.agent").info("listening on %s", config.listen)
    try:
        agent.run(stop)
    finally:
        if server:
            server.shutdown()
    return EXIT_OK


def start_metrics(agent: Agent, config: AgentConfig, stop: threading.Event):
    """The metrics pipeline in its own thread, following the catalogue of the applied bundle."""
    import random

    from agents.metrics import MetricsPipeline, http_sender, synthetic_observations

    pipeline = MetricsPipeline(
        spool_dir=config.metrics_spool_dir,
        send=http_sender(url=config.url, token=config.token, deadline_s=config.timeout),
        period=config.metrics_period,
        max_spool=config.metrics_spool_max,
    )

    def metrics_part():
        bundle = agent.bundle
        return bundle.content.get("metrics") if bundle is not None else None

    threading.Thread(
        target=pipeline.run, args=(stop,), kwargs={"bundle": metrics_part}, daemon=True
    ).start()
    if config.demo_observations > 0:
        rng = random.Random()

        def demo():
            while not stop.wait(5.0):
                if agent.bundle is not None:
                    pipeline.use_bundle(metrics_part())
                    synthetic_observations(pipeline, rng=rng, burst=config.demo_observations)

        threading.Thread(target=demo, daemon=True).start()
    return pipeline


def cmd_status(args) -> int:
    config = _config(args, COMMON)
    store = StateStore(config.state_dir)
    out = {"state_dir": str(store.dir), "state": store.read_state_safely()}
    if config.trusted_root and config.region:
        agent = Agent(config)
        agent.load()
        out.update(agent.status())
        out["verified"] = agent.bundle is not None
    print(json.dumps(out, indent=2, sort_keys=True))
    return EXIT_OK if out.get("verified", True) else EXIT_REFUSED


def cmd_verify(args) -> int:
    config = _config(args, COMMON)
    config.require("trusted_root", "region")
    store = StateStore(config.state_dir)
    try:
        agent = Agent(config)
        trust = store.trust(bootstrap=agent.bootstrap, region=config.region)
        with open(args.file, "rb") as fh:
            raw = fh.read(config.max_bundle_bytes + 1)
        if len(raw) > config.max_bundle_bytes:
            raise protocol.TooLargeError(f"{args.file} exceeds {config.max_bundle_bytes} bytes")
        if protocol.sha256_digest(raw) != "sha256:" + trust.target_sha256:
            raise protocol.ProtocolError(
                "the file is not the bundle the region's role lists", code="hash_mismatch"
            )
        bundle = protocol.parse_bundle(raw, region=config.region)
    except protocol.ProtocolError as exc:
        print(json.dumps({"valid": False, **exc.as_dict()}))
        return EXIT_REFUSED
    except OSError as exc:
        print(json.dumps({"valid": False, "code": "unreadable", "message": str(exc)}))
        return EXIT_REFUSED
    print(
        json.dumps(
            {
                "valid": True,
                "region": bundle.region,
                "version": bundle.version,
                "digest": bundle.digest,
                "role_version": trust.role_version,
                "root_version": trust.root_version,
                "expires": protocol.format_time(trust.expires),
            }
        )
    )
    return EXIT_OK


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    handler = {"run": cmd_run, "status": cmd_status, "verify": cmd_verify}[args.command]
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"sovereign-agent: {exc}", file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
