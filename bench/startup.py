"""Benchmark start-up: time from start to the first onion page served, three ways, one run.

1. the built-in gateway (`sandbox up`'s Sandbox) on a built world: the baseline;
2. the docker-compose stack (docker-compose.yml: a container per site), twice: a cold
   start that builds the world into a fresh volume, then a warm start on that volume;
3. the private Tor network (`sandbox up --tor`): 3 authorities, 5 relays, the world's
   onion services and a client, on top of the built-in sandbox.

Each time runs until the hidden wiki's front page comes back through the mode's own SOCKS
port. Prints every figure and its ratio to the built-in gateway measured in the same run.
A mode that cannot run here (no Docker daemon, no tor) is reported as not measured.

    python bench/startup.py                 # the default world (built first if missing)
    python bench/startup.py --skip-compose  # without Docker
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.scenario import load_scenario  # noqa: E402
from sandbox.serve import Sandbox  # noqa: E402
from sandbox.world.build import build_world  # noqa: E402
from sandbox.world.read import world_info  # noqa: E402

COMPOSE = ROOT / "docker-compose.yml"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_page(url: str, socks: str, started: float, timeout: float = 300) -> float:
    """Poll url through a SOCKS proxy until it answers 200; seconds since started."""
    proxies = {"http": socks}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, proxies=proxies, timeout=10).status_code == 200:
                return time.perf_counter() - started
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer through {socks} within {timeout:.0f} s")


def builtin(world: Path, wiki: str, state: Path) -> tuple[float, Sandbox]:
    """Start the built-in sandbox; (seconds to the first wiki page, the running sandbox)."""
    started = time.perf_counter()
    sandbox = Sandbox(world, socks_port=0, http_port=0, explorer_port=0, state=state).start()
    host, port = sandbox.gateway.socks_address
    return first_page(f"http://{wiki}/", f"socks5h://{host}:{port}", started), sandbox


def tor(sandbox: Sandbox, wiki: str, state: Path) -> float:
    """Start a private Tor network over a running sandbox; seconds to the first wiki page."""
    from sandbox.tor import PrivateTorNetwork, onion_sites

    sites, seeds = onion_sites(sandbox)
    with PrivateTorNetwork(state / "tor", sites, seeds) as net:  # started on entering
        return net.wait_ready(wiki, timeout=300)


def compose(wiki: str) -> tuple[float, float]:
    """docker-compose up cold (fresh world volume) and warm; seconds to the first wiki page."""
    made = subprocess.run([str(ROOT / ".ci" / "docker.sh")], capture_output=True, text=True)
    if made.returncode != 0:
        raise RuntimeError(f"docker.sh exit {made.returncode}: {made.stderr.strip()[-300:]}")
    socks = free_port()
    env = {
        **os.environ,
        "SANDBOX_SOCKS_PORT": str(socks),
        **{f"SANDBOX_{k}_PORT": str(free_port()) for k in ("HTTP", "CLASSROOM", "EXPLORER")},
    }
    cmd = ["docker-compose", "-f", str(COMPOSE), "-p", f"startupbench{os.getpid()}"]

    def run(*args: str) -> None:
        """One docker-compose command of this bench's project."""
        subprocess.run([*cmd, *args], check=True, capture_output=True, env=env, timeout=600)

    url, proxy = f"http://{wiki}/", f"socks5h://127.0.0.1:{socks}"
    try:
        started = time.perf_counter()
        run("up", "-d", "--no-build")
        cold = first_page(url, proxy, started)
        run("stop", "--timeout", "10")
        started = time.perf_counter()
        run("up", "-d", "--no-build")
        warm = first_page(url, proxy, started)
    finally:
        run("down", "-v", "--timeout", "10")
    return cold, warm


def compose_wiki() -> str:
    """The wiki's onion name in the committed compose file (the default world's)."""
    services = yaml.safe_load(COMPOSE.read_text())["services"].values()
    labels = [s.get("labels", {}) for s in services]
    return next(
        lab["org.darkweb-sandbox.address"]
        for lab in labels
        if lab.get("org.darkweb-sandbox.kind") == "wiki"
    )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--world", type=Path, help="a built world (default: build default)")
    parser.add_argument("--skip-compose", action="store_true")
    parser.add_argument("--skip-tor", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        world = args.world or Path(tmp) / "default.db"
        if args.world is None:
            print("building the default world ...", flush=True)
            build_world(load_scenario(None), world)
        wiki = next(s["address"] for s in world_info(world)["sites"] if s["kind"] == "wiki")
        base, sandbox = builtin(world, wiki, Path(tmp) / "state")
        results: dict[str, float | str] = {"built-in gateway": base}
        try:
            if not args.skip_tor:
                try:
                    results["private Tor network"] = tor(sandbox, wiki, Path(tmp) / "state")
                except Exception as e:  # reported, not fatal: the other figures still count
                    results["private Tor network"] = f"not measured: {e}"
        finally:
            sandbox.stop()
        if not args.skip_compose:
            try:
                cold, warm = compose(compose_wiki())
                results["compose stack, cold (builds the world)"] = cold
                results["compose stack, warm"] = warm
            except Exception as e:
                results["compose stack"] = f"not measured: {e}"
    print("time from start to the first onion page (the hidden wiki's front page):")
    for name, value in results.items():
        if isinstance(value, str):
            print(f"  {name:<40} {value}")
        else:
            print(f"  {name:<40} {value:8.2f} s   {value / base:8.1f}x the built-in gateway")


if __name__ == "__main__":
    main()
