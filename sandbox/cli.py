"""The `sandbox` command: validate scenarios, build worlds, describe them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from . import __version__
from .errors import BuildError, ScenarioError, WorldError


def _fail(message: str) -> None:
    """Print an error to stderr and exit 1."""
    click.echo(message, err=True)
    sys.exit(1)


def _load(file: str | None, seed: int | None = None):
    """Load a scenario or exit 1 listing every problem in it."""
    from .scenario import load_scenario

    try:
        scenario = load_scenario(file)
    except ScenarioError as e:
        for problem in e.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    return scenario if seed is None else scenario.with_seed(seed)


@click.group()
@click.version_option(__version__, prog_name="sandbox")
def cli():
    """Offline darkweb-investigation training sandbox.

    \b
    Example:
        sandbox build                 # the built-in default scenario -> world.db
        sandbox info world.db --json
    """


@cli.command()
@click.argument("file")
def validate(file):
    """Check a scenario file and list every problem as FILE:LINE: field: message.

    Exits 0 when the file is valid, 1 otherwise.

    \b
    Example:
        sandbox validate scenarios/default.yaml
    """
    scenario = _load(file)
    click.echo(
        f"{scenario.source}: valid ({len(scenario.actors)} actors, {len(scenario.sites)} sites, "
        f"{len(scenario.flows)} flows)"
    )


@cli.command()
@click.argument("file", required=False)
@click.option("--seed", type=int, help="World seed (default: the scenario's world.seed).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="world.db",
    show_default=True,
    help="Where to write the world.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def build(file, seed, out, quiet):
    """Build the world of a scenario (default: the built-in default scenario).

    The same scenario and seed always give the same world, row for row. An existing
    world at --out is replaced only once the new one is complete.

    \b
    Example:
        sandbox build scenarios/default.yaml --seed 7 --out class1.db
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .world.build import build_world

    scenario = _load(file, seed)
    started = time.perf_counter()
    columns = (
        TextColumn("{task.description:<8}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=quiet, transient=False) as bar:
        tasks: dict[str, int] = {}

        def step(stage: str, done: int, total: int) -> None:
            """Advance the bar of a build stage."""
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            info = build_world(scenario, out, step)
        except BuildError as e:
            _fail(f"{scenario.source}: build failed:\n{e}")
    counts = info["counts"]
    click.echo(
        f"{out}: {scenario.name} seed {info['seed']}: {counts['blocks']} blocks, "
        f"{counts['transactions']} transactions, {counts['addresses']} addresses, "
        f"{counts['actors']} actors, {counts['sites']} sites, {counts['listings']} listings "
        f"in {time.perf_counter() - started:.1f} s"
    )


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False), default="world.db")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(path, as_json):
    """Describe a built world: scenario, seed, digest, counts and sites.

    \b
    Example:
        sandbox info world.db --json
    """
    from .world.read import world_info

    try:
        data = world_info(path)
    except WorldError as e:
        _fail(str(e))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{data['title']} ({data['scenario']}, seed {data['seed']})")
    click.echo(f"digest  {data['digest']}")
    click.echo("counts  " + ", ".join(f"{k} {v}" for k, v in data["counts"].items()))
    for site in data["sites"]:
        click.echo(f"  {site['kind']:<9} {site['name']:<28} {site['address']}")


def _entry_points(sites: list[dict]) -> list[str]:
    """Lines naming the sites trainees start from (the wiki and the search engine)."""
    first = [s for s in sites if s["kind"] in ("wiki", "search")] or sites[:1]
    return [f"  {s['kind']:<7} http://{s['address']}/   ({s['name']})" for s in first]


@cli.command()
@click.option(
    "--world",
    "world",
    type=click.Path(dir_okay=False, path_type=Path),
    help="World file to serve (default: world.db, built from the default scenario when missing).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address the proxy ports listen on (0.0.0.0 for a classroom network).",
)
@click.option("--socks-port", default=9050, show_default=True, help="SOCKS5/SOCKS4a port.")
@click.option("--http-port", default=8118, show_default=True, help="HTTP proxy port.")
@click.option(
    "--explorer-port",
    default=3000,
    show_default=True,
    help="Port of the block explorer (web UI and Esplora API), served directly.",
)
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for trainees' writes and logs (default: beside the world).",
)
@click.option(
    "--tor-latency/--no-tor-latency",
    default=None,
    help="Simulate Tor's circuit latency and failures (default: the scenario's knob).",
)
def up(world, host, socks_port, http_port, explorer_port, state, tor_latency):
    """Serve a world: every hidden service behind a Tor-like SOCKS proxy. Ctrl-C stops it.

    \b
    Example:
        sandbox up                                  # builds world.db first if missing
        curl --socks5-hostname 127.0.0.1:9050 http://<wiki>.onion/
    """
    import signal
    import threading

    from .gateway import LatencyModel
    from .serve import Sandbox
    from .world.build import build_world

    if world is None:
        world = Path("world.db")
        if not world.exists():
            click.echo("world.db not found: building the default scenario first ...")
            try:
                build_world(_load(None), world)
            except BuildError as e:
                _fail(f"default scenario: build failed:\n{e}")
    started = time.perf_counter()
    try:
        from .world.read import world_info

        info = world_info(world)
    except WorldError as e:
        _fail(str(e))
    if tor_latency is None:
        tor_latency = info.get("tor_latency", False)
    latency = LatencyModel(
        enabled=bool(tor_latency), circuit_failure_rate=0.03 if tor_latency else 0.0
    )
    sandbox = Sandbox(
        world,
        host=host,
        socks_port=socks_port,
        http_port=http_port,
        explorer_port=explorer_port,
        state=state,
        latency=latency,
    )
    try:
        sandbox.start()
    except OSError as e:
        _fail(f"cannot start the sandbox: {e}")
    run = sandbox.describe()
    socks, proxy = run["socks"], run["http_proxy"]
    click.echo(
        f"{info['title']} — {world} (seed {info['seed']}), "
        f"{len(run['sites'])} sites, ready in {time.perf_counter() - started:.1f} s"
    )
    click.echo(f"SOCKS5 proxy  {socks}   (Tor-like: remote DNS, .onion and .test names only)")
    click.echo(f"HTTP proxy    {proxy}")
    if run["explorer"]:
        click.echo(
            f"Explorer      {run['explorer']}   (Esplora API under /api; also "
            "http://explorer.test/ through the proxy)"
        )
    click.echo("Start here:")
    for line in _entry_points(run["sites"]):
        click.echo(line)
    click.echo("Point a browser or tool at the proxy:")
    click.echo(f'  chromium --proxy-server="socks5://{socks}" --user-data-dir=$(mktemp -d)')
    click.echo(
        f"  firefox: Settings > Network > Manual proxy, SOCKS Host {socks}, SOCKS v5, "
        '"Proxy DNS when using SOCKS v5"'
    )
    click.echo(f"  curl --socks5-hostname {socks} http://<site>.onion/")
    click.echo("Ctrl-C stops everything.")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        click.echo("sandbox stopped.")


@cli.command()
@click.option(
    "--world",
    "world",
    type=click.Path(dir_okay=False, path_type=Path),
    default="world.db",
    show_default=True,
    help="World whose sandbox to look for.",
)
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    help="Its state directory (default: beside the world).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(world, state, as_json):
    """Tell whether a world's sandbox is running, and whether each part answers.

    Exits 0 when it runs and every part listens, 1 otherwise.

    \b
    Example:
        sandbox status --world world.db
    """
    from .serve import status as run_status

    try:
        info = run_status(world, state)
    except WorldError as e:
        _fail(str(e))
    healthy = (
        info["running"]
        and info["socks_listening"]
        and info["http_proxy_listening"]
        and all(s["listening"] for s in info["sites"])
        if info["running"]
        else False
    )
    if as_json:
        click.echo(json.dumps(info, indent=2))
    elif not info["running"]:
        click.echo(f"not running: {info['reason']}")
    else:
        mark = {True: "up", False: "DOWN"}
        click.echo(f"running (pid {info['pid']}) — world {info['world']}")
        click.echo(f"  SOCKS5 proxy  {info['socks']:<22} {mark[info['socks_listening']]}")
        click.echo(f"  HTTP proxy    {info['http_proxy']:<22} {mark[info['http_proxy_listening']]}")
        for s in info["sites"]:
            click.echo(f"  {s['kind']:<9} {s['address']:<64} {mark[s['listening']]}")
    sys.exit(0 if healthy else 1)
