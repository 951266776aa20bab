"""`sandbox up` and `sandbox status`, and real clients reaching the sites through the gateway."""

from __future__ import annotations

import html
import json
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest
import requests

from sandbox.pids import alive
from sandbox.serve import Sandbox
from tests.ports import free_port
from tests.processes import read_until_ready, start_sandbox, stop


@pytest.fixture(scope="module")
def running(tiny_world, tmp_path_factory):
    """The tiny world served on free ports for the whole module."""
    state = tmp_path_factory.mktemp("state")
    with Sandbox(tiny_world, socks_port=0, http_port=0, explorer_port=0, state=state) as sandbox:
        yield sandbox


def _proxies(sandbox: Sandbox, user: str | None = None) -> dict:
    """requests' proxy settings for the sandbox's SOCKS port, with remote name resolution."""
    host, port = sandbox.gateway.socks_address
    auth = f"{user}:secret@" if user else ""
    url = f"socks5h://{auth}{host}:{port}"
    return {"http": url, "https": url}


def test_every_site_answers_through_socks(running):
    """Each site of the world serves its home page over socks5h, under its .onion/.test name."""
    for site in running.sites:
        r = requests.get(f"http://{site.address}/", proxies=_proxies(running), timeout=20)
        assert r.status_code == 200, (site.site_id, r.status_code)
        assert site.name in html.unescape(r.text) or "queue" in r.text.lower(), site.site_id


def test_socks_username_is_the_visitors_identity(running):
    """A SOCKS username ends up in the gateway's connection log as the visitor."""
    wiki = next(s for s in running.sites if s.kind == "wiki")
    r = requests.get(f"http://{wiki.address}/", proxies=_proxies(running, "trainee07"), timeout=20)
    assert r.status_code == 200
    running.log.flush()
    visitors = {rec.visitor for rec in running.log.recent(200)}
    assert "trainee07" in visitors


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_socks5_hostname_and_http_proxy(running):
    """curl reaches the wiki with --socks5-hostname and through the HTTP proxy."""
    wiki = next(s for s in running.sites if s.kind == "wiki")
    socks = "{}:{}".format(*running.gateway.socks_address)
    http = "http://{}:{}".format(*running.gateway.http_address)
    for args in (["--socks5-hostname", socks], ["--proxy", http]):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", *args, f"http://{wiki.address}/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert wiki.name in out


def test_clearnet_is_refused(running):
    """A clearnet destination never leaves the sandbox: the proxy refuses it."""
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://example.com/", proxies=_proxies(running), timeout=10)


@pytest.mark.slow  # a real `sandbox up` process, started and stopped
def test_up_cli_serves_reports_status_and_stops_on_ctrl_c(tiny_world, tmp_path):
    """`sandbox up` prints the proxies and entry points, `status` sees it, SIGINT stops it cleanly."""
    state = tmp_path / "state"
    socks, http = free_port(), free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = start_sandbox(
        "up",
        "--world",
        str(tiny_world),
        "--socks-port",
        str(socks),
        "--http-port",
        str(http),
        "--explorer-port",
        "0",
        "--classroom-port",
        "0",
        "--state",
        str(state),
        env=env,
    )
    try:
        output = read_until_ready(proc, 60)
        assert f"127.0.0.1:{socks}" in output and f"127.0.0.1:{http}" in output, output
        assert ".onion/" in output and "wiki" in output
        assert f"Sandbox CA    {state / 'sandbox-ca.pem'}" in output
        status = subprocess.run(
            [
                sys.executable,
                "-m",
                "sandbox",
                "status",
                "--world",
                str(tiny_world),
                "--state",
                str(state),
                "--json",
            ],
            capture_output=True,
            text=True,
        )
        assert status.returncode == 0, status.stdout + status.stderr
        info = json.loads(status.stdout)
        assert info["running"] and all(s["listening"] for s in info["sites"])
        workers = info["site_workers"]
        assert workers["master_alive"] and len(workers["workers"]) >= 2
        wiki = next(s for s in info["sites"] if s["kind"] == "wiki")
        proxy = f"socks5h://127.0.0.1:{socks}"
        r = requests.get(f"http://{wiki['address']}/", proxies={"http": proxy}, timeout=20)
        assert r.status_code == 200
    finally:
        rest = stop(proc, signal.SIGINT, 30)
    assert proc.returncode == 0, rest
    assert "sandbox stopped" in rest
    # Ctrl-C stopped the site workers too (their master has a session of its own).
    assert not any(alive(pid) for pid in (workers["master"], *workers["workers"]))
    after = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox",
            "status",
            "--world",
            str(tiny_world),
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
    )
    assert after.returncode == 1 and "not running" in after.stdout


def test_up_refuses_a_busy_port(tiny_world, tmp_path, sandbox):
    """A port already in use is one clear error and exit 1, not a traceback."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = sandbox(
            "up",
            "--world",
            tiny_world,
            "--socks-port",
            port,
            "--http-port",
            free_port(),
            "--explorer-port",
            0,
            "--classroom-port",
            0,
            "--state",
            tmp_path / "s",
        )
    assert result.exit_code == 1
    assert "cannot start the sandbox" in result.output and str(port) in result.output


OPEN_FILES = """
import resource, sys
from sandbox.open_files import RESERVE, OpenFilesLimitError
from sandbox.serve import SERVICE_LABELS, THREADS, Sandbox

box = Sandbox(world=sys.argv[1], max_connections=1000, site_workers=2)
needed = 2 * 1000 + len(SERVICE_LABELS) * THREADS * 2 + RESERVE
for hard in (needed, needed - 1):
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        box.ensure_open_files()
        print(hard == needed and resource.getrlimit(resource.RLIMIT_NOFILE)[0] == needed)
    except OpenFilesLimitError as e:
        print(hard < needed and f"needs {needed} open files" in str(e)
              and "--max-connections" in str(e))
"""


def test_the_open_files_the_sandbox_asks_for_are_what_its_sockets_take(tiny_world):
    """Two per gateway connection (every site is served by the workers) and the workers'
    kept-alive connections to the services' own parts, plus the reserve: a hard limit of
    exactly that is enough, one less is refused naming the option that needs fewer."""
    run = subprocess.run(
        [sys.executable, "-c", OPEN_FILES, str(tiny_world)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "True"]
