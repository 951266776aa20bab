"""Reads of the local chain index as a money graph: outputs, the inputs that spend them, txs."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

__all__ = ["ChainGraph", "Output", "TxInfo"]


@dataclass(frozen=True, slots=True)
class Output:
    """One output of a transaction."""

    tx_id: int
    n: int
    value: int
    address_id: int | None


@dataclass(frozen=True, slots=True)
class TxInfo:
    """A transaction's place in the chain."""

    id: int
    txid: str
    height: int
    time: int
    n_in: int
    n_out: int
    fee: int | None
    equal_outputs: int


class ChainGraph:
    """Cached lookups on the chain tables of a case."""

    def __init__(self, conn: sqlite3.Connection):
        """Read through conn."""
        self.conn = conn
        self._addresses: dict[int, str] = {}
        self._txs: dict[int, TxInfo] = {}

    def tx(self, tx_id: int) -> TxInfo:
        """A transaction by index id."""
        info = self._txs.get(tx_id)
        if info is None:
            row = self.conn.execute(
                "SELECT t.id, t.txid, t.height, b.time, t.n_in, t.n_out, t.fee, t.equal_outputs "
                "FROM chain_txs t JOIN chain_blocks b ON b.height = t.height WHERE t.id = ?",
                (tx_id,),
            ).fetchone()
            info = TxInfo(*row)
            self._txs[tx_id] = info
        return info

    def txid(self, tx_id: int) -> str:
        """A transaction's txid."""
        return self.tx(tx_id).txid

    def address(self, address_id: int | None) -> str | None:
        """An address by id."""
        if not address_id:
            return None
        text = self._addresses.get(address_id)
        if text is None:
            row = self.conn.execute(
                "SELECT address FROM chain_addresses WHERE id = ?", (address_id,)
            ).fetchone()
            text = row[0]
            self._addresses[address_id] = text
        return text

    def outputs(self, tx_id: int) -> list[Output]:
        """A transaction's outputs, in order."""
        return [
            Output(tx_id, n, v, a)
            for n, v, a in self.conn.execute(
                "SELECT n, value, address_id FROM chain_outputs WHERE tx_id = ? ORDER BY n",
                (tx_id,),
            )
        ]

    def inputs(self, tx_id: int) -> list[Output]:
        """The outputs a transaction spends, in input order (empty for a coinbase)."""
        return [
            Output(p, pn, v, a)
            for p, pn, v, a in self.conn.execute(
                "SELECT prev_tx_id, prev_n, value, address_id FROM chain_inputs WHERE tx_id = ? "
                "ORDER BY n",
                (tx_id,),
            )
        ]

    def spenders(self, tx_id: int) -> dict[int, int]:
        """Output number -> the id of the transaction spending it, for a tx's spent outputs."""
        return dict(
            self.conn.execute(
                "SELECT prev_n, tx_id FROM chain_inputs WHERE prev_tx_id = ?", (tx_id,)
            ).fetchall()
        )

    def received(self, address_id: int) -> list[Output]:
        """Every output paying an address, in chain order."""
        return [
            Output(t, n, v, address_id)
            for t, n, v in self.conn.execute(
                "SELECT tx_id, n, value FROM chain_outputs WHERE address_id = ? ORDER BY tx_id, n",
                (address_id,),
            )
        ]

    def spending_txs(self, address_id: int) -> list[int]:
        """The transactions that spend from an address, in chain order."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT tx_id FROM chain_inputs WHERE address_id = ? ORDER BY tx_id",
                (address_id,),
            )
        ]
