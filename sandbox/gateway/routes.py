"""The gateway's routing table: which destination names reach which sandbox upstream.

Only names of the world resolve: v3 ``.onion`` addresses (any subdomain of one is the
same site, as in Tor) and the fake-clearnet ``.test`` names. Everything else -- other
names, ``localhost``, IPv4 and IPv6 literals, unknown ``.test`` names -- is refused, and
no name is ever looked up in DNS: the table is the only source of upstream addresses.

Beside them, the sandbox may serve a few clearnet names itself (``services``: Tor's
check.torproject.org), each with an upstream per port (80 and 443); a connection to one
is a check of the proxy, logged as such, not a way out.

A routed site can be withdrawn (an inject takes it offline) and restored: a withdrawn
onion fails like an unknown one (its descriptor cannot be found); a withdrawn ``.test``
name still resolves but its server refuses connections, as a clearnet host that is down.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sandbox.onion import decode_onion

__all__ = ["Decision", "DecisionKind", "Routes", "is_valid_destination", "normalize_name"]

DecisionKind = Literal["route", "unknown-onion", "bad-address", "refused", "malformed"]

# Tor's string_is_valid_nonrfc_hostname: letters, digits, '-' and '_' in dot-separated labels.
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}\Z")
_MAX_NAME = 255
_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Decision:
    """What the gateway does with one destination name."""

    kind: DecisionKind
    name: str
    reason: str
    upstream: tuple[str, int] | None = None
    site: str | None = None
    # A service of the sandbox's own (check.torproject.org): its upstream for each port.
    ports: Mapping[int, tuple[str, int]] | None = None

    @property
    def service(self) -> bool:
        """True when the name is one the sandbox serves itself (a check, not a world site)."""
        return self.ports is not None

    @property
    def routed(self) -> bool:
        """True when the name reaches an upstream of the sandbox."""
        return self.kind == "route"

    @property
    def is_onion(self) -> bool:
        """True when the destination is a .onion name (valid or not)."""
        return self.name.endswith(".onion")

    @property
    def containment(self) -> bool:
        """True when the attempt left the world (clearnet, IP, localhost) and must be logged."""
        return self.kind == "refused"


def normalize_name(name: str) -> str:
    """Return a destination name lowercased, without brackets or a trailing dot."""
    name = name.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name[:-1] if name.endswith(".") else name


def _ip_literal(name: str) -> str | None:
    """Return 'IPv4' or 'IPv6' when name is an IP literal, else None."""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    return f"IPv{address.version}"


def is_valid_destination(name: str) -> bool:
    """Tell whether a SOCKS/HTTP destination is syntactically a host name or IP literal."""
    name = normalize_name(name)
    if not name or len(name) > _MAX_NAME:
        return False
    if _ip_literal(name):
        return True
    return all(_LABEL.match(label) for label in name.split("."))


class Routes:
    """A replaceable map from world host names to the (host, port) of their upstream server."""

    def __init__(
        self,
        mapping: Mapping[str, tuple[str, int]] | None = None,
        services: Mapping[str, Mapping[int, tuple[str, int]]] | None = None,
    ):
        """Build the table; names are validated and normalized (see ``update``).
        ``services`` maps a clearnet name the sandbox serves to its upstream per port."""
        self._services: dict[str, dict[int, tuple[str, int]]] = {
            normalize_name(name): {
                int(port): self._check_upstream(name, upstream) for port, upstream in ports.items()
            }
            for name, ports in (services or {}).items()
        }
        self._state: tuple[dict[str, tuple[str, int]], frozenset[str], dict[str, Decision]] = (
            {},
            frozenset(),
            {},
        )
        self.update(mapping or {})

    def update(self, mapping: Mapping[str, tuple[str, int]]) -> None:
        """Replace the whole table at once (sites may go offline or come back)."""
        table: dict[str, tuple[str, int]] = {}
        for raw_name, upstream in mapping.items():
            name = normalize_name(raw_name)
            table[self._site_key(raw_name, name)] = self._check_upstream(raw_name, upstream)
        # One reference swap: readers on other threads see the old or the new state, never
        # half; decisions are cached per state, so a replaced table drops its cache with it.
        # Withdrawn sites stay withdrawn across updates until restored.
        self._state = (table, self._state[1], {})

    def _key(self, name: str) -> str:
        """The table key of a routed site name, or raise KeyError."""
        norm = normalize_name(name)
        try:
            key = self._site_key(name, norm)
        except ValueError:
            raise KeyError(name) from None
        if key not in self._state[0]:
            raise KeyError(name)
        return key

    def withdraw(self, name: str) -> None:
        """Take a routed site offline (KeyError if it is not routed); its route is kept."""
        table, withdrawn, _ = self._state
        self._state = (table, withdrawn | {self._key(name)}, {})

    def restore(self, name: str) -> None:
        """Bring a withdrawn site back (KeyError if it is not routed; no-op if it is up)."""
        table, withdrawn, _ = self._state
        self._state = (table, withdrawn - {self._key(name)}, {})

    def withdrawn(self) -> list[str]:
        """The site names currently taken offline, sorted."""
        return sorted(self._state[1])

    @staticmethod
    def _site_key(raw_name: str, name: str) -> str:
        """Return the table key of a configured name, or raise ValueError naming it."""
        if name.endswith(".onion"):
            try:
                decode_onion(name)
            except ValueError as exc:
                raise ValueError(f"route {raw_name!r}: {exc}") from None
            return name.rsplit(".", 2)[-2] + ".onion"
        if name.endswith(".test") and is_valid_destination(name):
            return name
        raise ValueError(f"route {raw_name!r}: only v3 .onion and .test names can be routed")

    @staticmethod
    def _check_upstream(raw_name: str, upstream: tuple[str, int]) -> tuple[str, int]:
        """Return a validated (host, port) upstream, or raise ValueError naming the route."""
        try:
            host, port = upstream
        except (TypeError, ValueError):
            raise ValueError(f"route {raw_name!r}: upstream must be (host, port)") from None
        if not isinstance(host, str) or not host:
            raise ValueError(f"route {raw_name!r}: upstream host must be a non-empty string")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"route {raw_name!r}: upstream port must be 1-65535, got {port!r}")
        return host, port

    def names(self) -> list[str]:
        """Return the routed site names, sorted."""
        return sorted(self._state[0])

    def __len__(self) -> int:
        """Return the number of routed sites."""
        return len(self._state[0])

    def __contains__(self, name: object) -> bool:
        """Tell whether a name resolves to an upstream."""
        return isinstance(name, str) and self.resolve(name).routed

    def resolve(self, name: str) -> Decision:
        """Decide what happens to a connection request for ``name``."""
        table, withdrawn, cache = self._state
        decision = cache.get(name)
        if decision is None:
            decision = self._decide(table, name)
            if decision.site in withdrawn:
                decision = self._offline(decision)
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            cache[name] = decision
        return decision

    def _decide(self, table: dict[str, tuple[str, int]], name: str) -> Decision:
        """Decide for one name against one table (uncached)."""
        norm = normalize_name(name)
        if not is_valid_destination(norm):
            return Decision("malformed", norm, "not a valid host name")
        ip_kind = _ip_literal(norm)
        if ip_kind:
            return Decision("refused", norm, f"{ip_kind} literal: only world names are reachable")
        if norm == "localhost" or norm.endswith(".localhost"):
            return Decision("refused", norm, "localhost is outside the sandbox")
        if norm in self._services:
            ports = self._services[norm]
            return Decision("route", norm, "served by the sandbox", ports.get(80), norm, ports)
        if norm.endswith(".onion"):
            return self._resolve_onion(table, norm)
        if norm.endswith(".test"):
            for key in (norm, norm.removeprefix("www.")):
                if key in table:
                    return Decision("route", norm, "world site", table[key], key)
            return Decision("refused", norm, "unknown .test name: not a site of this world")
        return Decision("refused", norm, "clearnet name: the sandbox has no way out")

    @staticmethod
    def _offline(decision: Decision) -> Decision:
        """The decision for a withdrawn site: descriptor not found (onion) or no upstream."""
        if decision.is_onion:
            return Decision(
                "unknown-onion",
                decision.name,
                "onion service descriptor cannot be found",
                site=decision.site,
            )
        return Decision("route", decision.name, "site offline", None, decision.site)

    @staticmethod
    def _resolve_onion(table: dict[str, tuple[str, int]], norm: str) -> Decision:
        """Decide for a .onion name: route, unknown (Tor descriptor fetch fails) or bad address."""
        labels = norm.split(".")
        if len(labels) < 2:
            return Decision("bad-address", norm, "no onion address before .onion")
        try:
            decode_onion(labels[-2])
        except ValueError as exc:
            return Decision("bad-address", norm, str(exc))
        key = labels[-2] + ".onion"
        if key in table:
            return Decision("route", norm, "onion service of this world", table[key], key)
        return Decision("unknown-onion", norm, "onion service descriptor cannot be found", site=key)
