"""The hidden services served by gunicorn worker processes, supervised by `sandbox up`.

`SiteWorkers(world, state, sites).start()` opens a port per site and starts a gunicorn
master (`python -m sandbox.workers`) whose workers serve them all, and the Tron node's
reads when given its port (`tron_node=`, sandbox.tronnode.replica); `record.describe(state)`
is what `sandbox status` reports of them.
"""

from .record import describe
from .supervisor import SiteWorkers, WorkersError, default_workers

__all__ = ["SiteWorkers", "WorkersError", "default_workers", "describe"]
