"""`sandbox up --tor`: start the private Tor network beside a running Sandbox and say how to join."""

from __future__ import annotations

import signal
from collections.abc import Callable

from .network import PrivateTorNetwork, onion_sites

READY_TIMEOUT = 300.0  # seconds; it forms in well under a minute on a laptop
_WILDCARDS = ("0.0.0.0", "", "::", "localhost", "127.0.0.1")


def start_for_sandbox(
    sandbox, host: str, socks_port: int, echo: Callable[[str], None]
) -> PrivateTorNetwork:
    """Start the network for a Sandbox's onions, wait for the first page, print how to join."""
    sites, seeds = onion_sites(sandbox)
    # Relays listen where trainees can reach them: a classroom address given with --host, else
    # loopback (trainees on other machines then use the client's SOCKS port).
    address = "127.0.0.1" if host in _WILDCARDS else host
    network = PrivateTorNetwork(
        sandbox.state_dir / "tor",
        sites,
        seeds,
        address=address,
        socks_host=host,
        socks_port=socks_port,
    )
    echo(
        f"Private Tor network: starting 3 authorities, 5 relays, {len(sites)} onion services "
        f"and a client under {network.dir} ..."
    )
    # SIGTERM while it forms stops it like Ctrl-C does (the caller's finally stops everything).
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        network.start()
        wiki = next((s for s in sandbox.sites if s.kind == "wiki" and s.address in sites), None)
        first = wiki.address if wiki else next(iter(sorted(sites)))
        seconds = network.wait_ready(first, READY_TIMEOUT)
    except BaseException:
        network.stop()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    socks = "{}:{}".format(*network.socks_address)
    echo(
        f"Tor network formed: first onion page through real Tor after {seconds:.1f} s "
        f"(client bootstrapped after {network.timings.get('bootstrapped', 0):.1f} s)"
    )
    echo(f"Tor SOCKS5     {socks}   (real Tor client of the private network: .onion only)")
    echo(f"  curl --socks5-hostname {socks} http://{first}/")
    echo("Tor Browser: add these lines to its torrc to join the private network:")
    for line in network.trainee_torrc().splitlines():
        echo(f"  {line}")
    if address == "127.0.0.1":
        echo(
            "  (relays listen on loopback: these lines work on this machine only; "
            "`--host <this machine's classroom IP>` lets other machines' Tor Browsers join)"
        )
    return network
