"""What every request of the workspace shares: its settings and the case file it opens."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import g, request

from ..case import Case
from ..errors import InputError
from ..esplora import DEFAULT_EXPLORER, Esplora
from ..tron.node import TronNode

__all__ = ["Settings", "json_body", "open_case"]


class Settings:
    """What one running workspace works on."""

    def __init__(
        self,
        case_path: str | Path,
        *,
        token: str | None = None,
        explorer: str | None = None,
        proxy: str | None = None,
        operator: str | None = None,
        tron: str | None = None,
        tronscan: str | None = None,
        language: str | None = None,
        system_language: str | None = None,
    ):
        """The case file, the token (a fresh one if none), the explorer and proxy to use, the
        Tron node (or TronGrid) and Tron explorer; the pages' language (`--lang`) and the
        terminal's, used after the browser's."""
        self.case_path = Path(case_path)
        self.token = token or secrets.token_urlsafe(32)
        self.explorer = explorer
        self.proxy = proxy
        self.operator = operator
        self.tron = tron
        self.tronscan = tronscan
        self.language = language
        self.system_language = system_language

    def explorer_for(self, case: Case) -> Esplora:
        """The explorer: --explorer, else the one the case synced from, else the default."""
        known = case.get_meta("chain.explorer") or {}
        if self.explorer:
            return Esplora(self.explorer, self.proxy)
        return Esplora(known.get("url") or DEFAULT_EXPLORER, self.proxy or known.get("proxy"))

    def tron_for(self, case: Case) -> TronNode:
        """The Tron node: the workspace's, else the one the case synced from."""
        known = case.get_meta("tron.node") or {}
        url = self.tron or known.get("url")
        if not url:
            raise InputError(
                f"{case.path}: no Tron node known for this case; run "
                "`investigate sync --tron URL` once (e.g. http://api.trongrid.test)"
            )
        return TronNode(url, self.proxy or known.get("proxy"))

    def tronscan_for(self, case: Case) -> str | None:
        """The Tron explorer whose public tags label addresses: the workspace's, else the
        one the command line last used on the case (none: the case's labels only)."""
        return self.tronscan or (case.get_meta("tron.tronscan") or {}).get("url")


def open_case(command: str | None = None) -> Case:
    """This request's case (opened once per request); with a command, logged in custody."""
    settings: Settings = g.settings
    case = g.get("case")
    if case is None:
        case = Case(settings.case_path, settings.operator)
        g.case = case
    if command is not None:
        case.begin(f"investigate ui: {command}")
    return case


def json_body() -> dict:
    """The request's JSON object, or a 400 saying what is wrong with it."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object in the request body")
    return data
