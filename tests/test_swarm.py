"""`sandbox compose --swarm`: the stack file's shape offline, and a real run on a one-node swarm."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

from sandbox.compose import PUBLISHED, site_service
from sandbox.swarm import CLASS_LABEL, WORLD, render, stack_file, world_image
from sandbox.world.read import world_info
from tests.ports import free_port
from tests.test_compose import _problems as compose_problems

ROOT = Path(__file__).resolve().parent.parent


def test_stack_file_keeps_the_sites_behind_the_gateway(tiny_world):
    """Every site has its service on the internal overlay; only the gateway publishes ports."""
    data = stack_file(str(tiny_world))
    services = data["services"]
    assert data["networks"]["sites"] == {"driver": "overlay", "internal": True}
    routes = services["gateway"]["command"]
    for site in world_info(tiny_world)["sites"]:
        name = site_service(site["id"])
        if site["kind"] == "explorer":  # served by the gateway, with the classroom
            assert name not in services
            continue
        service = services[name]
        assert service["networks"] == ["sites"], name
        assert service["command"][:3] == ["serve-site", WORLD, site["id"]]
        assert service["labels"]["org.darkweb-sandbox.site"] == site["id"]
        assert f"--route={site['id']}={name}:80" in routes
    assert {n for n, s in services.items() if "ports" in s} == {"gateway"}
    ports = services["gateway"]["ports"]
    assert [p["target"] for p in ports] == [port for _, port, _ in PUBLISHED]
    assert services["gateway"]["networks"] == ["sites", "front"]
    for name, service in services.items():
        # A swarm runs images: nothing to build, no one-shot service, the state on a volume.
        assert "build" not in service and "state:/state" in service["volumes"], name
        constraint = f"node.labels.{CLASS_LABEL} == ${{SANDBOX_CLASS:-1}}"
        assert service["deploy"]["placement"]["constraints"] == [constraint], name
    assert data["volumes"] == {"state": {}}


def test_stack_file_matches_the_compose_schema(tiny_world):
    """The stack file, with its variables at their defaults as `docker stack deploy` reads it."""
    text = render(stack_file(str(tiny_world)), str(tiny_world))
    assert "${SANDBOX_SOCKS_PORT:-9050}" in text
    data = yaml.safe_load(re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text))
    assert compose_problems(data) == []
    assert data["services"]["gateway"]["ports"][0]["published"] == 9050
    data["services"]["gateway"]["deploy"]["replicas"] = "one"
    assert len(compose_problems(data)) == 1


def test_stack_file_of_a_scenario_builds_its_world_into_the_image(sandbox, tiny_path, tmp_path):
    """A scenario's world is built once, by the image's Dockerfile; the file's header shows it."""
    dockerfile, context = world_image(str(tiny_path), seed=3, out_dir=tmp_path)
    assert "COPY tiny.yaml /world/scenario.yaml" in dockerfile
    assert f"--seed 3 --quiet --out {WORLD}" in dockerfile and Path(tmp_path, context).is_dir()
    builtin, context = world_image("default")
    assert context == "-" and f"sandbox build default --quiet --out {WORLD}" in builtin
    out = tmp_path / "docker-stack.yml"
    result = sandbox("compose", "default", "--swarm", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "docker build -t darkweb-sandbox-world:latest - <<'EOF'" in text
    assert "docker stack deploy -c docker-stack.yml class1" in text
    services = yaml.safe_load(text)["services"]
    assert "site-compass" in services and "build" not in services


def test_swarm_refuses_an_unknown_world(sandbox):
    """`sandbox compose --swarm` of no world or scenario fails naming it."""
    result = sandbox("compose", "no-such-thing", "--swarm")
    assert result.exit_code == 1 and "no-such-thing" in result.output


# --- a real one-node swarm ---------------------------------------------------------------


def _docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    """A docker command's output; a failure fails the test with its error."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    assert not check or result.returncode == 0, (args, result.stdout + result.stderr)
    return result.stdout.strip()


def _get(url: str, proxies: dict, deadline: float) -> requests.Response:
    """GET through the gateway, retrying until the site answers or the deadline passes."""
    while True:
        try:
            r = requests.get(url, proxies=proxies, timeout=10)
            # A market's DDoS queue answers 503 at first, as real ones do: it is still its page.
            if r.status_code == 200 or (r.status_code == 503 and "queue" in r.text.lower()):
                return r
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"no answer from {url}"
        time.sleep(0.5)


CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), 3).close()
    print("connected")
except OSError as e:
    print(f"{type(e).__name__}: {e}")
"""


@pytest.mark.docker
def test_stack_really_runs_on_a_one_node_swarm(tiny_world, tmp_path, capsys, docker_daemon):
    """The stack deployed on a swarm this test starts: every site through the published SOCKS port."""
    made = subprocess.run(
        [str(ROOT / ".ci" / "docker.sh"), "image"], capture_output=True, text=True, timeout=1200
    )
    if made.returncode == 3:
        pytest.skip(f"Docker cannot run on this machine: {made.stderr.strip()[-600:]}")
    assert made.returncode == 0, made.stdout + made.stderr
    # The world image, as the stack file's header says to make it.
    image = f"darkweb-sandbox-world:test{os.getpid()}"
    dockerfile, context = world_image(str(tiny_world), out_dir=tmp_path)
    build = subprocess.run(
        ["docker", "build", "-q", "-t", image, "-f", "-", str(tmp_path / context)],
        input=dockerfile,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    stack = f"swarmtest{os.getpid()}"
    (tmp_path / "docker-stack.yml").write_text(render(stack_file(str(tiny_world)), str(tiny_world)))
    socks, http, classroom, explorer = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "SANDBOX_WORLD_IMAGE": image,
        "SANDBOX_SOCKS_PORT": str(socks),
        "SANDBOX_HTTP_PORT": str(http),
        "SANDBOX_CLASSROOM_PORT": str(classroom),
        "SANDBOX_EXPLORER_PORT": str(explorer),
        "SANDBOX_INSTRUCTOR_PASSWORD": "s3cret",
    }
    in_swarm = _docker("info", "-f", "{{.Swarm.LocalNodeState}}") == "active"
    had_gwbridge = bool(_docker("network", "ls", "-q", "-f", "name=^docker_gwbridge$"))
    if not in_swarm:  # a swarm that was here already is the machine's own: left as it is
        _docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    sites = {s["id"]: s for s in world_info(tiny_world)["sites"]}
    try:
        node = _docker("info", "-f", "{{.Swarm.NodeID}}")
        _docker("node", "update", "--label-add", f"{CLASS_LABEL}=1", node)
        deploy = subprocess.run(
            ["docker", "stack", "deploy", "-c", str(tmp_path / "docker-stack.yml"), stack],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        proxies = {"http": f"socks5h://127.0.0.1:{socks}"}
        deadline = time.monotonic() + 300
        # Every site of the world answers through the published SOCKS port, under its name.
        for site in sites.values():
            page = _get(f"http://{site['address']}/", proxies, deadline)
            assert page.status_code != 200 or site["name"] in html.unescape(page.text), site["id"]
        tip = requests.get(f"http://127.0.0.1:{explorer}/api/blocks/tip/height", timeout=20)
        assert tip.status_code == 200 and int(tip.text) > 0
        assert requests.get(f"http://127.0.0.1:{classroom}/", timeout=20).status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get("http://example.com/", proxies=proxies, timeout=10)
        # A site's task reaches the gateway, and nothing else: not the gateway's published
        # side, one hop away and listening, nor the host (no route; no packet leaves).
        site = _docker("ps", "-q", "-f", f"label=com.docker.stack.namespace={stack}")
        wiki = next(s for s in sites.values() if s["kind"] == "wiki")
        task = _docker(
            "ps", "-q", "-f", f"label=com.docker.swarm.service.name={stack}_site-{wiki['id']}"
        )
        gateway = _docker("ps", "-q", "-f", f"label=com.docker.swarm.service.name={stack}_gateway")
        nets = json.loads(_docker("inspect", gateway))[0]["NetworkSettings"]["Networks"]
        front = nets[f"{stack}_front"]["IPAddress"]
        gwbridge = json.loads(_docker("network", "inspect", "docker_gwbridge"))[0]
        host = gwbridge["IPAM"]["Config"][0]["Gateway"]

        def connect(address: str, port: int) -> str:
            """What a TCP connect from inside the wiki's task gives."""
            return _docker("exec", task, "python3", "-c", CONNECT, address, str(port))

        while (reached := connect("gateway", 9050)) != "connected":  # its task may restart
            assert time.monotonic() < deadline, reached
            time.sleep(1)
        outcomes = {address: connect(address, 9050) for address in (front, host)}
        assert all("unreachable" in o for o in outcomes.values()), outcomes
        with capsys.disabled():
            print(f"\nswarm stack: {len(site.split())} tasks; from the wiki's task: {outcomes}")
    finally:
        subprocess.run(["docker", "stack", "rm", stack], capture_output=True, timeout=120)
        # The stack's tasks end asynchronously; its volume can go once they have.
        gone = time.monotonic() + 120
        while _docker("ps", "-aq", "-f", f"label=com.docker.stack.namespace={stack}"):
            assert time.monotonic() < gone, "the stack's containers are still there"
            time.sleep(0.5)
        _docker("volume", "rm", f"{stack}_state", check=False)
        if not in_swarm:
            _docker("swarm", "leave", "--force")
            if not had_gwbridge:  # made by `swarm init`; not removed by leaving
                _docker("network", "rm", "docker_gwbridge", check=False)
        _docker("rmi", image, check=False)
    assert not _docker("ps", "-aq", "-f", f"label=com.docker.stack.namespace={stack}")
