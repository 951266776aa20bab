"""The hidden services served by gunicorn worker processes, supervised by `sandbox up`.

`SiteWorkers(world, state, sites).start()` opens a port per site and starts a gunicorn
master (`python -m sandbox.workers`) whose workers serve them all, and the sandbox's own
services given their ports (`services=`: the Tron node, the explorer, the Tron
explorer, the classroom and the issuer, each passing what it cannot answer to its own process, sandbox.leader);
`record.describe(state)` is what `sandbox status` reports of them.
"""

from .record import describe
from .supervisor import (
    CLASSROOM,
    EXPLORER,
    ISSUER,
    SERVICES,
    TRON_EXPLORER,
    TRON_NODE,
    SiteWorkers,
    WorkersError,
    default_workers,
)

__all__ = [
    "CLASSROOM",
    "EXPLORER",
    "ISSUER",
    "SERVICES",
    "TRON_EXPLORER",
    "TRON_NODE",
    "SiteWorkers",
    "WorkersError",
    "default_workers",
    "describe",
]
