"""Virtual addresses for world names, as Tor's ``AutomapHostsOnResolve 1`` hands them out.

A SOCKS RESOLVE of a world name gets an IPv4 address from ``VirtualAddrNetworkIPv4``
(Tor's default 127.192.0.0/10); a later CONNECT to that address reaches the name, and
RESOLVE_PTR of it gives the name back. The same name keeps its address for the life of
the gateway. Addresses are drawn from a hash of the name (probing on a collision), so a
restarted gateway usually hands out the same ones; like Tor, none ends in .0 or .255.
No address leads anywhere but to the name it was made for: only names ``Routes`` routes
are mapped.
"""

from __future__ import annotations

import hashlib
import ipaddress

from .routes import normalize_name

__all__ = ["DEFAULT_NETWORK", "MAX_MAPPED", "Automap"]

DEFAULT_NETWORK = "127.192.0.0/10"  # Tor's VirtualAddrNetworkIPv4 default
# Tor refuses a VirtualAddrNetworkIPv4 smaller than this (config.c, max_bits for IPv4).
_MAX_PREFIX = 16
# Any subdomain of a world onion routes, so a client could ask for names without end;
# past this many the oldest mapping is forgotten (a classroom's browsing never gets near).
MAX_MAPPED = 65536


class Automap:
    """Name <-> virtual IPv4 address, one network, used on the gateway's event loop only."""

    def __init__(self, network: str = DEFAULT_NETWORK, *, max_mapped: int = MAX_MAPPED):
        """Check the network the way Tor checks VirtualAddrNetworkIPv4 (ValueError if bad)."""
        try:
            net = ipaddress.IPv4Network(network, strict=True)
        except ValueError as exc:
            raise ValueError(f"virtual address network {network!r}: {exc}") from None
        if net.prefixlen > _MAX_PREFIX:
            raise ValueError(
                f"virtual address network {network!r}: expects a /{_MAX_PREFIX} network or"
                " larger, as Tor's VirtualAddrNetworkIPv4"
            )
        self.network = net
        self.max_mapped = max_mapped
        self._by_name: dict[str, int] = {}
        self._by_address: dict[int, str] = {}

    def __len__(self) -> int:
        """Number of names mapped."""
        return len(self._by_name)

    def address_for(self, name: str) -> str:
        """The virtual address of a (routed) name, handed out on first use."""
        name = normalize_name(name)
        address = self._by_name.get(name)
        if address is None:
            if len(self._by_name) >= self.max_mapped:
                oldest = next(iter(self._by_name))
                del self._by_address[self._by_name.pop(oldest)]
            address = self._free_slot(name)
            self._by_name[name] = address
            self._by_address[address] = name
        return str(ipaddress.IPv4Address(address))

    def _free_slot(self, name: str) -> int:
        """The first free, usable address at or after the name's hash position."""
        base = int(self.network.network_address)
        size = self.network.num_addresses
        start = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % size
        for step in range(size):
            address = base + (start + step) % size
            if address & 0xFF in (0, 255) or address in self._by_address:
                continue
            return address
        raise RuntimeError("virtual address network is full")  # max_mapped prevents it

    def name_for(self, address: str) -> str | None:
        """The name a virtual address was handed out for, or None."""
        try:
            ip = ipaddress.IPv4Address(normalize_name(address))
        except ValueError:
            return None
        return self._by_address.get(int(ip))

    def __contains__(self, address: object) -> bool:
        """Tell whether an address lies in the virtual network (mapped or not)."""
        if not isinstance(address, str):
            return False
        try:
            return ipaddress.IPv4Address(normalize_name(address)) in self.network
        except ValueError:
            return False


def ptr_address(name: str) -> str | None:
    """The IPv4 address a RESOLVE_PTR target names: a literal or 'd.c.b.a.in-addr.arpa'."""
    name = normalize_name(name)
    if name.endswith(".in-addr.arpa"):
        parts = name.removesuffix(".in-addr.arpa").split(".")
        name = ".".join(reversed(parts))
    try:
        return str(ipaddress.IPv4Address(name))
    except ValueError:
        return None
