"""Each exchange's website and law-enforcement request portal.

`create_app(world_path, site_id, state_dir)` serves one exchange of a world: a public home
page, its law-enforcement policy, a login for the world's requesters (one agency per seat,
and the instructor's), a request form whose answers come from what the exchange knows (its
deposit and hot wallets on both chains, its customers' KYC, BTC, USDT and TRX deposits and
withdrawals, and logins; a subject is a Bitcoin or Tron address or a txid), an append-only
audit log in `<state_dir>/exchanges.db` with JSON and PDF downloads, and a JSON API under
/api/le that takes the requester's token. Each requester sees only its own requests; the
instructor sees all. `is_frozen` tells the ledger which accounts were frozen.

Any number of processes may serve one exchange over the same state_dir, each with its own
create_app: sessions, the request log and freezes are in exchanges.db, the session key
in `exchanges.secret` (written once), and a process other than the Tron node's reads
the live Tron chain through a TronReplica.
"""

from __future__ import annotations

from .app import create_app
from .audit import is_frozen

__all__ = ["create_app", "is_frozen"]
