"""The dark.fail-style files every site publishes: /pgp.txt, /mirrors.txt, /canary.txt, robots.txt."""

from __future__ import annotations

import hashlib
import threading

from flask import Blueprint, current_app, render_template

from sandbox.onion import OnionKey
from sandbox.pgp import clearsign, make_key

from .helpers import fmt_date, fmt_datetime
from .world import Site, World

bp = Blueprint("files", __name__)

ROBOTS = {
    "market": ["/login", "/register", "/logout", "/orders", "/messages", "/captcha/"],
    "shop": ["/checkout/", "/order/", "/captcha/"],
    "forum": ["/login", "/register", "/logout", "/captcha/"],
    "donation": [],
    "wiki": [],
    "search": ["/search"],
    "social": ["/search"],
    "paste": ["/search"],
}


class SiteFiles:
    """The operator's key and the signed texts of one site, made once (the world never changes)."""

    def __init__(self, world: World, site: Site):
        """Remember the site; everything is computed on first use."""
        self.world = world
        self.site = site
        self._lock = threading.Lock()
        self._key: dict | None = None
        self._signed: dict[str, str] = {}

    def operator_key(self) -> dict:
        """The operator's PGP key on this site (fingerprint, user id, armoured public and secret).

        Sites whose operator has no key in the world (link lists, search engines, clearnet
        sites) get a staff key derived from the world seed, so /pgp.txt always parses.
        """
        with self._lock:
            if self._key is None:
                self._key = self._find_key()
            return self._key

    def _find_key(self) -> dict:
        """Look the operator's key up, or derive the staff key."""
        site, world = self.site, self.world
        key = None
        if site.operator_id:
            account = world.accounts.by_actor(site.id, site.operator_id)
            if account is not None:
                key = world.keys.get(account["pgp_fingerprint"])
            if key is None:
                key = world.keys.of_actor(site.operator_id)
        if key is not None:
            return key
        who = "Staff" if site.hidden else "Security Team"
        user_id = f"{site.name} {who}"
        if not site.hidden:
            user_id += f" <security@{site.address}>"
        created = world.start - 86_400 * (200 + hashlib.sha256(site.id.encode()).digest()[0])
        made = make_key(f"{world.seed}/site-staff/{site.id}".encode(), user_id, created)
        return {
            "fingerprint": made.fingerprint,
            "user_id": made.user_id,
            "created": made.created,
            "public_armored": made.public_armored,
            "secret_armored": made.secret_armored,
        }

    def mirrors(self) -> list[str]:
        """The site's address and its mirrors (two more onions derived from the world seed)."""
        if not self.site.hidden:
            return [self.site.address]
        out = [self.site.address]
        for i in (1, 2):
            seed = hashlib.sha256(f"mirror/{self.world.seed}/{self.site.id}/{i}".encode()).digest()
            out.append(OnionKey.from_seed(seed).address)
        return out

    def signed(self, name: str, text: str, when: int) -> str:
        """A text clearsigned by the operator's key at a fixed time (cached by name)."""
        with self._lock:
            cached = self._signed.get(name)
        if cached is None:
            cached = clearsign(self.operator_key()["secret_armored"], text, created=when)
            with self._lock:
                self._signed[name] = cached
        return cached


def _text(body: str):
    """A text/plain response."""
    return current_app.response_class(body, mimetype="text/plain")


@bp.route("/pgp.txt")
def pgp():
    """The operator's armoured public key."""
    files: SiteFiles = current_app.extensions["files"]
    return _text(files.operator_key()["public_armored"])


@bp.route("/mirrors.txt")
def mirrors():
    """The official addresses, clearsigned by the operator."""
    files: SiteFiles = current_app.extensions["files"]
    world: World = current_app.extensions["world"]
    tip = world.blocks.tip()
    text = render_template(
        "files/mirrors.txt",
        site=files.site,
        mirrors=files.mirrors(),
        updated=fmt_date(tip["time"]),
        fingerprint=files.operator_key()["fingerprint"],
    )
    return _text(files.signed("mirrors", text, tip["time"]))


@bp.route("/canary.txt")
def canary():
    """A warrant canary quoting the latest block, clearsigned by the operator."""
    files: SiteFiles = current_app.extensions["files"]
    world: World = current_app.extensions["world"]
    tip = world.blocks.tip()
    text = render_template(
        "files/canary.txt",
        site=files.site,
        date=fmt_date(tip["time"]),
        tip=tip,
        block_time=fmt_datetime(tip["time"]),
        next_date=fmt_date(tip["time"] + 14 * 86_400),
    )
    return _text(files.signed("canary", text, tip["time"]))


@bp.route("/robots.txt")
def robots():
    """What the site asks crawlers to leave alone."""
    site: Site = current_app.extensions["site"]
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in ROBOTS.get(site.kind, [])]
    if len(lines) == 1:
        lines.append("Disallow:")
    return _text("\n".join(lines) + "\n")
