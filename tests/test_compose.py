"""The classroom deployment: docker-compose.yml, its generator and a real run of the stack.

tests/data/compose_spec.json is the Compose specification's JSON schema, copied unchanged
from Debian bookworm's docker-compose 1.29.2-3 package
(/usr/lib/python3/dist-packages/compose/config/compose_spec.json, Apache-2.0), the
Compose this project's CI runs the stack with.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import requests
import yaml

from sandbox.compose import IMAGE, compose_file, site_service
from sandbox.standalone import parse_route
from sandbox.world.read import world_info
from tests.ports import free_port
from tests.processes import stop, wait_listening

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = json.loads((Path(__file__).parent / "data" / "compose_spec.json").read_text())
BIND = "${SANDBOX_BIND:-127.0.0.1}"


def _problems(data: dict) -> list[str]:
    """Every way a Compose file breaks the Compose specification's schema."""
    validator = jsonschema.Draft201909Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)
    ]


def test_committed_file_is_what_sandbox_compose_writes(sandbox):
    """docker-compose.yml is exactly `sandbox compose default`: regenerate it after a change."""
    result = sandbox("compose", "default")
    assert result.exit_code == 0, result.output
    assert result.output == COMPOSE.read_text(), "run: sandbox compose --out docker-compose.yml"


def test_compose_files_match_the_compose_schema(tiny_world, tiny_path, tmp_path):
    """The committed file and generated ones (a world file, a scenario file) are valid Compose."""
    files = {
        "docker-compose.yml": yaml.safe_load(COMPOSE.read_text()),
        "world file": compose_file(str(tiny_world), out_dir=tmp_path),
        "scenario file": compose_file(str(tiny_path), seed=3, out_dir=tmp_path),
    }
    for what, data in files.items():
        assert _problems(data) == [], what
    # The schema does reject what Compose would reject.
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["gateway"]["ports"] = 9050
    broken["servicez"] = {}
    assert len(_problems(broken)) == 2


def test_a_container_per_site_on_an_internal_network(tiny_world, tmp_path):
    """Every site but the explorer has its own container, only on the internal network."""
    data = compose_file(str(tiny_world), out_dir=tmp_path)
    services = data["services"]
    sites = world_info(tiny_world)["sites"]
    assert data["networks"]["sites"] == {"internal": True}
    routes = services["gateway"]["command"]
    for site in sites:
        name = site_service(site["id"])
        if site["kind"] == "explorer":  # served by the gateway, with the classroom
            assert name not in services
            continue
        service = services[name]
        assert service["image"] == IMAGE and service["networks"] == ["sites"]
        assert service["command"][:3] == ["serve-site", "/data/world.db", site["id"]]
        assert "ports" not in service and "world:/data:ro" in service["volumes"]
        assert service["labels"]["org.darkweb-sandbox.address"] == site["address"]
        assert f"--route={site['id']}={name}:80" in routes
    # Only the gateway publishes ports, on the host's loopback unless told otherwise.
    published = {n for n, s in services.items() if "ports" in s}
    assert published == {"gateway"}
    ports = services["gateway"]["ports"]
    assert [p.split(":")[-1] for p in ports] == ["9050", "8118", "8080", "3000"]
    assert all(p.startswith(BIND + ":") for p in ports)
    # The world is built (here: copied) once, by a one-shot service with no network at all.
    build = services["build"]
    assert build["network_mode"] == "none" and "restart" not in build
    assert build["command"][0].startswith("test -f /data/world.db || cp /import/world.db")
    assert any(v.endswith(":/import/world.db:ro") for v in build["volumes"])


def test_committed_file_lists_the_default_worlds_sites():
    """docker-compose.yml has a container for each site of the default scenario's world."""
    data = yaml.safe_load(COMPOSE.read_text())
    labels = [s.get("labels", {}) for s in data["services"].values()]
    ids = {lab["org.darkweb-sandbox.site"] for lab in labels if lab}
    expected = {"nightshade", "obsidian", "greywolf-shop", "hollow", "cinder", "compass"}
    assert expected | {"umbra", "flock", "coinvault", "harbor"} == ids
    assert "sandbox build default" in data["services"]["build"]["command"][0]


@pytest.mark.parametrize("command", ["compose", "serve-site", "gateway"])
def test_container_commands_have_help_with_example(sandbox, command):
    """The compose commands document themselves with an example, as every command does."""
    result = sandbox(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output
    assert f"sandbox {command}" in result.output


def test_parse_route():
    """Routes are SITE=HOST:PORT; anything else is refused with an example."""
    assert parse_route("wiki=site-wiki:80") == ("wiki", ("site-wiki", 80))
    for bad in ("wiki", "wiki=site-wiki", "=h:80", "wiki=:80", "wiki=h:0", "wiki=h:x"):
        with pytest.raises(ValueError, match="route"):
            parse_route(bad)


def test_compose_refuses_an_unknown_scenario(sandbox):
    """`sandbox compose` of no world or scenario fails naming it."""
    result = sandbox("compose", "no-such-thing")
    assert result.exit_code == 1 and "no-such-thing" in result.output


def _wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> Path:
    """Wait until path exists (the gateway writes run.json once all it serves is ready,
    after its SOCKS port already answers), failing if the process died."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"no {path} after {timeout} s"
        time.sleep(0.1)
    return path


@pytest.mark.slow  # two real processes, as the containers run them
def test_serve_site_and_gateway_processes(tiny_world, tmp_path):
    """The containers' commands without Docker: a site in one process, the gateway routing to it."""
    sites = {s["kind"]: s for s in world_info(tiny_world)["sites"]}
    state = tmp_path / "state"
    site_port, socks, http, explorer, classroom = (free_port() for _ in range(5))
    cmd = [sys.executable, "-m", "sandbox"]
    site = subprocess.Popen(
        [*cmd, "serve-site", str(tiny_world), sites["wiki"]["id"], "--host", "127.0.0.1"]
        + ["--port", str(site_port), "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    gateway = subprocess.Popen(
        [*cmd, "gateway", str(tiny_world), "--state", str(state)]
        + [f"--route={sites['wiki']['id']}=127.0.0.1:{site_port}"]
        + ["--socks-port", str(socks), "--http-port", str(http)]
        + ["--explorer-port", str(explorer), "--classroom-port", str(classroom)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "SANDBOX_INSTRUCTOR_PASSWORD": "s3cret"},
        start_new_session=True,
    )
    try:
        wait_listening(site_port, site)
        wait_listening(socks, gateway)
        proxies = {"http": f"socks5h://127.0.0.1:{socks}"}
        for kind in ("wiki", "forum"):  # one routed to the other process, one served here
            r = requests.get(f"http://{sites[kind]['address']}/", proxies=proxies, timeout=20)
            assert r.status_code == 200 and sites[kind]["name"] in r.text, kind
        run = json.loads(_wait_for_file(state / "run.json", gateway).read_text())
        routed = {s["id"]: (s["host"], s["port"]) for s in run["sites"]}
        assert routed[sites["wiki"]["id"]] == ("127.0.0.1", site_port)
    finally:
        for proc in (gateway, site):
            proc.send_signal(signal.SIGTERM)
        outputs = [stop(proc, signal.SIGTERM, 20) for proc in (gateway, site)]
    assert gateway.returncode == 0 and site.returncode == 0, outputs
    assert "Instructor password: s3cret" in outputs[0]
    assert not (state / "run.json").exists()


@pytest.mark.slow  # a real gateway process
def test_a_gateway_told_to_stop_while_it_starts_stops_cleanly(tiny_world, tmp_path):
    """SIGTERM the moment the gateway's SOCKS port listens, its sites' workers still
    starting (`docker stop` right after `up`): it finishes starting, then stops everything
    and exits 0, instead of dying of the signal with its workers left running."""
    state = tmp_path / "state"
    socks, http, explorer, classroom = (free_port() for _ in range(4))
    gateway = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "gateway", str(tiny_world), "--state", str(state)]
        + ["--socks-port", str(socks), "--http-port", str(http)]
        + ["--explorer-port", str(explorer), "--classroom-port", str(classroom)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_listening(socks, gateway)
    finally:
        output = stop(gateway, signal.SIGTERM, 30)
    assert gateway.returncode == 0, output
    assert "gateway stopped." in output
    assert not (state / "run.json").exists()


# --- the real stack ----------------------------------------------------------------------


def _compose_command() -> list[str]:
    """docker-compose (Debian's), or the Docker CLI's compose plugin."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return ["docker", "compose"]


def _get(url: str, proxies: dict, tries: int = 8) -> requests.Response:
    """GET through the gateway, retrying its simulated circuit failures as a Tor user does."""
    for attempt in range(tries):
        try:
            return requests.get(url, proxies=proxies, timeout=20)
        except requests.ConnectionError:
            if attempt == tries - 1:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


CONNECT = """
import socket, sys, time
start = time.monotonic()
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3])).close()
    print("connected")
except OSError as e:
    print(f"{type(e).__name__}: {e} after {time.monotonic() - start:.2f} s")
"""


@pytest.mark.docker
def test_compose_stack_really_runs(tmp_path, capsys, docker_daemon):
    """docker-compose.yml up for real: an onion page through the published SOCKS port, no way out."""
    started = time.perf_counter()
    # Builds the image with no registry (Docker installed and its daemon started by the fixture).
    made = subprocess.run(
        [str(ROOT / ".ci" / "docker.sh")], capture_output=True, text=True, timeout=1200
    )
    if made.returncode == 3:
        pytest.skip(f"Docker cannot run on this machine: {made.stderr.strip()[-600:]}")
    assert made.returncode == 0, made.stdout + made.stderr
    image_s = time.perf_counter() - started
    data = yaml.safe_load(COMPOSE.read_text())
    labels = {n: s["labels"] for n, s in data["services"].items() if "labels" in s}
    socks, http, classroom, explorer = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "SANDBOX_SOCKS_PORT": str(socks),
        "SANDBOX_HTTP_PORT": str(http),
        "SANDBOX_CLASSROOM_PORT": str(classroom),
        "SANDBOX_EXPLORER_PORT": str(explorer),
        "SANDBOX_INSTRUCTOR_PASSWORD": "s3cret",
    }
    project = f"sandboxtest{os.getpid()}"
    compose = [*_compose_command(), "-f", str(COMPOSE), "-p", project]

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a compose command of this test's project."""
        return subprocess.run(
            [*compose, *args], capture_output=True, text=True, env=env, timeout=timeout
        )

    def connect(service: str, host: str, port: int, timeout: float = 3) -> str:
        """What a TCP connect from inside one of the stack's containers gives."""
        result = run("exec", "-T", service, "python3", "-c", CONNECT, host, str(port), str(timeout))
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    proxies = {"http": f"socks5h://127.0.0.1:{socks}"}
    try:
        up_started = time.perf_counter()
        result = run("up", "-d", "--no-build", timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        up_s = time.perf_counter() - up_started
        # The build drew its own course secret: the addresses are the built world's.
        info = run("exec", "-T", "gateway", "sandbox", "info", "/data/world.db", "--json")
        assert info.returncode == 0, info.stderr
        address = {s["id"]: s["address"] for s in json.loads(info.stdout)["sites"]}
        wiki = next(
            address[lab["org.darkweb-sandbox.site"]]
            for lab in labels.values()
            if lab["org.darkweb-sandbox.kind"] == "wiki"
        )
        deadline = time.monotonic() + 180
        while True:
            try:
                page = requests.get(f"http://{wiki}/", proxies=proxies, timeout=10)
                if page.status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, run("logs", "--tail", "30").stdout
            time.sleep(0.5)
        first_s = time.perf_counter() - up_started
        assert "Hidden Compass" in page.text
        # Every site container answers through the gateway, under its world name.
        for name, lab in labels.items():
            r = _get(f"http://{address[lab['org.darkweb-sandbox.site']]}/", proxies)
            # A market's DDoS queue answers 503 at first, as real ones do: it is still its page.
            queued = r.status_code == 503 and "queue" in r.text.lower()
            assert r.status_code == 200 or queued, (name, r.status_code)
        # The gateway's container serves the explorer and the classroom portal, published.
        tip = requests.get(f"http://127.0.0.1:{explorer}/api/blocks/tip/height", timeout=20)
        assert tip.status_code == 200 and int(tip.text) > 0
        assert requests.get(f"http://127.0.0.1:{classroom}/", timeout=20).status_code == 200
        # Containment. The gateway refuses clearnet names, as ever.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get("http://example.com/", proxies=proxies, timeout=10)
        # A site container reaches the gateway, but nothing beyond the internal network,
        # which Docker keeps without a way out (`internal: true`). Proven on this machine
        # only: the gateway's own address on the published network, one hop away and
        # listening, is out of reach (no packet is sent to any outside address).
        site = next(iter(labels))
        assert connect(site, "gateway", 9050) == "connected"
        gateway_id = run("ps", "-q", "gateway").stdout.strip()
        inspect = subprocess.run(["docker", "inspect", gateway_id], capture_output=True, text=True)
        nets = json.loads(inspect.stdout)[0]["NetworkSettings"]["Networks"]
        front = next(v["IPAddress"] for k, v in nets.items() if k.endswith("_front"))
        sites_net = next(k for k in nets if k.endswith("_sites"))
        info = subprocess.run(
            ["docker", "network", "inspect", sites_net], capture_output=True, text=True
        )
        assert json.loads(info.stdout)[0]["Internal"] is True
        outcome = connect(site, front, 9050)
        # Not ConnectionRefusedError either: the packet must not get there at all.
        assert outcome.startswith(("TimeoutError", "OSError")), (front, outcome)
        steps = [line for line in made.stderr.splitlines() if line.startswith("docker.sh:")]
        with capsys.disabled():
            print("\n" + "\n".join(steps))
            print(
                f"compose stack: image ready in {image_s:.1f} s, `up` (with the world "
                f"build) {up_s:.1f} s, first onion page {first_s:.1f} s after `up` began; "
                f"{len(labels)} site containers; gateway's published side from {site}: {outcome}"
            )
    finally:
        down = run("down", "-v", "--timeout", "10", timeout=180)
        assert down.returncode == 0, down.stderr
