"""The USDT issuer's website and law-enforcement portal (Tether, tether.test).

`create_app(world_path, state_dir, tron_live)` serves a public page, the issuer's freeze
policy, a login for the world's requesters (the exchanges' credentials: one agency per
seat, and the instructor's), a request form, and a JSON API under /api/le that takes the
requester's token. An accepted freeze, unfreeze or reissue is carried out on the running
Tron chain (addBlackList; destroyBlackFunds, issue and transfer) after the world's
answer delay. Requests and actions are kept in `<state_dir>/issuer.db` (records.py); each
requester sees only its own requests, the instructor all. `create_replica_app` serves it
from worker processes: reads there, everything else passed to create_app's process.
"""

from __future__ import annotations

from .app import create_app, create_replica_app
from .portal import ISSUER_ID, Portal
from .records import IssuerLog, reference_of

__all__ = ["ISSUER_ID", "IssuerLog", "Portal", "create_app", "create_replica_app", "reference_of"]
