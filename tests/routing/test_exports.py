"""Gateway exports: structure, and the nginx map checked and served by Debian's nginx."""

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from agents.routing import resolve
from controlplane.routing import exports
from controlplane.routing import policy as rp
from tests.conftest import missing_service
from tests.routing.test_policy import ENDPOINTS, table, transfer

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PORT = 8651


def demo_table():
    return table(transfers=[transfer()]).as_dict()


def test_gateway_json_is_the_table_itself():
    t = demo_table()
    assert json.loads(exports.gateway_json(t)) == json.loads(json.dumps(t))


def test_edge_json_lists_each_country_in_the_order_resolve_gives():
    t = demo_table()
    edge = json.loads(exports.edge_json(t))
    assert edge["format"] == 1 and edge["default"] == []
    assert set(edge["countries"]) == set(t["countries"])
    for country in t["countries"]:
        expected = [r["url"] for r in resolve(t, country)["routes"]]
        assert [r["url"] for r in edge["countries"][country]] == expected
    us_east = [r for r in edge["countries"]["DE"] if r["region"] == "us-east"]
    assert us_east == [
        {
            "url": "https://inference.us-east.example.com/v1/score",
            "region": "us-east",
            "basis": "transfer",
            "only_categories": ["user.contact", "user.name"],
        }
    ]
    assert edge["countries"]["US"][0]["region"] == "us-east"


def test_the_nginx_map_leaves_out_category_limited_routes_and_lists_gaps():
    t = table(endpoints=[e for e in ENDPOINTS if e.region != "us-east"], transfers=[transfer()])
    text = exports.nginx_map(t.as_dict())
    assert 'DE "https://inference.eu-central.example.com/v1/score";' in text
    assert "us-east" not in text
    assert "# No lawful endpoint: US" in text
    with pytest.raises(ValueError):
        exports.nginx_map(t.as_dict(), country_variable="$x; evil")


def _nginx_config(tmp: Path, snippet: str) -> Path:
    (tmp / "routing.conf").write_text(snippet)
    temp = " ".join(
        f"{name}_temp_path {tmp / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
master_process off;
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"};
events {{ worker_connections 16; }}
http {{
    access_log off;
    {temp}
    include {tmp / "routing.conf"};
    server {{
        listen 127.0.0.1:{PORT};
        location / {{
            if ($sovereign_upstream = "") {{ return 451; }}
            add_header X-Upstreams $sovereign_upstreams;
            return 200 $sovereign_upstream;
        }}
    }}
}}
"""
    )
    return conf


def _with_dollar_url():
    """An endpoint whose URL carries characters nginx treats specially."""
    odd = rp.EndpointFacts(
        region="eu-west",
        name="odd",
        url='https://inference.eu-west.example.com/v1/score?a=$1&b="x"',
        log_store="event-lake",
        priority=1,
    )
    return table(endpoints=[*ENDPOINTS, odd], on=date(2026, 11, 26)).as_dict()


def test_nginx_accepts_the_map_and_routes_by_the_users_country(tmp_path):
    if not Path(NGINX).exists():
        missing_service("needs Debian's nginx (apt-get install nginx-light)")
    conf = _nginx_config(tmp_path, exports.nginx_map(_with_dollar_url()))
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr

    server = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "nginx did not start listening"
                time.sleep(0.05)

        def ask(country):
            req = urllib.request.Request(
                f"http://127.0.0.1:{PORT}/", headers={"X-User-Country": country}
            )
            try:
                with urllib.request.urlopen(req, timeout=5) as response:
                    return response.status, response.read().decode(), response.headers
            except urllib.error.HTTPError as error:
                return error.code, "", error.headers

        status, body, headers = ask("FR")  # the odd URL has priority 1 among EEA endpoints
        assert status == 200
        assert body == 'https://inference.eu-west.example.com/v1/score?a=$1&b="x"'
        status, body, headers = ask("DE")
        assert body == "https://inference.eu-central.example.com/v1/score"
        assert headers["X-Upstreams"].split(" ")[1].startswith("https://inference.eu-west")
        status, body, _ = ask("IN")  # no lawful endpoint for Indian users
        assert status == 451
    finally:
        server.terminate()
        server.wait(timeout=10)
