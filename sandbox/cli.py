"""The `sandbox` command: validate scenarios, build worlds, describe them."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from . import __version__
from .errors import BuildError, CheckError, ScenarioError, WorldError


def _fail(message: str) -> None:
    """Print an error to stderr and exit 1."""
    click.echo(message, err=True)
    sys.exit(1)


def _load(file: str | None, seed: int | None = None, strict: bool = False):
    """Load a scenario or exit 1 listing every problem in it (strict: warnings too)."""
    from .scenario import load_scenario

    try:
        scenario = load_scenario(file, strict=strict)
    except ScenarioError as e:
        for problem in e.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    return scenario if seed is None else scenario.with_seed(seed)


def _secret_option(ctx, param, value: str | None) -> bytes | None:
    """The --secret option as bytes, or a usage error naming what is wrong with it."""
    from .world.secret import parse_secret

    if value is None:
        return None
    try:
        return parse_secret(value)
    except ValueError as e:
        raise click.BadParameter(str(e), ctx, param) from None


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
@click.option("--strict", is_flag=True, help="Missing translations are problems, not warnings.")
def validate(file, strict):
    """Check a scenario file and list every problem as FILE:LINE: field: message.

    Exits 0 when the file is valid, 1 otherwise. Missing translations (a text without
    every language of meta.languages) are warnings, FILE:LINE: field: warning: message;
    --strict makes them problems.

    \b
    Example:
        sandbox validate scenarios/default.yaml
        sandbox validate --strict my-case.yaml
    """
    scenario = _load(file, strict=strict)
    for warning in scenario.warnings:
        where = f"{warning.path}: " if warning.path else ""
        click.echo(f"{warning.file}:{warning.line}: {where}warning: {warning.message}", err=True)
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
@click.option(
    "--secret",
    callback=_secret_option,
    metavar="HEX",
    help="Course secret, 32 hex digits (default: a fresh random one; `sandbox key` shows it).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def build(file, seed, out, secret, quiet):
    """Build the world of a scenario (default: the built-in default scenario).

    Every random choice (content, keys, seat codes, each seat's case) is keyed by a
    course secret kept in the world: without the world file nobody can rebuild its answer
    key. The same scenario, seed and --secret give the same world, row for row. An
    existing world at --out is replaced only once the new one is complete.

    \b
    Example:
        sandbox build scenarios/default.yaml --seed 7 --out class1.db
        sandbox build intro --secret 00112233445566778899aabbccddeeff --out demo.db
    """
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

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
        tasks: dict[str, TaskID] = {}

        def step(stage: str, done: int, total: int) -> None:
            """Advance the bar of a build stage."""
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            info = build_world(scenario, out, step, secret)
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


def _virtual_network(value: str) -> str:
    """Check a --virtual-addr-network the way Tor checks VirtualAddrNetworkIPv4."""
    from .gateway.automap import Automap

    try:
        Automap(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    return value


def _port_range(value: str | None):
    """A --site-ports value as a PortRange (None when not given)."""
    from .port_range import PortRange, PortRangeError

    try:
        return PortRange.parse(value) if value else None
    except PortRangeError as e:
        raise click.BadParameter(str(e)) from None


def _entry_points(sites: list[dict]) -> list[str]:
    """Lines naming the sites trainees start from (the wiki and the search engine)."""
    first = [s for s in sites if s["kind"] in ("wiki", "search")] or sites[:1]
    return [f"  {s['kind']:<7} http://{s['address']}/   ({s['name']})" for s in first]


def _banner_gettext(language: str | None):
    """gettext for the banner: --lang, else SANDBOX_LANG, LC_ALL, LC_MESSAGES, LANG (else
    English)."""
    from . import i18n

    for variable in ("SANDBOX_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        language = language or os.environ.get(variable) or None
    return i18n.translator(language).gettext


def _banner(run, info, world, sandbox, seconds_taken: float, language: str | None) -> list[str]:
    """`sandbox up`'s first lines, in the language asked for or the environment's."""
    _ = _banner_gettext(language)
    socks, proxy, lines = run["socks"], run["http_proxy"], []
    lines.append(
        _("%(title)s — %(world)s (seed %(seed)s), %(sites)s sites, ready in %(seconds).1f s")
        % dict(
            title=info["title"],
            world=world,
            seed=info["seed"],
            sites=len(run["sites"]),
            seconds=seconds_taken,
        )
    )
    lines.append(
        _("SOCKS5 proxy  %(address)s   (Tor-like: remote DNS, .onion and .test names only)")
        % {"address": socks}
    )
    lines.append(_("HTTP proxy    %(address)s") % {"address": proxy})
    if run["explorer"]:
        lines.append(
            _("Explorer      %(url)s   (Esplora API under /api; also %(name)s through the proxy)")
            % {"url": run["explorer"], "name": "http://explorer.test/"}
        )
    if sandbox.live is not None:
        seconds = sandbox.live.block_seconds
        lines.append(
            _("Live blocks   every %(seconds)s s: a broadcast waits in the mempool until then")
            % {"seconds": seconds}
            if seconds
            else _("Live blocks   right after each broadcast")
        )
    if run.get("classroom"):
        lines.append(
            _(
                "Classroom     %(url)s   (trainees join with a seat code; also %(name)s through the proxy)"
            )
            % {"url": run["classroom"], "name": f"http://{run['classroom_name']}/"}
        )
        lines.append(
            _("Instructor    %(url)s   password: %(password)s")
            % {"url": f"{run['classroom']}instructor/", "password": sandbox.instructor_password}
        )
    if run.get("tronnode"):
        lines.append(
            _(
                "Tron node     %(url)s   (java-tron /wallet/*, TronGrid /v1/*; also %(name)s through the proxy)"
            )
            % {"url": run["tronnode"], "name": f"http://{run['tronnode_name']}/"}
        )
    if run.get("tronscan"):
        lines.append(
            _(
                "Tron explorer %(url)s   (addresses, transactions, USDT; also %(name)s through the proxy)"
            )
            % {"url": run["tronscan"], "name": f"http://{run['tronscan_name']}/"}
        )
    if run.get("ca_file"):
        lines.append(
            _("Sandbox CA    %(path)s   (trust it for %(url)s through the proxy)")
            % {"path": run["ca_file"], "url": "https://check.torproject.org/"}
        )
    return lines


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
@click.option(
    "--classroom-port",
    default=8080,
    show_default=True,
    help="Port of the classroom portal (trainees and instructor), served directly.",
)
@click.option(
    "--instructor-password",
    envvar="SANDBOX_INSTRUCTOR_PASSWORD",
    help="Password of the classroom's instructor pages (default: a new one, printed).",
)
@click.option(
    "--tron-port",
    default=8090,
    show_default=True,
    help="Port of the Tron node (java-tron's HTTP API and TronGrid v1), served directly.",
)
@click.option(
    "--tronscan-port",
    default=3001,
    show_default=True,
    help="Port of the Tron explorer (Tronscan-like pages and API), served directly.",
)
@click.option(
    "--tor",
    "private_tor",
    is_flag=True,
    help="Also run a real private Tor network (Debian's tor) publishing every onion of the world.",
)
@click.option(
    "--tor-socks-port",
    default=0,
    show_default=True,
    help="SOCKS port of the private network's Tor client (0: last run's, or a free one).",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=1024,
    show_default=True,
    help="Connections the gateway holds at once (each needs about three open files).",
)
@click.option(
    "--max-per-client",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Connections per trainee: per SOCKS user name, or per address without one.",
)
@click.option(
    "--virtual-addr-network",
    default="127.192.0.0/10",
    show_default=True,
    callback=lambda _ctx, _param, value: _virtual_network(value),
    help="Tor's VirtualAddrNetworkIPv4: where SOCKS RESOLVE's addresses for world names "
    "come from (torsocks needs one outside 127.0.0.0/8, e.g. 10.192.0.0/10).",
)
@click.option(
    "--block-seconds",
    type=click.IntRange(min=0),
    default=None,
    help="Seconds between live blocks, overriding the world's live_block_seconds "
    "(0: a block right after each broadcast).",
)
@click.option(
    "--lang",
    "language",
    default=None,
    help="Language of this banner: en, ru, kk, ur, ar, fr or es "
    "(default: SANDBOX_LANG, LC_ALL, LC_MESSAGES, LANG).",
)
@click.option(
    "--site-ports",
    metavar="A-B",
    callback=lambda _ctx, _param, value: _port_range(value),
    help="Keep the sites' internal ports (reached only through the gateway) in this range.",
)
@click.option(
    "--site-workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes serving the hidden services (default: one per core, at least 2).",
)
def up(
    world,
    host,
    socks_port,
    http_port,
    explorer_port,
    state,
    tor_latency,
    classroom_port,
    instructor_password,
    tron_port,
    tronscan_port,
    private_tor,
    tor_socks_port,
    max_connections,
    max_per_client,
    virtual_addr_network,
    block_seconds,
    language,
    site_ports,
    site_workers,
):
    """Serve a world: every hidden service behind a Tor-like SOCKS proxy. Ctrl-C stops it.

    \b
    Example:
        sandbox up                                  # builds world.db first if missing
        curl --socks5-hostname 127.0.0.1:9050 http://<wiki>.onion/
        sandbox up --world class.db --host 0.0.0.0 --instructor-password s3cret
        sandbox up --tor        # also a real private Tor network (apt-get install tor)
    """
    from .gateway import LatencyModel
    from .serve import Sandbox
    from .standalone import stop_requested
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
        from .world.read import verify_world, world_info

        verify_world(world)
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
        classroom_port=classroom_port,
        instructor_password=instructor_password,
        max_connections=max_connections,
        max_per_client=max_per_client,
        tron_port=tron_port,
        tronscan_port=tronscan_port,
        virtual_network=virtual_addr_network,
        live_block_seconds=block_seconds,
        site_ports=site_ports,
        site_workers=site_workers,
    )
    stopping = stop_requested()  # before start: a SIGTERM while starting stops, once started
    try:
        sandbox.start()
    except (OSError, ValueError) as e:  # a port taken, a bad SANDBOX_LIVE_BLOCK_SECONDS
        _fail(f"cannot start the sandbox: {e}")
    run = sandbox.describe()
    socks = run["socks"]
    for line in _banner(run, info, world, sandbox, time.perf_counter() - started, language):
        click.echo(line)
    _ = _banner_gettext(language)
    for line in _analyst_lines(world, _):
        click.echo(line)
    if info["seats"]:
        click.echo(
            _("Seat codes and the answer key: %(command)s") % {"command": f"sandbox key {world}"}
        )
    click.echo(_("Start here:"))
    for line in _entry_points(run["sites"]):
        click.echo(line)
    click.echo(_("Point a browser or tool at the proxy:"))
    click.echo(f'  chromium --proxy-server="socks5://{socks}" --user-data-dir=$(mktemp -d)')
    click.echo(
        "  "
        + _(
            "firefox: Settings > Network > Manual proxy, SOCKS Host %(socks)s, SOCKS v5, "
            '"Proxy DNS when using SOCKS v5"'
        )
        % {"socks": socks}
    )
    click.echo(f"  curl --socks5-hostname {socks} http://<site>.onion/")
    # The toolkit's default is Tor's 9050; this port may differ, so say how to point it here.
    click.echo("  " + _("the investigate toolkit (its commands read this variable):"))
    click.echo(f"  export INVESTIGATE_PROXY=socks5h://{socks}")
    if host in ("0.0.0.0", "::", ""):
        # A wildcard is no address a trainee's machine can connect to.
        click.echo(
            _(
                "Trainees on other machines: this machine's classroom address in place of "
                "%(host)s in every address above"
            )
            % {"host": host or "0.0.0.0"}
        )
    network, failed = None, False
    try:
        if private_tor:
            from .tor import TorError
            from .tor.up import start_for_sandbox

            try:
                network = start_for_sandbox(sandbox, host, tor_socks_port, click.echo)
            except TorError as e:
                click.echo(f"private Tor network: {e}", err=True)
                failed = True
                stopping.set()
        if not stopping.is_set():
            click.echo("Ctrl-C stops everything.")
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if network is not None:
            network.stop()
        sandbox.stop()
        click.echo("sandbox stopped.")
    if failed:
        sys.exit(1)


@cli.command()
@click.option(
    "--world",
    "world",
    type=click.Path(dir_okay=False, path_type=Path),
    help="World whose sandbox to look for (default: world.db here, else your running one).",
)
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    help="Its state directory (default: beside the world, else your running sandbox's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(world, state, as_json):
    """Tell whether a sandbox is running, and whether each part answers.

    Without options it finds the sandbox you started, from any directory. Exits 0 when
    it runs and every part listens, 1 otherwise.

    \b
    Example:
        sandbox status
        sandbox status --world class.db
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
        and info.get("classroom_listening", True)
        and all(s["listening"] for s in info["sites"])
        and _workers_up(info.get("site_workers"))
        and ("tor" not in info or (info["tor"]["socks_listening"] and not info["tor"]["gone"]))
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
        if info.get("classroom"):
            click.echo(
                f"  classroom     {info['classroom']:<22} {mark[info['classroom_listening']]}"
            )
        if tor := info.get("tor"):
            ok = tor["socks_listening"] and not tor["gone"]
            running = tor["processes"] - len(tor["gone"])
            click.echo(
                f"  Tor SOCKS5    {tor['socks']:<22} {mark[ok]} — private network,"
                f" {running} of {tor['processes']} tor processes, {tor['onions']} onions"
                + (f" (gone: {', '.join(tor['gone'])})" if tor["gone"] else "")
            )
        if workers := info.get("site_workers"):
            click.echo(_workers_line(workers))
        for s in info["sites"]:
            click.echo(f"  {s['kind']:<9} {s['address']:<64} {mark[s['listening']]}")
    sys.exit(0 if healthy else 1)


def _workers_up(workers: dict | None) -> bool:
    """Whether the site workers serve (True when the sites are served otherwise)."""
    if workers is None:
        return True
    return "error" not in workers and workers["master_alive"] and bool(workers["workers"])


def _workers_line(workers: dict) -> str:
    """`sandbox status`'s line on the processes serving the hidden services."""
    if "error" in workers:
        return f"  site workers  {workers['error']}"
    state = "up" if workers["master_alive"] and workers["workers"] else "DOWN"
    line = (
        f"  site workers  master {workers['master']}, {len(workers['workers'])} workers"
        f" ({', '.join(map(str, workers['workers']))}) {state}"
    )
    if workers["restarts"]:
        last = workers["last_exits"][-1]
        when = time.strftime("%H:%M:%S", time.localtime(last["at"]))
        line += (
            f"; {workers['restarts']} restarted"
            f" (last: {last['role']} {last['pid']} at {when}, {last['how']})"
        )
    return line


def _analyst_lines(world: Path, _=lambda text: text) -> list[str]:
    """Banner lines on the exchange-portal logins: the analyst's, or where a course's are."""
    from .world.requesters import read_requesters
    from .world.store import open_world

    conn = open_world(world)
    try:
        requesters = read_requesters(conn)
    finally:
        conn.close()
    analyst = next((r for r in requesters if r.role == "analyst"), None)
    if analyst is None:
        if not requesters:  # a world built before requesters existed
            return []
        return [
            _(
                "Exchange LE   each seat's brief gives its portal login and API token; "
                "the instructor's (sees every request): %(command)s"
            )
            % {"command": f"sandbox key {world}"}
        ]
    return [
        _("Exchange LE   login %(login)s  password %(password)s   (web portal /le/)")
        % {"login": analyst.login, "password": analyst.password},
        _("              API token %(token)s   (investigate request --token)")
        % {"token": analyst.token},
    ]


@cli.command()
@click.argument("world", type=click.Path(dir_okay=False), default="world.db")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--seat", type=int, help="Only this seat (1-based).")
def key(world, as_json, seat):
    """Print a world's course secret and answer key: every seat's code, case, wallet, portal
    login and answers.

    For the instructor only: it reads the world file itself, never a running sandbox.

    \b
    Example:
        sandbox key world.db --seat 3
        sandbox key world.db --json > key.json
    """
    import sqlite3
    from dataclasses import asdict

    from .world.answers import render
    from .world.course import answer_key
    from .world.requesters import read_requesters
    from .world.store import open_world

    try:
        conn = open_world(world)
    except WorldError as e:
        _fail(str(e))
    try:
        data = answer_key(conn, seat)
        requesters = read_requesters(conn)
    except sqlite3.OperationalError:  # a world built before the course tables existed
        _fail(f"{world}: this world has no course tables; rebuild it with `sandbox build`")
    finally:
        conn.close()
    if seat is not None and not data["seats"]:
        _fail(f"{world}: no seat {seat}")
    data["requesters"] = [asdict(r) for r in requesters if seat is None or r.seat in (seat, None)]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(
        f"secret {data['secret']}   (keep it private: `sandbox build {data['scenario']} "
        f"--seed {data['seed']} --secret {data['secret']}` rebuilds this world)"
    )
    for r in data["requesters"]:
        if r["seat"] is None:
            click.echo(
                f"exchange portals, {r['role']}: login {r['login']}  password {r['password']}"
                f"  API token {r['token']}  ({r['agency']})"
            )
    if not data["seats"]:
        click.echo(f"{world}: {data['scenario']} has no objectives, so no seats")
        return
    logins = {r["seat"]: r for r in data["requesters"] if r["seat"] is not None}
    for s in data["seats"]:
        case = ", ".join(f"{k}={v}" for k, v in s["bindings"].items()) or "-"
        click.echo(f"seat {s['n']:<3} {s['code']}   case {case}   wallet {s['wallet'] or '-'}")
        if r := logins.get(s["n"]):
            click.echo(f"  portal login {r['login']}  password {r['password']}  ({r['agency']})")
        width = max((len(o["id"]) for o in s["objectives"]), default=0)
        for o in s["objectives"]:
            # A list among the accepted answers is a group of spellings of one answer.
            accepted = [a if isinstance(a, str) else " = ".join(a) for a in o["accept"]]
            also = f"   (also accepted: {' | '.join(accepted)})" if accepted else ""
            click.echo(
                f"  {o['id']:<{width}}  {o['points']:>3} pts  {o['compare']:<6}  "
                f"{render(o['answer'])}{also}"
            )


@cli.command()
@click.argument("file", required=False)
@click.option("--seed", type=int, help="World seed (default: the scenario's world.seed).")
@click.option(
    "--seat",
    "seats",
    type=int,
    multiple=True,
    help="Seat to solve (repeatable; default: seat 1). Seats differ in suspect and answers.",
)
@click.option("--all-seats", is_flag=True, help="Solve every distinct case (one seat per case).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
@click.option(
    "--language",
    metavar="LANG",
    help="Seats join the classroom in this language (en, ru, kk, ur, ar, fr, es); their "
    "case pages must show the objectives' texts in it.",
)
def check(file, seed, seats, all_seats, as_json, language):
    """Prove a scenario can be solved: build it, serve it, run its reference solution.

    The reference solution uses only the trainee's toolkit over the network. Exits 0 when
    every objective was answered as the key says, 1 naming each one that was not, and each
    answer a seat is shown (in its brief, artefacts, questions or on the landing page of a
    site of its case) unless its objective says given: true.

    \b
    Example:
        sandbox check tf-donations --seat 1 --seat 2
        sandbox check intro --language ur
    """
    from .check import check_scenario, print_outcome
    from .scenario.i18n import LANGUAGES

    if language is not None and language not in LANGUAGES:
        raise click.BadParameter(
            f"{language!r} is not a language of the classroom ({', '.join(LANGUAGES)})",
            param_hint="--language",
        )
    scenario = _load(file, seed)
    wanted = list(seats)
    if all_seats:
        cases = max(len(scenario.seats.cases), _group_size(scenario), 1)
        wanted = list(range(1, min(cases, scenario.seats.count) + 1))
    started = time.perf_counter()
    try:
        outcomes = check_scenario(
            scenario,
            wanted or None,
            report=None if as_json else print_outcome,
            language=language,
        )
    except (CheckError, BuildError) as e:
        _fail(f"{scenario.source}: check failed: {e}")
    leaks = [o for o in outcomes if o.leak]
    unshown = [o for o in outcomes if o.language is not None and not o.ok]
    solved = [o for o in outcomes if not o.leak and o.language is None]
    failed = [o for o in solved if not o.ok]
    if as_json:
        click.echo(json.dumps([o.__dict__ for o in outcomes], indent=2, default=str))
    for o in leaks:
        click.echo(
            f"{scenario.source}: objective '{o.objective}', seat {o.seat}: {o.reason}", err=True
        )
    for o in failed:
        click.echo(
            f"{scenario.source}: objective '{o.objective}' (seat {o.seat}) failed: {o.reason}",
            err=True,
        )
    for o in unshown:
        click.echo(
            f"{scenario.source}: objective '{o.objective}', seat {o.seat}: {o.reason} "
            f"in {o.language}",
            err=True,
        )
    verdict = "solvable" if not failed else f"NOT solvable ({len(failed)} failed)"
    if unshown:
        verdict += f", but {len(unshown)} text(s) not shown in {language}"
    if leaks:
        verdict += (
            f", but {len(leaks)} answer(s) shown to trainees (mark them given: true if meant)"
        )
    click.echo(
        f"{scenario.source}: {verdict}: {len(solved) - len(failed)}/{len(solved)} "
        f"objectives in {time.perf_counter() - started:.1f} s",
        err=bool(failed or leaks or unshown),
    )
    sys.exit(1 if failed or leaks or unshown else 0)


def _group_size(scenario) -> int:
    """How many members the seats' group has (0 without a group)."""
    if not scenario.seats.group:
        return 0
    return scenario.actor(scenario.seats.group).count


@cli.command()
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--with-test", is_flag=True, help="Also bundle the test extras (pytest, ruff, selenium...)."
)
@click.option(
    "--image", help="Docker image to save (default: the compose file's, or darkweb-sandbox)."
)
@click.option("--no-image", is_flag=True, help="Leave the Docker image out.")
@click.option("--quiet", is_flag=True, help="No progress.")
def bundle(folder, with_test, image, no_image, quiet):
    """Write everything a classroom machine needs to install the sandbox without internet.

    Run it where there is internet: DIR gets wheels/ (the project and all its
    dependencies), requirements.txt pinned to them, install.sh, the Docker image as
    image.tar when one is built here, and SHA256SUMS. Nothing outside DIR is written.
    On the classroom machine, `sh DIR/install.sh` installs into ./.venv with no index.

    \b
    Example:
        sandbox bundle ./bundle                  # with internet
        sh bundle/install.sh && .venv/bin/sandbox up   # in the classroom
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .bundle import BundleError, make_bundle, prepare, source_tree

    started = time.perf_counter()
    try:  # refuse an unwritable DIR before any progress is drawn
        source_tree()
        prepare(folder)
    except BundleError as e:
        _fail(str(e))
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    # Progress (the stages, and a spinner that vanishes when done) goes to stderr.
    console = Console(stderr=True)
    with Progress(*columns, console=console, disable=quiet, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def step(text: str) -> None:
            """Name the stage that starts."""
            if not quiet:  # through the bar's console, so the line lands above the spinner
                bar.console.print(f"bundle: {text}", markup=False, highlight=False)
            bar.update(task, description=text)

        try:
            made = make_bundle(
                folder,
                with_test=with_test,
                image=image,
                with_image=not no_image,
                step=step,
                report=lambda text: bar.update(task, description=f"  {text}"),
            )
        except BundleError as e:
            _fail(str(e))
    for note in made.notes:
        click.echo(f"bundle: {note}")
    click.echo(
        f"{made.path}: {len(made.wheels)} wheels{', image ' + made.image if made.image else ''}, "
        f"{made.files} files, {made.size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
    )
    click.echo(f"On the classroom machine: sh {folder}/install.sh && .venv/bin/sandbox up")


@cli.command()
@click.argument("world", required=False, default="default")
@click.option("--seed", type=int, help="World seed when WORLD is a scenario.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the file here (default: print it).",
)
@click.option(
    "--swarm",
    is_flag=True,
    help="Write a Docker Swarm stack file (docker stack deploy) instead, the world in an image.",
)
def compose(world, seed, out, swarm):
    """Write the docker-compose.yml of a world: a container per site behind the gateway.

    WORLD is a built world file, a scenario file or a built-in scenario's name (default:
    the default scenario, whose file is the committed docker-compose.yml). A world file
    is copied into the stack as it is; a scenario is built in the stack on first start.
    With --swarm, a stack file for `docker stack deploy`; its header says how to build
    the image that carries the world (built once, before the deploy).

    \b
    Example:
        sandbox compose class.db --out docker-compose.yml && docker-compose up -d
        sandbox compose class.db --swarm --out docker-stack.yml
    """
    from . import swarm as swarm_stack
    from .compose import compose_file, render

    out_dir = out.parent if out else Path(".")
    try:
        data = swarm_stack.stack_file(world, seed) if swarm else compose_file(world, seed, out_dir)
    except (WorldError, ScenarioError) as e:
        problems = getattr(e, "problems", None)
        _fail("\n".join(map(str, problems)) if problems else str(e))
    if swarm:
        text = swarm_stack.render(data, world, seed, out_dir)
    else:
        text = render(data, world if seed is None else f"{world} --seed {seed}")
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text)
    services = [s for s in data["services"] if s.startswith("site-")]
    rest = "the gateway" + ("" if swarm else " and the world build")
    click.echo(f"{out}: {len(services)} site containers, {rest}")


@cli.command()
@click.argument("world")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the manifests (class-1.yaml, ...).",
)
@click.option(
    "--classes",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Classes, each in its own namespace with its own world.",
)
@click.option("--seed", type=int, help="World seed when WORLD is a scenario.")
@click.option("--image", default="darkweb-sandbox:latest", show_default=True, help="Image to run.")
def k8s(world, out, classes, seed, image):
    """Write Kubernetes manifests: a namespace per class, its sites contained by NetworkPolicies.

    WORLD is a built world file (copied in, the same for every class) or a scenario
    (built by a Job in each class's namespace, with its own course secret). Every site
    gets a Deployment and a Service, reachable only from its class's gateway.

    \b
    Example:
        sandbox k8s default --classes 3 --out k8s/ && kubectl apply -f k8s/
    """
    from .kubernetes import manifests, write

    try:
        files = manifests(world, classes, seed, image)
    except (WorldError, ScenarioError) as e:
        problems = getattr(e, "problems", None)
        _fail("\n".join(map(str, problems)) if problems else str(e))
    try:
        written = write(files, out, world)
    except OSError as e:
        _fail(f"{out}: {e.strerror or e}")
    sites = sum(d["kind"] == "Deployment" for d in files[next(iter(files))]) - 1
    click.echo(
        f"{out}: {len(written)} class namespace(s), {sites} site deployments and the gateway "
        f"each; apply with: kubectl apply -f {out}"
    )


@cli.command("serve-site")
@click.argument("world", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("site_id")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=80, show_default=True, help="Port to listen on.")
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for trainees' writes (default: beside the world).",
)
def serve_site(world, site_id, host, port, state):
    """Serve one site of a world on a port (what a site's container runs). Stops on SIGTERM.

    \b
    Example:
        sandbox serve-site /data/world.db nightshade --port 80 --state /state
    """
    from .serve import state_dir_for
    from .standalone import serve_site as run
    from .world.read import verify_world

    try:
        verify_world(world, digest=False)  # a container per site: the gateway checks the digest
    except WorldError as e:
        _fail(str(e))
    try:
        run(world, site_id, state or state_dir_for(Path(world).resolve()), host, port)
    except (WorldError, OSError) as e:
        _fail(f"cannot serve {site_id}: {e}")


@cli.command()
@click.argument("world", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--route",
    "routes",
    multiple=True,
    metavar="SITE=HOST:PORT",
    help="Reach this site at HOST:PORT (another container); repeatable.",
)
@click.option(
    "--route-host",
    metavar="TEMPLATE",
    help="Reach every other site but the explorer at TEMPLATE, e.g. 'site-{id}:80'.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--socks-port", default=9050, show_default=True, help="SOCKS5/SOCKS4a port.")
@click.option("--http-port", default=8118, show_default=True, help="HTTP proxy port.")
@click.option("--explorer-port", default=3000, show_default=True, help="Block explorer port.")
@click.option("--classroom-port", default=8080, show_default=True, help="Classroom portal port.")
@click.option(
    "--state",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for trainees' writes and logs (default: beside the world).",
)
@click.option(
    "--instructor-password",
    envvar="SANDBOX_INSTRUCTOR_PASSWORD",
    help="Password of the classroom's instructor pages (default: a new one, printed).",
)
def gateway(
    world,
    routes,
    route_host,
    host,
    socks_port,
    http_port,
    explorer_port,
    classroom_port,
    state,
    instructor_password,
):
    """Run the gateway, explorer and classroom of a world whose sites run elsewhere.

    What the gateway container of docker-compose.yml runs: sites named by --route (or
    --route-host) are reached over the network; every other site is served here, as by
    `sandbox up`. Stops on SIGTERM.

    \b
    Example:
        sandbox gateway /data/world.db --host 0.0.0.0 --route nightshade=site-nightshade:80
    """
    from .gateway import LatencyModel
    from .standalone import parse_route, start_gateway, stop_requested, wait_for_stop
    from .world.read import verify_world, world_info

    try:
        table = dict(parse_route(r) for r in routes)
        verify_world(world)
        info = world_info(world)
        if route_host:
            parse_route(f"x={route_host.format(id='x')}")
    except (ValueError, KeyError, WorldError) as e:
        _fail(str(e))
    tor = info.get("tor_latency", False)
    latency = LatencyModel(enabled=tor, circuit_failure_rate=0.03 if tor else 0.0)
    stopping = stop_requested()
    try:
        sandbox = start_gateway(
            world,
            table,
            route_host,
            host=host,
            socks_port=socks_port,
            http_port=http_port,
            explorer_port=explorer_port,
            classroom_port=classroom_port,
            state=state,
            latency=latency,
            instructor_password=instructor_password or None,
        )
    except (OSError, WorldError) as e:
        _fail(f"cannot start the gateway: {e}")
    run = sandbox.describe()
    click.echo(f"{info['title']} — {world}: {len(run['sites'])} sites")
    click.echo(f"SOCKS5 proxy  {run['socks']}   HTTP proxy  {run['http_proxy']}")
    click.echo(f"Explorer      {run['explorer']}   Classroom  {run['classroom']}")
    click.echo(f"Instructor password: {sandbox.instructor_password}")
    for s in run["sites"]:
        where = f"{s['host']}:{s['port']}"
        click.echo(f"  {s['kind']:<9} http://{s['address']}/  -> {where}")
    try:
        wait_for_stop(stopping)
    finally:
        sandbox.stop()
        click.echo("gateway stopped.")
