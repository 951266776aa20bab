"""The gateway: a Tor-like client proxy onto the sandbox's own sites, and nothing else.

::

    trainee tools                      Gateway (server.py)                    sandbox sites
    ─────────────                      ───────────────────                    ─────────────
    curl --socks5-hostname ─┐   ┌─ SOCKS port :9050 (socks.py) ─┐
    requests socks5h://     ├──▶│   SOCKS5 / SOCKS4a, Tor replies ├─┐
    Tor Browser, Chromium  ─┘   │   HTTP here → Tor's 501 page   │ │   Routes (routes.py)
                                │                                │ ├─▶ name → decision ──▶ dial ──▶ x.onion, y.test
    curl --proxy http://   ─┬──▶│ HTTP proxy :8118 (http_proxy.py)│ │   .onion/.test of the world    upstreams
    browsers, wget         ─┘   │   CONNECT + absolute URIs      ├─┘   everything else refused
                                └────────────────────────────────┘
                                   │ LatencyModel (latency.py): circuit delay and failures (off by default)
                                   └▶ ConnectionLog (log.py): SQLite rows per stream + containment events

Only ``Routes`` produces upstream addresses and only ``_core.GatewayState.dial`` connects, to
an upstream taken from a routed ``Decision``: no client-supplied name is ever resolved,
so a clearnet name or IP literal cannot leave the sandbox; it is refused and logged.
Tor's RESOLVE gets a virtual address for a world name (``automap.py``), which a later
CONNECT turns back into the name; the only clearnet name routed is one the sandbox serves
itself (``Routes(services=...)``: Tor's check.torproject.org), logged as a check.

Usage::

    routes = Routes({"<56 chars>.onion": ("127.0.0.1", 5001), "explorer.test": ("127.0.0.1", 5002)})
    with ConnectionLog("gateway.db") as log:
        gateway = Gateway(routes, GatewayConfig(socks_port=9050, http_port=8118), log)
        gateway.start_in_thread()
        ...
        gateway.stop()
"""

from .latency import CircuitPlan, LatencyModel
from .log import ConnectionLog, ConnectionRecord, ContainmentRecord
from .routes import Decision, Routes
from .server import Gateway, GatewayBindError, GatewayConfig

__all__ = [
    "CircuitPlan",
    "ConnectionLog",
    "ConnectionRecord",
    "ContainmentRecord",
    "Decision",
    "Gateway",
    "GatewayBindError",
    "GatewayConfig",
    "LatencyModel",
    "Routes",
]
