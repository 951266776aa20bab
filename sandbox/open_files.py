"""The process's open-files limit (RLIMIT_NOFILE), raised to what the servers' caps need.

A stock shell gives 1024 open files; the gateway alone holds two per relayed connection,
and a site's server one per connection it serves. Past the limit every accept() and every
SQLite open fails with EMFILE, for every trainee at once.
"""

from __future__ import annotations

import errno

from .errors import SandboxError

try:
    import resource
except ImportError:  # Windows: no RLIMIT_NOFILE to raise
    resource = None  # type: ignore[assignment]

# Files the process opens besides connections: the world and state databases (with their
# WAL and shm files, per thread), templates, logs, the listening sockets.
RESERVE = 256


class OpenFilesLimitError(SandboxError, OSError):
    """The hard open-files limit is below what the configured connection caps need."""


def open_files_needed(connections: int) -> int:
    """Files for ``connections`` sockets open at once, plus the process's reserve."""
    return connections + RESERVE


def ensure_open_files(needed: int, what: str, lower: str | None = None) -> int:
    """Raise the soft open-files limit to ``needed``; return the limit now in force.

    Raises OpenFilesLimitError naming the numbers, how to raise the hard limit, and
    ``lower`` (the option that needs fewer files) when the hard limit is too low.
    """
    if resource is None:
        return needed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise OpenFilesLimitError(
            errno.EMFILE,
            f"{what} needs {needed} open files but the hard limit is {hard}: raise it "
            f"(`ulimit -Hn {needed}` as root, LimitNOFILE= in a systemd unit, --ulimit "
            f"nofile={needed} for docker)" + (f" or {lower}" if lower else ""),
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed
