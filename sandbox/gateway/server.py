"""Running the gateway: configuration, both listening ports, and the event-loop thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field

from ..errors import SandboxError
from ..open_files import ensure_open_files, open_files_needed
from ._core import NOOP_SOCKS_FLAGS, GatewayState
from ._http_wire import MAX_HEAD
from .automap import DEFAULT_NETWORK, Automap
from .http_proxy import HttpProxyConnection
from .latency import LatencyModel
from .log import ConnectionLog
from .routes import Routes
from .socks import SocksConnection

__all__ = ["Gateway", "GatewayBindError", "GatewayConfig"]

_logger = logging.getLogger("sandbox.gateway")
_BACKLOG = 1024


class GatewayBindError(SandboxError, OSError):
    """A gateway port could not be opened (typically: the address is already in use)."""


@dataclass
class GatewayConfig:
    """Settings of a gateway; ports 0 pick free ports, ``http_port=None`` disables HTTP."""

    host: str = "127.0.0.1"
    socks_port: int = 9050
    http_port: int | None = 8118
    extended_errors: bool = False
    latency: LatencyModel = field(default_factory=LatencyModel)
    handshake_timeout: float = 5.0
    idle_timeout: float = 300.0
    max_connections: int = 1024
    max_per_client: int = 256  # per SOCKS/proxy user name, or per source address without one
    socks_flags: tuple[str, ...] = ()
    connect_timeout: float = 10.0
    use_uvloop: bool = True
    # Tor's VirtualAddrNetworkIPv4: where RESOLVE's virtual addresses come from.
    virtual_network: str = DEFAULT_NETWORK

    def __post_init__(self) -> None:
        """Validate numbers and SocksPort flags (unknown flags are an error, as in Tor)."""
        for name in ("handshake_timeout", "idle_timeout", "connect_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"GatewayConfig.{name} must be > 0")
        if self.max_connections < 1 or self.max_per_client < 1:
            raise ValueError("GatewayConfig.max_connections and max_per_client must be >= 1")
        Automap(self.virtual_network)  # raises ValueError naming a bad network
        self.socks_flags = tuple(self.socks_flags)
        for flag in self.socks_flags:
            low = flag.lower()
            if low in NOOP_SOCKS_FLAGS or low in _EFFECT_FLAGS:
                continue
            group = low.removeprefix("sessiongroup=")
            if low.startswith("sessiongroup=") and group.isdigit():
                continue
            raise ValueError(f"unrecognized SocksPort flag {flag!r}")

    @property
    def open_files_needed(self) -> int:
        """Descriptors the gateway may hold at its cap: a client and an upstream socket each."""
        return 2 * self.max_connections

    @classmethod
    def from_socks_port(cls, line: str, **settings) -> GatewayConfig:
        """Build a config from a torrc ``SocksPort`` value, e.g. '127.0.0.1:9050 ExtendedErrors'."""
        address, *flags = line.split()
        host, sep, port = address.rpartition(":")
        if not sep:
            host, port = settings.pop("host", "127.0.0.1"), address
        port_number = 0 if port.lower() == "auto" else int(port)
        return cls(
            host=host.strip("[]"), socks_port=port_number, socks_flags=tuple(flags), **settings
        )

    def _flag(self, name: str, default: bool) -> bool:
        """Apply a boolean flag and its 'No' form left to right; the last one wins, as in Tor."""
        value = default
        for flag in self.socks_flags:
            low = flag.lower()
            if low == name:
                value = True
            elif low == "no" + name:
                value = False
        return value

    @property
    def extended_errors_enabled(self) -> bool:
        """True when SOCKS replies use proposal 304's extended onion-service codes."""
        return self._flag("extendederrors", self.extended_errors)

    @property
    def prefer_no_auth(self) -> bool:
        """True when 'no auth' wins over username/password if a client offers both."""
        return self._flag("prefersocksnoauth", False)


_EFFECT_FLAGS = frozenset(
    {"extendederrors", "noextendederrors", "prefersocksnoauth", "noprefersocksnoauth"}
)


class Gateway:
    """The Tor-like client proxy: a SOCKS port and an HTTP proxy port onto ``Routes``."""

    def __init__(
        self,
        routes: Routes,
        config: GatewayConfig | None = None,
        log: ConnectionLog | None = None,
    ):
        """Prepare (not start) a gateway; the log is owned and closed by the caller."""
        self.routes = routes
        self.config = config or GatewayConfig()
        self.log = log
        self._ctx: GatewayState | None = None
        self._socks_server: asyncio.Server | None = None
        self._http_server: asyncio.Server | None = None
        self._http_tasks: set[asyncio.Task] = set()
        self._sweeper: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- addresses -----------------------------------------------------------------

    @staticmethod
    def _address(server: asyncio.Server | None) -> tuple[str, int] | None:
        """Return the (host, port) a server listens on."""
        if server is None or not server.sockets:
            return None
        host, port = server.sockets[0].getsockname()[:2]
        return host, port

    @property
    def socks_address(self) -> tuple[str, int] | None:
        """The (host, port) the SOCKS port actually listens on."""
        return self._address(self._socks_server)

    @property
    def http_address(self) -> tuple[str, int] | None:
        """The (host, port) the HTTP proxy port actually listens on."""
        return self._address(self._http_server)

    @property
    def active_connections(self) -> int:
        """Number of client connections open right now."""
        return len(self._ctx.active) if self._ctx else 0

    # --- async life cycle --------------------------------------------------------------

    async def start(self) -> Gateway:
        """Open both ports on the running loop; raise GatewayBindError if one is taken."""
        if self._socks_server is not None:
            raise RuntimeError("gateway already started")
        cfg = self.config
        ensure_open_files(
            open_files_needed(cfg.open_files_needed),
            f"the gateway (at most {cfg.max_connections} connections)",
            "lower the gateway's max_connections",
        )
        ctx = self._ctx = GatewayState(self.routes, cfg, self.log)
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._socks_server = await self._listen(
            "SOCKS",
            cfg.socks_port,
            loop.create_server(
                lambda: SocksConnection(ctx), cfg.host, cfg.socks_port, backlog=_BACKLOG
            ),
        )
        if cfg.http_port is not None:
            try:
                self._http_server = await self._listen(
                    "HTTP proxy",
                    cfg.http_port,
                    asyncio.start_server(
                        self._http_client, cfg.host, cfg.http_port, limit=MAX_HEAD, backlog=_BACKLOG
                    ),
                )
            except BaseException:
                self._socks_server.close()
                await self._socks_server.wait_closed()
                self._socks_server = None
                raise
        self._sweeper = loop.create_task(self._sweep())
        _logger.info(
            "gateway: SOCKS on %s, HTTP proxy on %s, %d routes",
            self.socks_address,
            self.http_address,
            len(self.routes),
        )
        return self

    async def _listen(self, kind: str, port: int, opening) -> asyncio.Server:
        """Await a server opening; turn a bind failure into a GatewayBindError naming it."""
        try:
            return await opening
        except OSError as exc:
            where = f"{self.config.host}:{port}"
            raise GatewayBindError(
                exc.errno, f"cannot listen on {where} for the {kind} port: {exc.strerror or exc}"
            ) from exc

    async def _http_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        """Serve one HTTP proxy client (tracked so stop() can wait for it)."""
        task = asyncio.current_task()
        self._http_tasks.add(task)  # type: ignore[arg-type]
        try:
            await HttpProxyConnection(self._ctx, reader, writer).run()  # type: ignore[arg-type]
        finally:
            self._http_tasks.discard(task)

    async def _sweep(self) -> None:
        """Periodically abort connections idle past ``idle_timeout``."""
        interval = max(0.05, min(self.config.idle_timeout / 4, 15.0))
        while True:
            await asyncio.sleep(interval)
            if self._ctx is not None:
                self._ctx.sweep_idle(time.monotonic())

    async def aclose(self) -> None:
        """Close both ports and every open connection, on the gateway's loop."""
        servers = [s for s in (self._socks_server, self._http_server) if s is not None]
        for server in servers:
            server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        tasks = set(self._http_tasks)
        if self._ctx is not None:
            tasks.update(
                task
                for conn in self._ctx.active
                if (task := getattr(conn, "task", None)) is not None and not task.done()
            )
            self._ctx.abort_all()
        tasks.discard(asyncio.current_task())
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        for server in servers:
            await server.wait_closed()
        # Let transports finish their connection_lost callbacks (and log rows) before returning.
        for _ in range(3):
            await asyncio.sleep(0)
        self._socks_server = self._http_server = None

    # --- thread life cycle ---------------------------------------------------------------

    def start_in_thread(self, timeout: float = 10.0) -> Gateway:
        """Run the gateway on its own event-loop thread; return once both ports listen."""
        if self._thread is not None:
            raise RuntimeError("gateway already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._thread_main, args=(ready, failure), name="gateway", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"gateway did not start within {timeout} s")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def _thread_main(self, ready: threading.Event, failure: list[BaseException]) -> None:
        """Body of the gateway thread: start, signal, serve until stopped, clean up."""
        loop = _new_event_loop(self.config.use_uvloop)
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # handed to the starting thread
                failure.append(exc)
                return
            finally:
                ready.set()
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 10.0):
        """Stop the gateway: joins its thread, or returns an awaitable when started with start()."""
        thread, loop = self._thread, self._loop
        if thread is None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return None  # never started, or started on a loop this thread cannot reach
            return self.aclose()
        if thread.is_alive() and loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self.aclose(), loop)
            try:
                future.result(timeout)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        return None

    def __enter__(self) -> Gateway:
        """Start in a thread for a ``with`` block."""
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        """Stop at the end of the block."""
        self.stop()

    async def __aenter__(self) -> Gateway:
        """Start on the running loop for an ``async with`` block."""
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        """Stop at the end of the block."""
        await self.aclose()


def _new_event_loop(use_uvloop: bool) -> asyncio.AbstractEventLoop:
    """Return a uvloop loop when wanted and installed, else a stdlib one."""
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()
