"""Reference solution of tests/data/campaign.yaml: the broker's USDT address, read off his chat."""

from __future__ import annotations

from scenarios.solutions._steps import read_off


def broker(ctx) -> str:
    """The OTC chat on the social site gives the address the broker buys USDT at."""
    return read_off(ctx, "tron_address", "http://chirp.test/c/obmen", "Tron address")


SOLVERS = {"broker": broker}
