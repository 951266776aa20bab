"""Tying sites and personas together by the artefacts they share.

Two sites showing the same PGP key (or signing with it), the same email, username,
Bitcoin address, analytics id, server IP or camera serial are likely run by the same
person. `correlate(case)` finds every artefact seen on two or more sites, names the
personas (handles) it was seen with, keeps the evidence (which captured URL, when, with
which SHA-256 and context) and groups the sites and personas so linked into clusters.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

from .case import Case
from .extract import artefacts, extract

# Family -> the artefact kinds compared together (a key signs as itself; an IP leaked by
# server-status is the same machine as one left in a config backup).
FAMILIES = {
    "pgp_key": ("pgp_key", "pgp_signature"),
    "email": ("email",),
    "username": ("username",),
    "btc_address": ("btc_address",),
    "xmr_address": ("xmr_address",),
    "eth_address": ("eth_address",),
    "analytics_id": ("analytics_id",),
    "server_ip": ("server_ip", "ip"),
    "camera_serial": ("camera_serial",),
    "phone": ("phone",),
    "telegram": ("telegram",),
    "session_id": ("session_id",),
    "xmpp": ("xmpp",),
    "wickr": ("wickr",),
}
# Username sightings that say "this page belongs to that handle", not just mention it.
PROFILE_SOURCES = {"url", "structure", "pgp_uid"}
IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.I)

SCHEMA = """
CREATE TABLE IF NOT EXISTS correlations (
    id INTEGER PRIMARY KEY,
    family TEXT NOT NULL,
    value TEXT NOT NULL,
    strength TEXT NOT NULL,       -- strong | weak (a username only mentioned or linked)
    sites TEXT NOT NULL,          -- JSON list
    personas TEXT NOT NULL,       -- JSON list of handle@site
    evidence TEXT NOT NULL,       -- JSON list of sightings
    computed_at REAL NOT NULL
);
"""


@dataclass
class Link:
    """One artefact shared by several sites, with every sighting as evidence."""

    family: str
    value: str
    sites: list[str]
    personas: list[str]
    strength: str
    evidence: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return {
            "family": self.family,
            "value": self.value,
            "strength": self.strength,
            "sites": self.sites,
            "personas": self.personas,
            "evidence": self.evidence,
        }


@dataclass
class Correlation:
    """Every link found, and the clusters of sites and personas they join."""

    links: list[Link]
    clusters: list[dict]

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"links": [link.as_dict() for link in self.links], "clusters": self.clusters}

    def linking(self, *names: str) -> list[Link]:
        """The links that join all the given sites or personas (a host, or handle@host)."""
        return [
            link for link in self.links if all(n in link.sites or n in link.personas for n in names)
        ]


def stored_correlations(case: Case) -> list[dict]:
    """The links the last `correlate` stored, weakest last: family, value, strength, sites,
    personas, evidence (each sighting's site, URL, capture, time and SHA-256)."""
    case.ensure(SCHEMA)
    out = []
    for r in case.conn.execute("SELECT * FROM correlations ORDER BY strength, family, value"):
        out.append(
            {
                "family": r["family"],
                "value": r["value"],
                "strength": r["strength"],
                "sites": json.loads(r["sites"]),
                "personas": json.loads(r["personas"]),
                "evidence": json.loads(r["evidence"]),
                "computed_at": r["computed_at"],
            }
        )
    return out


def correlate(case: Case, *, families: list[str] | None = None, min_sites: int = 2) -> Correlation:
    """Link sites and personas sharing an artefact (new captures are extracted first)."""
    extract(case)
    chosen = {f: FAMILIES[f] for f in (families or FAMILIES) if f in FAMILIES}
    kind_family = {kind: family for family, kinds in chosen.items() for kind in kinds}
    rows = artefacts(case, list(kind_family))
    if "server_ip" in chosen:
        rows += _hosted(case)
    personas = _personas(case)
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        family = kind_family[row["kind"]]
        groups[(family, row["normalized"])].append(row)
    links = []
    for (family, value), sightings in sorted(groups.items()):
        sites = sorted({_site(r) for r in sightings})
        if len(sites) < min_sites:
            continue
        evidence = [_evidence(r, personas) for r in sightings]
        who = sorted({p for e in evidence for p in e["personas"]})
        if family == "username":
            who = sorted(set(who) | {f"{value}@{site}" for site in _profile_sites(sightings)})
        links.append(Link(family, value, sites, who, _strength(family, sightings), evidence))
    result = Correlation(links, _clusters(links))
    _store(case, links)
    return result


def _hosted(case: Case) -> list[dict]:
    """The server IP as seen "on" each virtual host its server-status lists (same machine)."""
    out = []
    for row in artefacts(case, "vhost"):
        server, vhost = row["details"].get("server"), row["normalized"]
        if server and vhost not in (row["host"], server) and not vhost[0].isdigit():
            details = {**row["details"], "site": vhost, "source": "server-status vhost"}
            out.append({**row, "kind": "server_ip", "normalized": server, "details": details})
    return out


def _site(row: dict) -> str:
    """The site an artefact belongs to: where it was seen, or where a profile link points."""
    return row["details"].get("site") or row["host"]


def _profile_sites(sightings: list[dict]) -> set[str]:
    """Sites where a username was seen as a profile (URL, labelled field, key user id)."""
    return {
        _site(r)
        for r in sightings
        if PROFILE_SOURCES & set(r["details"].get("sources", [r["details"].get("source")]))
    }


def _strength(family: str, sightings: list[dict]) -> str:
    """Strong, unless the link rests on usernames only mentioned or linked to somewhere."""
    if family != "username":
        return "strong"
    return "strong" if len(_profile_sites(sightings)) >= 2 else "weak"


def _personas(case: Case) -> dict[int, list[str]]:
    """Capture id -> the handles (handle@site) its page, or the photo, belongs to."""
    owners: dict[int, set[str]] = defaultdict(set)
    linked: dict[int, set[str]] = defaultdict(set)
    for row in artefacts(case, "username"):
        sources = set(row["details"].get("sources", [row["details"].get("source")]))
        persona = f"{row['normalized']}@{row['host']}"
        if sources & {"url", "structure", "pgp_uid"}:
            owners[row["capture_id"]].add(persona)
        elif "link" in sources and row["details"].get("site") == row["host"]:
            linked[row["capture_id"]].add(persona)
    # A page linking to one profile only (a listing, a single post) is that person's page.
    for capture_id, handles in linked.items():
        if capture_id not in owners and len(handles) == 1:
            owners[capture_id] = set(handles)
    # A photo belongs to whoever owns the pages that show it.
    for image_id, page_ids in _image_pages(case).items():
        shown_by = set().union(*(owners.get(p, set()) for p in page_ids))
        if image_id not in owners and shown_by:
            owners[image_id] = shown_by
    return {k: sorted(v) for k, v in owners.items()}


def _image_pages(case: Case) -> dict[int, set[int]]:
    """Image capture id -> ids of the captured pages that show it."""
    images = {
        row["url"]: row["id"]
        for row in case.conn.execute(
            "SELECT id, url FROM captures WHERE content_type LIKE 'image/%'"
        )
    }
    shown: dict[int, set[int]] = defaultdict(set)
    if not images:
        return shown
    for row in case.conn.execute(
        "SELECT id, url, body FROM captures WHERE content_type LIKE 'text/html%'"
    ):
        for src in IMG_SRC.findall(row["body"].decode("utf-8", "replace")):
            image_id = images.get(urljoin(row["url"], html.unescape(src)))
            if image_id is not None:
                shown[image_id].add(row["id"])
    return shown


def _evidence(row: dict, personas: dict[int, list[str]]) -> dict:
    """One sighting as evidence: where, when, which capture, what was around it."""
    return {
        "site": _site(row),
        "url": row["url"],
        "capture_id": row["capture_id"],
        "fetched_at": datetime.fromtimestamp(row["fetched_at"], UTC).isoformat(),
        "sha256": row["sha256"],
        "kind": row["kind"],
        "value": row["value"],
        "context": row["context"],
        "personas": personas.get(row["capture_id"], []),
    }


def _nodes(link: Link) -> set[str]:
    """What a link joins: the personas of its sightings, or their sites when unknown."""
    if link.family == "username":
        return {f"{link.value}@{site}" for site in link.sites}
    return {node for e in link.evidence for node in (e["personas"] or [e["site"]])}


def _clusters(links: list[Link]) -> list[dict]:
    """Personas (or sites, where no persona is known) joined by strong links, grouped."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        """The representative of a node's group."""
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    strong = [(link, sorted(_nodes(link))) for link in links if link.strength == "strong"]
    for _, nodes in strong:
        for node in nodes[1:]:
            parent[root(node)] = root(nodes[0])
    groups: dict[str, dict] = {}
    for link, nodes in strong:
        group = groups.setdefault(root(nodes[0]), {"members": set(), "sites": set(), "via": []})
        group["members"].update(nodes)
        group["sites"].update(link.sites)
        group["via"].append(f"{link.family}:{link.value}")
    return [
        {
            "members": sorted(g["members"]),
            "sites": sorted(g["sites"]),
            "via": sorted(set(g["via"])),
        }
        for g in sorted(groups.values(), key=lambda g: (-len(g["members"]), sorted(g["members"])))
    ]


def _store(case: Case, links: list[Link]) -> None:
    """Keep the latest correlation in the case, for reports."""
    case.ensure(SCHEMA)
    now = time.time()
    conn = case.conn
    conn.execute("BEGIN")
    try:
        conn.execute("DELETE FROM correlations")
        conn.executemany(
            "INSERT INTO correlations (family, value, strength, sites, personas, evidence,"
            " computed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    link.family,
                    link.value,
                    link.strength,
                    json.dumps(link.sites),
                    json.dumps(link.personas),
                    json.dumps(link.evidence),
                    now,
                )
                for link in links
            ],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
