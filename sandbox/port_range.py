"""`--site-ports A-B`: the range the sites' internal ports are taken from.

A classroom firewall or a container's published range may allow only some ports; the
sites, reached only through the gateway, then listen on the first free ports of the range.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from .errors import SandboxError


class PortRangeError(SandboxError, ValueError):
    """A port range that is malformed or has too few free ports."""


@dataclass(frozen=True)
class PortRange:
    """Ports first..last, both included."""

    first: int
    last: int

    @classmethod
    def parse(cls, text: str) -> PortRange:
        """'20000-20099' -> PortRange(20000, 20099), or PortRangeError saying what is wrong."""
        low, dash, high = text.partition("-")
        if not dash or not low.strip().isdigit() or not high.strip().isdigit():
            raise PortRangeError(f"port range {text!r}: expected A-B, e.g. 20000-20099")
        first, last = int(low), int(high)
        if not 1 <= first <= last <= 65535:
            raise PortRangeError(f"port range {text!r}: need 1 <= A <= B <= 65535")
        return cls(first, last)

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"

    def __len__(self) -> int:
        return self.last - self.first + 1


class PortAllocator:
    """Hands out listening sockets: on free ports of a range, or on any free port."""

    def __init__(self, ports: PortRange | None = None):
        self.ports = ports
        self._next = ports.first if ports else 0

    def listen(self, host: str, label: str, backlog: int = 1024) -> socket.socket:
        """A socket listening on host at the next free port (of the range, if any)."""
        return self.bind(host, label, lambda h, p: socket.create_server((h, p), backlog=backlog))

    def bind(self, host: str, label: str, server_factory):
        """server_factory(host, port) at the next free port of the range (else port 0).

        label names what it is for in the error when the range is used up.
        """
        if self.ports is None:
            return server_factory(host, 0)
        while self._next <= self.ports.last:
            port = self._next
            self._next += 1
            try:
                return server_factory(host, port)
            except OSError as e:
                if e.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
        raise PortRangeError(f"--site-ports {self.ports}: no free port left for {label}")
