"""Exceptions of the sandbox engine (sandbox/ and the marketplaces it serves), as one tree.

The root and the errors of the scenario-to-world pipeline are defined here, the others in
the module that raises them (`module:` below: a module of sandbox, or of marketplaces when
it says so). All derive from SandboxError, so `except SandboxError` catches whatever the
engine refuses on purpose; those marked "also" are a builtin error too, as they always were.

SandboxError                  every error the engine raises on purpose
├── ScenarioError             a scenario file is missing, unreadable or invalid;
│                             .problems lists every Problem(file, line, path, message)
├── WorldError                a world file is missing, not a world, or of another version
├── BuildError                the builder could not make the world the scenario asks for
├── CheckError                `sandbox check` cannot run: no objectives, no or a broken
│                             reference solution, an unknown seat
├── InjectError               an inject could not be fired (unknown id or seat, a site that
│                             is not running, an actor without coins...); nothing recorded
├── BundleError               bundle: an offline bundle could not be written
├── TorError                  tor.network: the private Tor network could not be set up
│   └── TorNotInstalled       tor.network: the `tor` or `tor-gencert` program is missing
├── OpenFilesLimitError       open_files: the hard open-files limit is below what the
│                             connection caps need; also an OSError
├── PortRangeError            port_range: a --site-ports range that is malformed or has too
│                             few free ports; also a ValueError
├── WorkersError              workers.supervisor: the sites' gunicorn master exited before
│                             its workers were ready (the log's last lines say why); also
│                             an OSError
├── InvalidAddress            ledger.codec.errors: not a valid mainnet Bitcoin address;
│                             also a ValueError
├── InvalidTronAddress        tron.errors: not a Tron address (T... or 41...); also a
│                             ValueError
├── TronRejected              tron.errors: the Tron node refuses a transaction; .code is
│                             java-tron's return code (SIGERROR, CONTRACT_VALIDATE_ERROR...)
├── TronNotReady              tron.live.chain: a node worker found tron.db not yet the
│                             world's (the node's own process is starting: a 503)
├── LeaderUnavailable         leader: a worker process could not reach its service's own
│                             process (starting or restarting: a 503)
├── InsufficientFunds         ledger.sim.economy: a wallet cannot pay what is asked yet
├── NoFunds                   tron.sim.economy: a Tron address cannot pay what is asked yet
│                             (the story tries again later)
├── LiveChainNotReady         ledger.live.chain: an explorer worker found chain.db not yet
│                             the world's (the explorer's own process is starting: a 503)
├── BroadcastError            ledger.live.mempool: the mempool refuses a transaction; .code is
│                             bitcoind's RPC error code
├── NotFound                  explorer.models: the chain does not have it (a 404); also a
│                             LookupError
├── BadRequest                explorer.models: a malformed identifier (a 400); also a
│                             ValueError
├── NodeRequestError          tronnode.wallet: a request the Tron node cannot read (answered
│                             java-tron's {"Error": ...}); also a ValueError
├── GridError                 tronnode.grid: a TronGrid query with a bad parameter (a 400);
│                             also a ValueError
├── BadQuery                  tronscan.reader: a malformed search, filter or parameter of
│                             the Tron explorer (a 400 naming it)
├── SeatTaken                 classroom.progress: the seat is bound to another browser
├── SubmitError               classroom.progress: a submission or hint refused; .status is
│                             its HTTP status
├── GatewayBindError          gateway.server: a gateway port could not be opened; also an
│                             OSError
├── HttpError                 gateway._http_wire: a request the HTTP proxy cannot handle;
│                             .status and .title make the error page
├── SocksError                gateway._socks_wire: a malformed or unsupported SOCKS
│                             message; .reply is sent before closing
├── _Failure                  gateway.http_proxy: a proxied request that ends with an error
│                             page (caught inside its module)
├── _TooBig                   scenario.loader: a YAML tree beyond the size limit (caught
│                             inside its module, reported as a ScenarioError)
├── _Revert                   tron.usdt: a failed `require` of the USDT contract (caught
│                             inside its module: the call's result is REVERT)
├── _Invalid                  tron.usdt: a failed SafeMath `assert` (caught inside its
│                             module: ILLEGAL_OPERATION)
├── HandleTaken               marketplaces.common.state: a registration under a handle
│                             already used; also a ValueError
└── PayoutError               marketplaces.swap.watcher: a swap payout the service cannot
                              make (caught inside its module: the order's status says so)
"""

from __future__ import annotations

from dataclasses import dataclass


class SandboxError(Exception):
    """Base class of the engine's own errors."""


@dataclass(frozen=True)
class Problem:
    """One mistake in a scenario file, at a line and a dotted field path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        """Render as FILE:LINE: path.to.field: message."""
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class ScenarioError(SandboxError):
    """A scenario that cannot be used; every problem found is listed."""

    def __init__(self, problems: list[Problem]):
        """Keep the problems, sorted by line."""
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class WorldError(SandboxError):
    """A world file that cannot be opened as a world."""


class BuildError(SandboxError):
    """The builder could not make the world the scenario asks for."""


class CheckError(SandboxError):
    """A solvability check that cannot run at all (not one whose objectives fail)."""


class InjectError(SandboxError):
    """An inject that could not be fired; it was not recorded as fired."""
