"""The `investigate` command: the trainee's toolkit. Each command works on a case file."""

from __future__ import annotations

import shlex
import sys

import click

from . import __version__
from .case import Case
from .errors import InputError, InvestigateError


class CaseGroup(click.Group):
    """A click group that turns the toolkit's errors into one clear message and exit 1."""

    def invoke(self, ctx):
        """Run the command; report InvestigateError without a traceback."""
        try:
            return super().invoke(ctx)
        except InvestigateError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)


@click.group(cls=CaseGroup)
@click.version_option(__version__, prog_name="investigate")
@click.option(
    "--case",
    "case_path",
    default="case.db",
    show_default=True,
    envvar="INVESTIGATE_CASE",
    help="The case file (SQLite).",
)
@click.option(
    "--operator",
    envvar="INVESTIGATE_OPERATOR",
    help="Who runs the command, for the chain of custody (default: user@host).",
)
@click.pass_context
def cli(ctx, case_path, operator):
    """Work a darknet case: crawl, extract, trace, request, report.

    Commands that go on the network use --proxy, else the INVESTIGATE_PROXY environment
    variable, else socks5h://127.0.0.1:9050 (Tor's port). `sandbox up` prints the line
    that sets the variable to its own SOCKS port: export INVESTIGATE_PROXY=socks5h://...

    \b
    Example:
        export INVESTIGATE_PROXY=socks5h://127.0.0.1:9050
        investigate --case op-nightshade.db crawl http://<wiki>.onion/
    """
    ctx.ensure_object(dict)
    ctx.obj["case_path"] = case_path
    ctx.obj["operator"] = operator


# Options whose values are credentials: the custody log keeps that they were given, not them.
SECRET_OPTIONS = ("--token",)


def _redacted(argv: list[str]) -> list[str]:
    """A command line with the values of SECRET_OPTIONS replaced by "***"."""
    out, hide = [], False
    for arg in argv:
        if hide:
            out.append("***")
            hide = False
        elif arg in SECRET_OPTIONS:
            out.append(arg)
            hide = True
        elif arg.split("=", 1)[0] in SECRET_OPTIONS and "=" in arg:
            out.append(arg.split("=", 1)[0] + "=***")
        else:
            out.append(arg)
    return out


def open_case(ctx: click.Context) -> Case:
    """Open the command's case file and log the command in its chain of custody."""
    case = Case(ctx.obj["case_path"], ctx.obj["operator"])
    case.begin(shlex.join(["investigate", *_redacted(sys.argv[1:])]))
    ctx.call_on_close(case.close)
    return case


@cli.command()
@click.pass_context
def custody(ctx):
    """Print the chain of custody: every command run on the case, by whom and when.

    \b
    Example:
        investigate --case op.db custody
    """
    import json

    case = Case(ctx.obj["case_path"], ctx.obj["operator"])
    problems = case.verify()
    for entry in case.custody():
        click.echo(json.dumps(entry))
    for problem in problems:
        click.echo(f"TAMPERED: {problem}", err=True)
    case.close()
    sys.exit(1 if problems else 0)


# -- crawl, extract, correlate ------------------------------------------------------------


def _short(host: str) -> str:
    """A host name short enough for a table column (onions keep their first 16 letters)."""
    return host[:16] + "….onion" if host.endswith(".onion") and len(host) > 30 else host


def _console():
    """A rich console on stderr, for progress and tables that are not the JSON output."""
    from rich.console import Console

    return Console(stderr=True)


@cli.command("crawl")
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--proxy",
    default="socks5h://127.0.0.1:9050",
    show_default=True,
    envvar="INVESTIGATE_PROXY",
    show_envvar=True,
    help="SOCKS (socks5h://) or HTTP (http://) proxy: Tor or the sandbox gateway.",
)
@click.option(
    "--depth",
    default=2,
    show_default=True,
    type=click.IntRange(0),
    help="Links to follow from a start page.",
)
@click.option(
    "--max-pages",
    default=200,
    show_default=True,
    type=click.IntRange(0),
    help="Fetches in this run; run again to continue.",
)
@click.option(
    "--rate",
    type=click.FloatRange(0),
    help="Requests per second per site (default 10; 0 = no limit).",
)
@click.option(
    "--follow-offsite", is_flag=True, help="Also crawl other .onion/.test sites the pages link to."
)
@click.option("--no-images", is_flag=True, help="Do not download pictures (no EXIF then).")
@click.option(
    "--no-probe", is_flag=True, help="Do not ask for /server-status, /uploads/, /robots.txt..."
)
@click.option(
    "--cookies",
    type=click.Path(dir_okay=False),
    help="Cookies to start with: Netscape cookies.txt or JSON.",
)
@click.option(
    "--login", metavar="USER:PASSWORD", help="Log in on login walls (registering if needed)."
)
@click.option(
    "--captcha-answers",
    type=click.Path(dir_okay=False),
    help="CAPTCHA answers, a line each: the picture's name (or 8+ hex digits of its SHA-256)"
    " and its text.",
)
@click.option(
    "--captcha-cmd",
    metavar="CMD",
    help="A command run with each CAPTCHA picture's path; it prints the text.",
)
@click.option(
    "--fresh", is_flag=True, help="Forget the saved frontier and crawl again from the start."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def crawl_command(ctx, urls, **opts):
    """Crawl sites through the proxy into the case: every page and picture, hashed and timed.

    Interrupted (Ctrl-C, --max-pages)? Run the same command again: it continues where it
    stopped and fetches nothing twice.

    CAPTCHAs on login walls are saved as <case>-captchas/captcha-<hex>.png and answered
    from --captcha-answers FILE (lines "<hex> TEXT"), else by --captcha-cmd CMD (run with
    the picture's path, prints the text), else typed at the terminal. With none of these
    (no terminal), the crawl stops with exit status 3, saying which picture to answer and
    how; run it again with the answer and it goes on from that same CAPTCHA.

    \b
    Examples:
        investigate --case op.db crawl http://<wiki>.onion/ --depth 3 \\
            --login trainee7:'correct horse' --max-pages 500
        echo "3fa2c19b0d7e K7PXQ2" >> answers.txt
        investigate --case op.db crawl http://<market>.onion/ --login trainee7:'correct horse' \\
            --captcha-answers answers.txt
    """
    import json
    from pathlib import Path
    from urllib.parse import urlsplit

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .captcha import Solver
    from .crawl import crawl, parse_login
    from .errors import CaptchaPending
    from .net import check_proxy, load_cookies

    check_proxy(opts["proxy"])
    credentials = parse_login(opts["login"]) if opts["login"] else None
    jar = load_cookies(opts["cookies"]) if opts["cookies"] else None
    as_json = opts["as_json"]
    case_path = Path(ctx.obj["case_path"])
    interactive = click.get_text_stream("stdin").isatty()

    def ask(picture: Path) -> str:
        """Show the saved CAPTCHA to the person at the terminal and read its text."""
        progress.stop()
        try:
            click.echo(f"CAPTCHA saved to {picture}", err=True)
            return click.prompt("Type the characters in the picture", err=True)
        finally:
            progress.start()

    solve = Solver(
        case_path.with_name(case_path.stem + "-captchas"),
        answers=Path(opts["captcha_answers"]) if opts["captcha_answers"] else None,
        command=opts["captcha_cmd"],
        ask=ask if interactive else None,
    )
    case = open_case(ctx)
    console = _console()
    progress = Progress(
        TextColumn("[bold]crawl"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", style="dim"),
        console=console,
        transient=True,
    )
    task = progress.add_task("", total=None)

    def on_page(fetched: int, pending: int, url: str) -> None:
        """Advance the bar."""
        parts = urlsplit(url)
        where = f"{_short(parts.hostname or '')}{parts.path}"
        progress.update(task, completed=fetched, total=fetched + pending, description=where[:48])

    try:
        with progress:
            result = crawl(
                case,
                urls,
                proxy=opts["proxy"],
                depth=opts["depth"],
                max_pages=opts["max_pages"],
                rate=opts["rate"],
                scope="any" if opts["follow_offsite"] else "site",
                images=not opts["no_images"],
                cookies=jar,
                captcha=solve,
                login=credentials,
                probe=not opts["no_probe"],
                fresh=opts["fresh"],
                progress=on_page,
            )
    except KeyboardInterrupt:
        click.echo("interrupted: the frontier is saved; run the same command to resume", err=True)
        sys.exit(130)
    except CaptchaPending as e:
        if e.result is not None and as_json:
            click.echo(json.dumps({**e.result.as_dict(), "captcha_pending": str(e)}, indent=2))
        elif e.result is not None:
            _print_crawl(e.result)
        click.echo(f"stopped: {e}", err=True)
        sys.exit(3)
    except InvestigateError as e:
        partial = getattr(e, "result", None)
        if partial is not None and not as_json:
            _print_crawl(partial)
        raise
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _print_crawl(result)


def _print_crawl(result) -> None:
    """A crawl result as a few readable lines."""
    from rich.console import Console

    out = Console()
    if not result.fetched and not result.pending:
        out.print("nothing left to fetch: the crawl is complete (--fresh crawls it all again)")
        return
    out.print(
        f"fetched {result.fetched} ({result.images} pictures), stored {result.captured} new"
        f" captures in {result.elapsed:.1f} s ({result.rate:.1f}/s)"
    )
    if result.queue_waited:
        out.print(f"waited {result.queue_waited:.0f} s in DDoS-protection queues")
    for host in result.logins:
        out.print(f"logged in on {host}")
    for url in result.login_walls:
        out.print(f"[yellow]login wall[/] {url}")
    for url, reason in result.failed:
        out.print(
            f"[red]failed[/] {reason}" if url in reason else f"[red]failed[/] {url}: {reason}"
        )
    if result.offsite:
        out.print(f"linked sites not crawled (--follow-offsite): {', '.join(result.offsite)}")
    if result.pending:
        out.print(f"{result.pending} pages still queued: run the same command again to continue")


@cli.command("extract")
@click.option("--rescan", is_flag=True, help="Read every capture again, not only new ones.")
@click.option(
    "--wide", is_flag=True, help="One line per value, however wide (default: long values wrap)."
)
@click.option("--json", "as_json", is_flag=True, help="Print every artefact as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print every artefact as CSV.")
@click.pass_context
def extract_command(ctx, rescan, wide, as_json, as_csv):
    """Pull artefacts out of the captures: addresses, PGP keys, emails, handles, EXIF, leaks.

    Only captures not read before are read (use --rescan to read all again). Addresses
    are reported only when their checksum holds. Values are never cut: the table wraps
    long ones (--wide keeps each on one line), --json and --csv list every artefact whole.

    \b
    Examples:
        investigate --case op.db extract
        investigate --case op.db extract --wide
        investigate --case op.db extract --json > artefacts.json
        investigate --case op.db extract --csv > artefacts.csv
    """
    import json

    from rich.table import Table

    from .extract import artefacts, extract, summary

    if as_json and as_csv:
        raise InputError("give --json or --csv, not both")
    case = open_case(ctx)
    result = extract(case, rescan=rescan)
    if as_csv:
        _artefacts_csv(artefacts(case))
        return
    rows = summary(case)
    if as_json:
        payload = {"run": result.as_dict(), "summary": rows, "artefacts": artefacts(case)}
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    from rich.console import Console

    table = Table(title=f"Artefacts in {case.path} ({result.read} new captures read)")
    for column in ("kind", "sightings", "distinct", "sites", "examples"):
        # An address or a fingerprint cut short with "…" is useless: wrap it, never cut it.
        table.add_column(
            column,
            justify="right" if column in ("sightings", "distinct", "sites") else "left",
            overflow="fold",
            no_wrap=wide,
        )
    for row in rows:
        table.add_row(
            row["kind"],
            str(row["sightings"]),
            str(row["distinct_values"]),
            str(row["sites"]),
            "\n".join(row["examples"]),
        )
    # Wide: as wide as the longest value needs (a pager or a file takes any width).
    Console(width=100_000 if wide else None).print(table)


def _artefacts_csv(rows: list[dict]) -> None:
    """Every artefact as a CSV row on standard output, values whole and spreadsheet-safe."""
    import csv
    import io

    from .spreadsheet import safe_cell

    columns = ("kind", "value", "normalized", "host", "url", "fetched_at", "sha256", "context")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    click.echo(out.getvalue(), nl=False)


@cli.command("correlate")
@click.option(
    "--family",
    "families",
    multiple=True,
    help="Only these artefact families (email, username, pgp_key, ...).",
)
@click.option("--weak", is_flag=True, help="Also show links resting on usernames only mentioned.")
@click.option("--json", "as_json", is_flag=True, help="Print links, evidence and clusters as JSON.")
@click.pass_context
def correlate_command(ctx, families, weak, as_json):
    """Link sites and personas that share a PGP key, email, username, address, analytics id...

    Every link lists its evidence: the captured URLs, when they were fetched and the
    SHA-256 of each capture. New captures are extracted first.

    \b
    Example:
        investigate --case op.db correlate
        investigate --case op.db correlate --family email --family pgp_key --json
    """
    import json

    from rich.console import Console
    from rich.table import Table

    from .correlate import FAMILIES, correlate
    from .errors import InputError

    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise InputError(f"--family {unknown[0]}: expected one of {', '.join(FAMILIES)}")
    case = open_case(ctx)
    result = correlate(case, families=list(families) or None)
    links = [link for link in result.links if weak or link.strength == "strong"]
    if as_json:
        payload = result.as_dict()
        payload["links"] = [link.as_dict() for link in links]
        click.echo(json.dumps(payload, indent=2))
        return
    out = Console()
    if not links:
        out.print("no artefact is shared by two sites (yet): crawl more, then run it again")
        return
    table = Table(title=f"Shared artefacts in {case.path}")
    for column in ("family", "value", "sites", "personas", "evidence"):
        table.add_column(column)
    for link in links:
        times = sorted(e["fetched_at"][:19] for e in link.evidence)
        table.add_row(
            link.family + ("" if link.strength == "strong" else " (weak)"),
            link.value,
            "\n".join(_short(s) for s in link.sites),
            "\n".join(p.split("@")[0] + "@" + _short(p.split("@", 1)[1]) for p in link.personas),
            f"{len(link.evidence)} captures\n{times[0]} .. {times[-1]}",
        )
    out.print(table)
    for number, cluster in enumerate(result.clusters, 1):
        members = ", ".join(
            m.split("@")[0] + "@" + _short(m.split("@", 1)[1]) if "@" in m else _short(m)
            for m in cluster["members"]
        )
        out.print(f"[bold]cluster {number}[/]: {members}\n  via {', '.join(cluster['via'])}")


# == chain analysis, exchange requests and sweeps (issue #5, part 2) ==========================


def _json_out(data) -> None:
    """Print data as JSON."""
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _lines_out(lines) -> None:
    """Print lines of text."""
    for line in lines:
        click.echo(line)


def _chain_explorer(case, url, proxy, offline):
    """The explorer to read labels from: --explorer, else the one the case synced from."""
    from .esplora import Esplora

    if offline:
        return None
    if url:
        return Esplora(url, proxy)
    from .chain.store import ensure_schema

    ensure_schema(case)
    known = case.get_meta("chain.explorer")
    if not known:
        return None
    return Esplora(known["url"], proxy or known.get("proxy"))


def _chain_options(f):
    """--explorer, --proxy and --offline for commands that read explorer labels."""
    f = click.option(
        "--offline", is_flag=True, help="Do not read labels from the explorer's pages."
    )(f)
    f = click.option(
        "--proxy",
        envvar="INVESTIGATE_PROXY",
        show_envvar=True,
        help="SOCKS proxy for .onion/.test names [default: socks5h://127.0.0.1:9050].",
    )(f)
    return click.option(
        "--explorer",
        "explorer_url",
        help="Explorer to read public labels from [default: the one synced from].",
    )(f)


_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _target(text: str, where: str, kinds: tuple[str, ...], chain: str | None = None) -> str:
    """Check an address or txid the command was given, before its case file is opened."""
    from .targets import check_target

    if chain == "btc":
        kinds = tuple(k for k in kinds if k != "tron")
    elif chain == "tron":
        kinds = tuple(k for k in kinds if k in ("tron", "txid"))
    return check_target(text, where, kinds)


@cli.command("sync")
@click.option(
    "--explorer",
    "explorer_url",
    default=None,
    help="The explorer's URL (Esplora API under /api) [default: http://127.0.0.1:3000/].",
)
@click.option(
    "--proxy",
    envvar="INVESTIGATE_PROXY",
    show_envvar=True,
    help="SOCKS proxy for .onion/.test names.",
)
@click.option(
    "--tron",
    "tron_url",
    help="Sync the Tron chain instead, from this node or TronGrid base URL "
    "(e.g. http://api.trongrid.test or http://127.0.0.1:8090).",
)
@click.option("--workers", default=4, show_default=True, help="Parallel block downloads.")
@click.option("--until", type=int, help="Stop at this height.")
@_JSON
@click.pass_context
def sync_command(ctx, explorer_url, proxy, tron_url, workers, until, as_json):
    """Copy the blockchain from an explorer into the case's local index, verified.

    Raw blocks are checked (block hash, link to the previous block, merkle root of the
    txids computed locally); a second run fetches only the new blocks.

    \b
    Examples:
        investigate --case op.db sync --explorer http://127.0.0.1:3000/
        investigate --case op.db sync --explorer http://explorer.test/
        investigate --case op.db sync --tron http://api.trongrid.test
    """
    if tron_url:
        _sync_tron(ctx, tron_url, proxy, workers, until, as_json)
        if not explorer_url:
            return
    from .chain.report import sync_lines
    from .chain.sync import sync as run_sync
    from .esplora import DEFAULT_EXPLORER, Esplora

    case = open_case(ctx)
    known = case.get_meta("chain.explorer") or {}
    url = explorer_url or known.get("url") or DEFAULT_EXPLORER
    explorer = Esplora(url, proxy or (known.get("proxy") if not explorer_url else None))
    with click.progressbar(length=1, label="blocks", file=sys.stderr) as bar:

        def progress(done, total):
            """Move the bar."""
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        report = run_sync(case, explorer, workers=workers, progress=progress, until=until)
    if as_json:
        _json_out(report.as_dict())
    else:
        _lines_out(sync_lines(report.as_dict()))


def _sync_tron(ctx, url, proxy, workers, until, as_json) -> None:
    """`sync --tron URL`: the node's blocks and USDT events into the case's Tron index."""
    from .tron.node import TronNode
    from .tron.report import sync_lines
    from .tron.sync import sync_tron

    case = open_case(ctx)
    node = TronNode(url, proxy)
    with click.progressbar(length=1, label="tron blocks", file=sys.stderr) as bar:

        def progress(done, total):
            """Move the bar."""
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        report = sync_tron(case, node, workers=workers, progress=progress, until=until)
    _json_out(report.as_dict()) if as_json else _lines_out(sync_lines(report.as_dict()))


def _tron_labels(case, tronscan, proxy, offline):
    """Tron labels: the case's, and Tronscan's public tags unless --offline."""
    from .tron.labels import TronLabels

    known = case.get_meta("tron.tronscan") or {}
    url = None if offline else (tronscan or known.get("url"))
    if tronscan:
        case.set_meta("tron.tronscan", {"url": tronscan})
    return TronLabels(case, url, proxy)


_CHAIN = click.option(
    "--chain",
    type=click.Choice(["btc", "tron"]),
    help="Which chain the target is on [default: from its form; a txid found in both "
    "indexes needs it].",
)
_TRONSCAN = click.option(
    "--tronscan",
    help="Tron explorer to read public tags from, e.g. http://tronscan.test "
    "[default: the last one given].",
)


@cli.command("address")
@click.argument("address")
@_chain_options
@_TRONSCAN
@_CHAIN
@_JSON
@click.pass_context
def address_command(ctx, address, explorer_url, proxy, offline, tronscan, chain, as_json):
    """Balance, totals, first/last seen and counterparties of an address.

    A Tron address (T...) shows USDT and TRX balances (from the index, and from the node
    synced from unless --offline), its first funder, energy delegations, labels and
    whether the issuer blacklisted it.

    \b
    Example:
        investigate --case op.db address bc1q...
        investigate --case op.db address T... --tronscan http://tronscan.test
    """
    _target(address, "ADDRESS", ("btc", "tron"), chain)
    case = open_case(ctx)
    from .tron.analysis import which_chain

    if which_chain(case, address, chain) == "tron":
        from .tron.analysis import address_summary as tron_summary
        from .tron.node import TronNode
        from .tron.report import address_lines as tron_lines

        known = case.get_meta("tron.node") or {}
        node = None if offline or not known else TronNode(known["url"], proxy or known.get("proxy"))
        summary = tron_summary(case, address, _tron_labels(case, tronscan, proxy, offline), node)
        _json_out(summary) if as_json else _lines_out(tron_lines(summary))
        return
    from .chain.analysis import address_summary
    from .chain.labels import LabelBook
    from .chain.report import address_lines

    book = LabelBook(case, _chain_explorer(case, explorer_url, proxy, offline))
    summary = address_summary(case, address, book)
    _json_out(summary) if as_json else _lines_out(address_lines(summary))


@cli.command("trace")
@click.argument("target")
@click.option("--forward/--back", default=True, help="Where the money went, or came from.")
@click.option("--hops", default=6, show_default=True, help="How many transactions deep.")
@click.option(
    "--method",
    type=click.Choice(["poison", "haircut", "fifo"]),
    default="haircut",
    show_default=True,
    help="How taint passes a transaction.",
)
@click.option(
    "--min-amount", default=546, show_default=True, help="Ignore traced amounts below (sat)."
)
@click.option("--max-txs", default=5000, show_default=True, help="Stop after this many txs.")
@click.option(
    "--asset",
    type=click.Choice(["USDT", "TRX"], case_sensitive=False),
    default="USDT",
    show_default=True,
    help="On Tron: which asset to follow.",
)
@_chain_options
@_TRONSCAN
@_CHAIN
@_JSON
@click.pass_context
def trace_command(
    ctx,
    target,
    forward,
    hops,
    method,
    min_amount,
    max_txs,
    asset,
    explorer_url,
    proxy,
    offline,
    tronscan,
    chain,
    as_json,
):
    """Follow the money of an address, a TXID or an output TXID:N, hop by hop.

    Stops at labelled services (exchanges, markets, mixers), unspent outputs and the
    hop limit; prints each hop's txid, addresses, amounts and taint share.

    \b
    Examples:
        investigate --case op.db trace <txid>:0 --forward --hops 8 --method haircut
        investigate --case op.db trace bc1q... --back --method fifo
        investigate --case op.db trace T... --asset USDT --tronscan http://tronscan.test

    On Tron (a T... address, or a txid of the Tron index) the trace follows USDT or TRX
    transfer by transfer. Either way, value reaching a swap order's deposit address
    (orders kept by `request HOST --ask orders`) goes on with the order's payout on the
    other chain.
    """
    from .chain.labels import LabelBook
    from .chain.report import trace_lines
    from .tron.links import continue_across
    from .tron.report import trace_lines as tron_trace_lines

    _target(target, "TARGET", ("btc", "tron", "txid", "outpoint"), chain)
    case = open_case(ctx)
    books: dict = {}

    def run(on: str, what: str) -> dict:
        """One trace on either chain with this command's options."""
        if on == "tron":
            from .tron.analysis import trace as tron_trace

            if "tron" not in books:
                books["tron"] = _tron_labels(case, tronscan, proxy, offline)
            return tron_trace(
                case,
                what,
                direction="forward" if forward else "back",
                hops=hops,
                method=method,
                asset=asset,
                labels=books["tron"],
                min_amount=min_amount,
                max_transfers=max_txs,
            ).as_dict()
        from .chain.trace import trace as btc_trace

        if "btc" not in books:
            books["btc"] = LabelBook(case, _chain_explorer(case, explorer_url, proxy, offline))
        out = btc_trace(
            case,
            what,
            direction="forward" if forward else "back",
            hops=hops,
            method=method,
            labels=books["btc"],
            min_amount=min_amount,
            max_txs=max_txs,
        ).as_dict()
        out.setdefault("chain", "btc")
        return out

    from .tron.analysis import which_chain

    on = which_chain(case, target, chain)
    result = continue_across(case, run(on, target), run)
    if as_json:
        _json_out(result)
        return
    _print_trace(result, trace_lines, tron_trace_lines)


def _print_trace(result: dict, btc_lines, tron_lines, depth: int = 0) -> None:
    """A trace and the traces it continued into across swap orders, indented."""
    lines = tron_lines(result) if result.get("chain") == "tron" else btc_lines(result)
    if result.get("chain") != "tron":
        for c in result.get("cross_chain", []):
            o = c["order"]
            lines.append(
                f"swap order {o['order_id']} at {o['host']}: {o['from']['amount']} "
                f"{o['from']['asset']} on {o['from']['chain']} -> {o['to']['amount']} "
                f"{o['to']['asset']} on {o['to']['chain']} ({o['to']['txid']})"
            )
    _lines_out("  " * depth + line for line in lines)
    for c in result.get("cross_chain", []):
        if c.get("continued"):
            _print_trace(c["continued"], btc_lines, tron_lines, depth + 1)


@cli.command("cluster")
@click.argument("target", required=False)
@click.option(
    "--change",
    multiple=True,
    help="Change heuristics, comma-separated: address-reuse, round-amount, script-type, "
    "fresh-address.",
)
@click.option("--explain", is_flag=True, help="Say what each heuristic is and what it did.")
@click.option("--show", "show", help="Print the cluster of this address (after clustering).")
@click.option("--top", default=10, show_default=True, help="List the largest clusters.")
@_chain_options
@_TRONSCAN
@_CHAIN
@_JSON
@click.pass_context
def cluster_command(
    ctx, target, change, explain, show, top, explorer_url, proxy, offline, tronscan, chain, as_json
):
    """Group addresses into wallets: co-spend (CoinJoin-like txs excluded) + change heuristics.

    \b
    Examples:
        investigate --case op.db cluster
        investigate --case op.db cluster --change script-type,fresh-address --explain
        investigate --case op.db cluster --show bc1q...
        investigate --case op.db cluster T... --tronscan http://tronscan.test

    On Tron (a T... address, or --chain tron): deposit addresses swept into the same
    exchange wallet that fed them, the first funder (activator), the energy delegator;
    addresses that fund each other's activation and are swept together end up together.
    """
    from .tron.analysis import which_chain

    for text, where in ((target, "TARGET"), (show, "--show")):
        if text is not None:
            _target(text, where, ("btc", "tron"), chain)
    case = open_case(ctx)
    named = target or show
    if chain == "tron" or (named and which_chain(case, named, chain) == "tron"):
        from .tron.analysis import cluster_of
        from .tron.report import cluster_lines as tron_cluster_lines

        if not named:
            raise InputError("cluster --chain tron needs the address whose cluster to show")
        found = cluster_of(case, named, _tron_labels(case, tronscan, proxy, offline))
        _json_out(found) if as_json else _lines_out(tron_cluster_lines(found))
        return
    show = show or target
    from .chain.cluster import cluster as run_cluster
    from .chain.cluster import members
    from .chain.labels import LabelBook
    from .chain.report import cluster_lines, members_lines

    book = LabelBook(case, _chain_explorer(case, explorer_url, proxy, offline))
    result = run_cluster(case, change=change, labels=book, top=top)
    data = result.as_dict()
    data["explanation"] = result.explain()
    shown = members(case, show, book) if show else None
    if as_json:
        _json_out({**data, "cluster_of": shown} if show else data)
        return
    _lines_out(cluster_lines(data, explain))
    if shown:
        _lines_out(members_lines(shown))


@cli.command("path")
@click.argument("source")
@click.argument("target")
@click.option("--hops", default=6, show_default=True, help="Longest path to look for.")
@click.option(
    "--through-services", is_flag=True, help="Also search through labelled services' wallets."
)
@_chain_options
@_JSON
@click.pass_context
def path_command(
    ctx, source, target, hops, through_services, explorer_url, proxy, offline, as_json
):
    """The shortest money path from address SOURCE to address TARGET.

    \b
    Example:
        investigate --case op.db path bc1qdonations... bc1qdeposit... --hops 8
    """
    from .chain.analysis import shortest_path
    from .chain.labels import LabelBook
    from .chain.report import path_lines

    _target(source, "SOURCE", ("btc",))
    _target(target, "TARGET", ("btc",))
    case = open_case(ctx)
    book = LabelBook(case, _chain_explorer(case, explorer_url, proxy, offline))
    result = shortest_path(
        case, source, target, hops=hops, labels=book, through_services=through_services
    )
    _json_out(result) if as_json else _lines_out(path_lines(result))


@cli.command("exposure")
@click.argument("address")
@click.option("--hops", default=4, show_default=True, help="How far to look, each way.")
@click.option(
    "--method",
    type=click.Choice(["poison", "haircut", "fifo"]),
    default="haircut",
    show_default=True,
)
@_chain_options
@_JSON
@click.pass_context
def exposure_command(ctx, address, hops, method, explorer_url, proxy, offline, as_json):
    """Direct and indirect exposure of an address to labelled services, as shares of its funds.

    \b
    Example:
        investigate --case op.db exposure bc1q... --hops 4
    """
    from .chain.analysis import exposure as run_exposure
    from .chain.labels import LabelBook
    from .chain.report import exposure_lines

    _target(address, "ADDRESS", ("btc",))
    case = open_case(ctx)
    book = LabelBook(case, _chain_explorer(case, explorer_url, proxy, offline))
    result = run_exposure(case, address, hops=hops, method=method, labels=book)
    _json_out(result) if as_json else _lines_out(exposure_lines(result))


@cli.command("label")
@click.argument("address")
@click.argument("name", required=False)
@click.option("--category", help="e.g. exchange, market, mixer, suspect.")
@click.option("--delete", is_flag=True, help="Remove the address's label.")
@click.pass_context
def label_command(ctx, address, name, category, delete):
    """Label an address; traces and exposure stop at labelled addresses.

    \b
    Examples:
        investigate --case op.db label bc1q... "Suspect cold wallet" --category suspect
        investigate --case op.db label bc1q... --delete
    """
    from .chain.labels import remove_label, set_label

    _target(address, "ADDRESS", ("btc", "tron"))
    case = open_case(ctx)
    if delete:
        gone = remove_label(case, address)
        click.echo(f"label of {address} removed" if gone else f"{address} had no label")
        return
    if not name:
        raise InputError("give the label's NAME (or --delete)")
    stored = set_label(case, address, name, category)
    click.echo(f"{stored['address']} labelled {stored['name']!r}")


@cli.command("labels")
@click.option(
    "--import-explorer",
    "targets",
    multiple=True,
    help="Read the public labels on the explorer's page of this txid or address (repeatable).",
)
@click.option("--explorer", "explorer_url", help="The explorer [default: the one synced from].")
@click.option(
    "--proxy",
    envvar="INVESTIGATE_PROXY",
    show_envvar=True,
    help="SOCKS proxy for .onion/.test names.",
)
@_JSON
@click.pass_context
def labels_command(ctx, targets, explorer_url, proxy, as_json):
    """List the case's labels, or import the explorer's public ones.

    \b
    Examples:
        investigate --case op.db labels
        investigate --case op.db labels --import-explorer <txid>
    """
    from .chain.labels import import_explorer_labels, list_labels

    case = open_case(ctx)
    if targets:
        explorer = _chain_explorer(case, explorer_url, proxy, False)
        if explorer is None:
            raise InputError("no explorer: give --explorer URL (or sync first)")
        done = import_explorer_labels(case, explorer, list(targets))
        if not as_json:
            click.echo(f"read {done['pages']} page(s): {len(done['labels'])} labelled address(es)")
    rows = list_labels(case)
    if as_json:
        _json_out(rows)
        return
    for r in rows:
        category = f" ({r['category']})" if r["category"] else ""
        click.echo(f"{r['address']}  {r['name']}{category}  [{r['source']}]")


@cli.command("request")
@click.argument("exchange")
@click.option("--subject", required=True, help="The address or txid the request is about.")
@click.option(
    "--legal-basis",
    required=True,
    type=click.Choice(["court_order", "subpoena", "mlat", "emergency", "informal"]),
)
@click.option("--case-number", required=True)
@click.option("--agency", required=True)
@click.option("--officer", required=True, help="The requesting officer's name.")
@click.option("--email", required=True, help="The officer's email.")
@click.option(
    "--ask",
    required=True,
    help="What to ask for (comma-separated): kyc, transactions, logins, freeze (exchanges); "
    "freeze, unfreeze, reissue, status (the USDT issuer, tether.test); orders (a swap "
    "service).",
)
@click.option("--wallet", help="With --ask reissue: the law-enforcement Tron wallet (T...).")
@click.option(
    "--confidential",
    is_flag=True,
    help='Ask the portal not to tell the subject (sent as "confidential": true).',
)
@click.option("--document-ref", help="The number of the order, subpoena or MLAT request.")
@click.option("--details", help="Justification (required for emergency requests).")
@click.option(
    "--proxy", envvar="INVESTIGATE_PROXY", show_envvar=True, help="The gateway's SOCKS proxy."
)
@click.option(
    "--token",
    envvar="INVESTIGATE_LE_TOKEN",
    help="The API token the exchange issued to your agency (env INVESTIGATE_LE_TOKEN; "
    "never written to the case).",
)
@_JSON
@click.pass_context
def request_command(
    ctx,
    exchange,
    subject,
    legal_basis,
    case_number,
    agency,
    officer,
    email,
    ask,
    document_ref,
    details,
    wallet,
    confidential,
    proxy,
    token,
    as_json,
):
    """Send a law-enforcement request to an exchange's portal (e.g. coinvault.test), the
    USDT issuer's (tether.test) or a swap service's (its .onion host).

    The portal needs your agency's API token (from your papers): --token or the
    INVESTIGATE_LE_TOKEN environment variable. The request and the answer are stored in
    the case with their SHA-256; the token is not.

    \b
    Example:
        export INVESTIGATE_LE_TOKEN=le_...
        investigate --case op.db request coinvault.test --subject bc1q... \\
            --legal-basis court_order --document-ref CO-2026-17 --case-number OP-1 \\
            --agency "Cyber Unit" --officer "J. Smith" --email j.smith@police.test \\
            --ask kyc,transactions,logins
    """
    from .request import format_answer, submit_request

    _target(subject, "--subject", ("btc", "tron", "txid"))
    if wallet:
        _target(wallet, "--wallet", ("tron",))
    case = open_case(ctx)
    record = submit_request(
        case,
        exchange,
        subject,
        legal_basis=legal_basis,
        case_number=case_number,
        agency=agency,
        officer=officer,
        email=email,
        asks=ask,
        document_ref=document_ref,
        details=details,
        proxy=proxy,
        token=token,
        wallet=wallet,
        confidential=confidential,
    )
    _json_out(record) if as_json else _lines_out(format_answer(record))


@cli.command("sweep")
@click.option(
    "--chain",
    type=click.Choice(["btc", "tron"]),
    default="btc",
    show_default=True,
    help="Which chain's funds to sweep.",
)
@click.option("--key", "wif", help="A WIF private key (on Tron also 64 hex digits).")
@click.option("--mnemonic", help="A BIP39 mnemonic (quote the words).")
@click.option("--passphrase", default="", help="The BIP39 passphrase, if any.")
@click.option("--to", "to", required=True, help="The address to move the funds to.")
@click.option("--explorer", "explorer_url", help="The explorer [default: the one synced from].")
@click.option(
    "--proxy",
    envvar="INVESTIGATE_PROXY",
    show_envvar=True,
    help="SOCKS proxy for .onion/.test names.",
)
@click.option("--fee-rate", type=float, help="sat/vB [default: the explorer's 6-block estimate].")
@click.option(
    "--gap-limit", default=20, show_default=True, help="Unused addresses before stopping."
)
@click.option("--dry-run", is_flag=True, help="Build and sign, but do not broadcast.")
@click.option(
    "--node",
    "node_url",
    help="On Tron: the node to build and broadcast through [default: the one synced from].",
)
@click.option(
    "--wait", is_flag=True, help="On Tron: wait for each transaction's block and report it."
)
@_JSON
@click.pass_context
def sweep_command(
    ctx,
    chain,
    wif,
    mnemonic,
    passphrase,
    to,
    explorer_url,
    proxy,
    fee_rate,
    gap_limit,
    dry_run,
    node_url,
    wait,
    as_json,
):
    """Move every coin of a recovered key or mnemonic to a seizure address.

    \b
    Examples:
        investigate --case op.db sweep --key L1abc... --to bc1qseizure...
        investigate --case op.db sweep --mnemonic "word1 ... word12" --to bc1q... --fee-rate 5
        investigate --case op.db sweep --chain tron --key <64 hex> --to T... --wait

    On Tron the USDT goes first (a TRC-20 transfer), then the TRX once the USDT transfer
    has confirmed; each transaction the node builds is read back and checked (owner,
    destination, amount, txID) before it is signed here. Mnemonics use m/44'/195'/0'/0/i.
    """
    _target(to, "--to", ("btc", "tron"), chain)
    if chain == "tron":
        _sweep_tron(
            ctx, wif, mnemonic, passphrase, to, node_url, proxy, gap_limit, dry_run, wait, as_json
        )
        return
    from .esplora import DEFAULT_EXPLORER, Esplora
    from .sweep import sweep as run_sweep

    case = open_case(ctx)
    explorer = _chain_explorer(case, explorer_url, proxy, False) or Esplora(DEFAULT_EXPLORER, proxy)
    report = run_sweep(
        case,
        explorer,
        to=to,
        wif=wif,
        mnemonic=mnemonic,
        passphrase=passphrase,
        fee_rate=fee_rate,
        gap_limit=gap_limit,
        broadcast=not dry_run,
    )
    if as_json:
        _json_out(report)
        return
    if not report.get("txid"):
        click.echo(report["message"])
        return
    click.echo(
        f"{report['status']}: {report['txid']} moves {report['amount']:,} sat from "
        f"{len(report['inputs'])} output(s) to {report['to']} (fee {report['fee']:,} sat, "
        f"{report['fee_rate']:g} sat/vB, {report['vsize']} vB)"
    )
    confirmation = report.get("confirmation") or {}
    if confirmation.get("confirmed"):
        click.echo(f"confirmed in block {confirmation['block_height']}")
    elif report["status"] == "broadcast":
        click.echo("in the mempool, not confirmed yet")
    if dry_run:
        click.echo(report["raw_hex"])


def _sweep_tron(
    ctx, key, mnemonic, passphrase, to, node_url, proxy, gap_limit, dry_run, wait, as_json
):
    """`sweep --chain tron`: the key's USDT, then its TRX, to --to."""
    from .tron.analysis import units
    from .tron.node import TronNode
    from .tron.sweep import sweep_tron

    case = open_case(ctx)
    known = case.get_meta("tron.node") or {}
    url = node_url or known.get("url")
    if not url:
        raise InputError("no Tron node: give --node URL (or sync --tron first)")
    node = TronNode(url, proxy or (known.get("proxy") if not node_url else None))
    report = sweep_tron(
        case,
        node,
        to=to,
        key=key,
        mnemonic=mnemonic,
        passphrase=passphrase,
        gap_limit=gap_limit,
        wait=wait,
        broadcast=not dry_run,
    )
    if as_json:
        _json_out(report)
        return
    for t in report["transactions"]:
        click.echo(
            f"{t['status']}: {t['txid']} moves {units(t['amount'])} {t['asset']} from "
            f"{t['from']} to {t['to']}" + (f" (block {t['block']})" if t.get("block") else "")
        )
    _lines_out(report["notes"])


# == end of issue #5, part 2 ==================================================================


# == case graph and report (issue #5, part 3) =================================================


def _beside_case(case, suffix: str):
    """The default output folder: <case name>-<suffix> next to the case file."""
    return case.path.with_name(f"{case.path.stem}-{suffix}")


def _run_traces(case, targets) -> list[dict]:
    """Traces run for a drawing or a report, offline, with the labels stored in the case."""
    if not targets:
        return []
    from .chain.labels import LabelBook
    from .chain.trace import trace as run_trace
    from .tron.analysis import trace as tron_trace
    from .tron.analysis import which_chain
    from .tron.labels import TronLabels
    from .tron.links import continue_across

    book, tron_book = LabelBook(case), TronLabels(case)

    def run(chain: str, target: str) -> dict:
        """A default trace (forward, haircut, 6 hops) on either chain, offline."""
        if chain == "tron":
            return tron_trace(case, target, labels=tron_book).as_dict()
        return {"chain": "btc", **run_trace(case, target, labels=book).as_dict()}

    return [continue_across(case, run(which_chain(case, t), t), run) for t in targets]


_TRACE = click.option(
    "--trace",
    "trace_targets",
    multiple=True,
    metavar="TARGET",
    help="Also trace this address (Bitcoin or Tron), TXID or TXID:N (forward, haircut, 6 "
    "hops, offline); "
    "repeatable. Traces stored in the case are always included.",
)


@cli.command("graph")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder to write into [default: <case>-graph beside the case file].",
)
@click.option(
    "--format",
    "formats",
    default="html,graphml,png",
    show_default=True,
    help="Comma-separated: html (interactive, offline), graphml (Gephi, Maltego), png.",
)
@_TRACE
@_JSON
@click.pass_context
def graph_command(ctx, out, formats, trace_targets, as_json):
    """Draw the case: sites, personas, keys, emails, addresses, clusters, services, identities.

    Links: found-on, uses, shares-artefact, paid, traced-flow (amounts), labelled-as,
    member-of, kyc-identified-as, swept. The HTML page works offline: pan, zoom, drag,
    click a node for its evidence (source URL, capture time, SHA-256).

    \b
    Examples:
        investigate --case op.db graph
        investigate --case op.db graph --out evidence/graph --format graphml,png
        investigate --case op.db graph --trace bc1q...
    """
    from pathlib import Path

    from .graph import case_graph, graph_counts, parse_formats
    from .graph_render import write_graph

    chosen = parse_formats(formats)
    case = open_case(ctx)
    g = case_graph(case, _run_traces(case, trace_targets))
    written = write_graph(case, Path(out) if out else _beside_case(case, "graph"), chosen, g=g)
    counts = graph_counts(g)
    if as_json:
        _json_out({"files": {k: str(v) for k, v in written.items()}, **counts})
        return
    kinds = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in counts["nodes"].items())
    click.echo(
        f"{g.number_of_nodes()} nodes ({kinds or 'nothing in the case yet'}), "
        f"{g.number_of_edges()} links"
    )
    for fmt, path in written.items():
        click.echo(f"{fmt}: {path}")


@cli.command("report")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder to write into [default: <case>-report beside the case file].",
)
@click.option("--pdf", is_flag=True, help="Also write report.pdf (text, searchable).")
@click.option(
    "--bodies", is_flag=True, help="Also save each capture's body as data/captures/<sha256>."
)
@_TRACE
@_JSON
@click.pass_context
def report_command(ctx, out, pdf, bodies, trace_targets, as_json):
    """Write the case report: HTML (offline, one file), graph, CSV/JSON of every table.

    The report first checks every capture against its SHA-256 and says so at the top;
    the command exits with 1 when a capture was tampered with (the report is still
    written, listing them). SHA256SUMS covers every file written.

    \b
    Examples:
        investigate --case op.db report
        investigate --case op.db report --out evidence/op-report --pdf
    """
    from pathlib import Path

    from .report import write_report

    case = open_case(ctx)
    result = write_report(
        case,
        Path(out) if out else _beside_case(case, "report"),
        pdf=pdf,
        bodies=bodies,
        traces=_run_traces(case, trace_targets),
    )
    if as_json:
        _json_out(result.as_dict())
    else:
        if result.captures and not result.problems:
            click.echo(f"all {result.captures} captures verified")
        click.echo(f"report: {result.files['html']}")
        if "pdf" in result.files:
            click.echo(f"pdf: {result.files['pdf']}")
        click.echo(f"graph: {result.files['graph_html']}")
        click.echo(f"exports: {len(result.tables)} tables in {result.out / 'data'}")
    for problem in result.problems:
        click.echo(f"TAMPERED: {problem}", err=True)
    if result.problems:
        sys.exit(1)


# == end of issue #5, part 3 ==================================================================


# == the workspace in the browser (issue #17) =================================================


@cli.command("ui")
@click.option(
    "--case",
    "ui_case",
    type=click.Path(dir_okay=False),
    help="The case file to open [default: the group's --case].",
)
@click.option(
    "--port",
    default=0,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 [default: any free].",
)
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
@click.option(
    "--explorer",
    "explorer_url",
    help="The explorer to sync from [default: the one the case synced from, else "
    "http://127.0.0.1:3000/].",
)
@click.option(
    "--proxy",
    envvar="INVESTIGATE_PROXY",
    show_envvar=True,
    help="SOCKS proxy for .onion/.test names.",
)
@click.option(
    "--lang",
    "lang",
    envvar="INVESTIGATE_LANG",
    show_envvar=True,
    help="The pages' language: en, ru, kk, ur, ar, fr or es [default: the browser's, else "
    "the terminal's LANG]; the page's switcher can change it.",
)
@click.pass_context
def ui_command(ctx, ui_case, port, no_browser, explorer_url, proxy, lang):
    """Open the case in a browser workspace: crawl, evidence, money graph, requests, report.

    Crawls (CAPTCHAs answered in the page), artefacts, captures, correlations, custody; the
    Bitcoin money graph (expand, trace, path, clusters, labels, notes and tags saved in
    the case); law-enforcement requests, the sweep dialog and the report. It listens on
    127.0.0.1 only and prints a URL with a random token: only a browser that opened that
    URL gets in (others get 403). The command line can work on the same case file
    meanwhile. Ctrl-C stops it.

    \b
    Example:
        investigate --case op.db ui --explorer http://127.0.0.1:3000/
    """
    import threading
    import webbrowser

    from .ui import Settings, UiServer
    from .ui.i18n import LOCALES, language_of, system_language

    if lang and language_of(lang) is None:
        raise InputError(f"--lang {lang}: expected one of {', '.join(LOCALES)}")
    path = ui_case or ctx.obj["case_path"]
    # Opened once here so a bad path is one clear error before anything listens.
    Case(path, ctx.obj["operator"]).close()
    settings = Settings(
        path,
        explorer=explorer_url,
        proxy=proxy,
        operator=ctx.obj["operator"],
        language=lang,
        system_language=system_language(),
    )
    try:
        server = UiServer(settings, port)
    except OSError as e:
        raise InputError(f"--port {port}: cannot listen on 127.0.0.1 ({e.strerror or e})") from None
    with server:
        click.echo(f"workspace of {path}: {server.url}")
        click.echo("(only this URL opens it; Ctrl-C stops it)", err=True)
        if not no_browser:
            webbrowser.open(server.url)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
