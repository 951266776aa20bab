"""Server-side leaks: Apache mod_status pages, open directory listings, IP addresses.

`/server-status` names the real server ("Apache Server Status for <ip>"), and its worker
table shows the virtual hosts the same machine serves and the clients it talks to; the
machine-readable `?auto` form starts with the server's name. An Apache "Index of /..."
page lists files nobody meant to publish. Any other IPv4 address in a page (a config
backup, a note) is reported as `ip`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from .base import Artefact, Document, snippet

STATUS_TITLE = re.compile(r"Apache Server Status for\s+([^\s<(]+)", re.I)
IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)"
)
INDEX_TITLE = re.compile(r"^\s*Index of\s+(/\S*)", re.I)


def find(doc: Document) -> Iterator[Artefact]:
    """Server-status leaks, directory listings and IP addresses of the document."""
    if not doc.is_text:
        return
    if _is_status(doc):
        yield from _server_status(doc)
        return
    yield from _directory(doc)
    text = doc.plain
    for match in IPV4.finditer(text):
        info = _ip_info(match.group(0))
        if info is None:
            continue
        yield Artefact(
            "ip", match.group(0), match.group(0), snippet(text, match.start(), match.end()), info
        )


def _ip_info(value: str) -> dict | None:
    """What an IPv4 address is (None for ones that identify nothing: 0.x, loopback...)."""
    try:
        ip = ipaddress.IPv4Address(value)
    except ValueError:
        return None
    if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_link_local:
        return None
    if int(ip) >> 24 == 0 or ip == ipaddress.IPv4Address("255.255.255.255"):
        return None
    return {"private": ip.is_private and not _documentation(ip)}


def _documentation(ip: ipaddress.IPv4Address) -> bool:
    """Whether the address is in a documentation range (which the sandbox uses as public)."""
    return any(
        ip in ipaddress.IPv4Network(net)
        for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
    )


def _is_status(doc: Document) -> bool:
    """Whether the document is Apache's mod_status page (HTML or ?auto)."""
    head = doc.raw[:3000]
    return bool(STATUS_TITLE.search(head)) or (
        "ServerVersion:" in head and "Scoreboard:" in doc.raw
    )


def _server_status(doc: Document) -> Iterator[Artefact]:
    """The server's address, its virtual hosts and its clients, from mod_status."""
    match = STATUS_TITLE.search(doc.raw)
    if match:
        server = match.group(1)
        context = snippet(doc.raw, match.start(), match.end(), 10)
    else:
        server = doc.raw.strip().splitlines()[0].strip()
        context = f"{server} (first line of server-status?auto)"
    version = re.search(r"Server ?Version:\s*([^<\n]+)", doc.raw)
    vhosts, clients = _workers(doc)
    yield Artefact(
        "server_ip",
        server,
        server.lower(),
        context,
        {
            "source": "server-status",
            "server_version": version.group(1).strip() if version else None,
            "vhosts": sorted(vhosts),
            "clients": sorted(clients),
        },
    )
    for vhost, ports in sorted(vhosts.items()):
        yield Artefact(
            "vhost",
            vhost,
            vhost.lower(),
            f"VHost {vhost} served by {server} (server-status)",
            {"server": server, "ports": sorted(ports)},
        )
    for client in sorted(clients):
        yield Artefact(
            "client_ip",
            client,
            client,
            f"client {client} of {server} (server-status)",
            {"server": server},
        )


def _workers(doc: Document) -> tuple[dict[str, set[int]], set[str]]:
    """Virtual hosts (with ports) and non-loopback client addresses of the worker table."""
    vhosts: dict[str, set[int]] = {}
    clients: set[str] = set()
    if doc.soup is None:
        return vhosts, clients
    for table in doc.soup.find_all("table"):
        header = [th.get_text(strip=True) for th in table.find_all("th")]
        if "VHost" not in header or "Client" not in header:
            continue
        vhost_col, client_col = header.index("VHost"), header.index("Client")
        for row in table.find_all("tr"):
            cells = [td.get_text(strip=True) for td in row.find_all("td")]
            if len(cells) <= max(vhost_col, client_col):
                continue
            host, _, port = cells[vhost_col].rpartition(":")
            if not host:
                host, port = cells[vhost_col], ""
            if host:
                vhosts.setdefault(host, set()).update([int(port)] if port.isdigit() else [])
            client = cells[client_col]
            if IPV4.fullmatch(client) and _ip_info(client) is not None:
                clients.add(client)
    return vhosts, clients


def _directory(doc: Document) -> Iterator[Artefact]:
    """An Apache (or nginx) "Index of /path" listing and the files in it."""
    if doc.soup is None:
        return
    title = doc.soup.title.get_text() if doc.soup.title else ""
    heading = doc.soup.find("h1")
    match = INDEX_TITLE.match(title) or INDEX_TITLE.match(heading.get_text() if heading else "")
    if not match:
        return
    files = []
    for link in doc.soup.find_all("a", href=True):
        href, name = str(link["href"]), link.get_text(strip=True)
        if href.startswith(("?", "/")) or name.lower() == "parent directory" or href == "../":
            continue
        row = link.find_parent("tr")
        cells = [td.get_text(" ", strip=True) for td in row.find_all("td")] if row else []
        files.append({"name": name, "href": href, "row": " | ".join(c for c in cells if c)})
    yield Artefact(
        "open_directory",
        f"Index of {match.group(1)}",
        f"{doc.host}{match.group(1)}",
        f"Index of {match.group(1)} on {doc.host}: {', '.join(f['name'] for f in files[:8])}",
        {"path": match.group(1), "files": files},
    )
