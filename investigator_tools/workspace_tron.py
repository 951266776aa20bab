"""Tron on the workspace's money graph: addresses and transactions of the case's Tron index.

A Tron address is a `tron` node, a Tron transaction a `tron_tx` node; links carry USDT or
TRX (both in 6-decimal units) and their asset, in the same tables as Bitcoin's
(`workspace`). Expanding an address draws, for each asset and each way, its largest
counterparties by value and folds the rest; each drawn address gets the Tron explorer's
public tag (`TronLabels`: exchange hot wallets, the issuer's treasury, OTC desks) and its
blacklist state. What an address is (balances, first funder, blacklist) comes from
`tron.analysis.address_summary`, traces from `tron.analysis.trace`.
"""

from __future__ import annotations

from .case import Case
from .chain.store import ensure_tron_schema
from .errors import InputError
from .tron.analysis import ASSETS, address_summary, is_tron_target, require_tron
from .tron.labels import TronLabels
from .tron.node import TronNode
from .workspace import (
    MAX_DRAWN,
    ensure_tables,
    node_kind,
    put_edge,
    put_node,
    put_node_if_new,
    record_trace,
    writing,
)

__all__ = ["add_tron_target", "add_tron_trace", "expand_tron", "is_tron_tx"]


def is_tron_tx(case: Case, txid: str) -> bool:
    """Whether a txid is in the case's Tron index."""
    ensure_tron_schema(case)
    return (
        case.conn.execute("SELECT 1 FROM tron_txs WHERE txid = ?", (txid.lower(),)).fetchone()
        is not None
    )


def _blacklisted(case: Case, address: str, labels: TronLabels) -> bool:
    """Whether the issuer's blacklist holds the address: its last event in the index, or
    the explorer's red tag."""
    last = case.conn.execute(
        "SELECT event FROM tron_blacklist WHERE address = ? AND event != 'DestroyedBlackFunds' "
        "ORDER BY tx_id DESC, idx DESC LIMIT 1",
        (address,),
    ).fetchone()
    return bool(last and last[0] == "AddedBlackList") or labels.blacklisted.get(address, False)


def _address_data(summary: dict) -> dict:
    """What a Tron address node shows: balances, activity, first funder, blacklist."""
    data = {
        "chain": "tron",
        "usdt": summary["usdt"],
        "trx": summary["trx"],
        "transactions": summary["transactions"],
        "first_seen": summary["first_seen_ms"] // 1000 if summary["first_seen_ms"] else None,
        "last_seen": summary["last_seen_ms"] // 1000 if summary["last_seen_ms"] else None,
        "first_funder": summary["first_funder"],
        "blacklisted": summary["blacklisted"],
    }
    if summary.get("node"):
        data["node"] = summary["node"]
    return data


def _tx_data(case: Case, txid: str) -> dict:
    """What a Tron transaction node shows (InputError when the index does not have it)."""
    row = case.conn.execute(
        "SELECT txid, block, timestamp, type, result FROM tron_txs WHERE txid = ?",
        (txid.lower(),),
    ).fetchone()
    if row is None:
        raise InputError(f"transaction {txid} is not in the case's Tron index (sync first?)")
    return {
        "chain": "tron",
        "block": row["block"],
        "time": row["timestamp"] // 1000,
        "type": row["type"],
        "result": row["result"],
    }


def add_tron_target(
    case: Case, text: str, labels: TronLabels, node: TronNode | None = None
) -> dict:
    """Put a Tron address or transaction of the case's Tron index on the graph."""
    require_tron(case)
    ensure_tables(case)
    value = text.strip()
    if is_tron_target(value):
        summary = address_summary(case, value, labels, node)
        item = {"id": summary["address"], "kind": "tron"}
        data = _address_data(summary)
    else:
        item = {"id": value.lower(), "kind": "tron_tx"}
        data = _tx_data(case, value)
    with writing(case):
        put_node(case, item["id"], item["kind"], data, merge=True)
    return item


def _parties(case: Case, node_id: str, kind: str) -> dict:
    """{(side, asset): {party: [amount, [[time, amount], ...]]}} of an address or a tx."""
    if kind == "tron":
        rows = case.conn.execute(
            "SELECT f.from_address, f.to_address, f.asset, f.amount, t.timestamp "
            "FROM tron_transfers f JOIN tron_txs t ON t.id = f.tx_id "
            "WHERE f.ok = 1 AND (f.from_address = ?1 OR f.to_address = ?1)",
            (node_id,),
        )
    else:
        rows = case.conn.execute(
            "SELECT f.from_address, f.to_address, f.asset, f.amount, t.timestamp "
            "FROM tron_transfers f JOIN tron_txs t ON t.id = f.tx_id "
            "WHERE f.ok = 1 AND t.txid = ?",
            (node_id,),
        )
    out: dict[tuple[str, str], dict[str, list]] = {}
    for source, target, asset, amount, stamp in rows:
        if source == target:
            continue
        when = stamp // 1000
        legs: tuple[tuple[str, str], ...]
        if kind == "tron_tx":
            legs = (("in", source), ("out", target))
        else:
            legs = (("in", source),) if target == node_id else (("out", target),)
        for side, party in legs:
            entry = out.setdefault((side, asset), {}).setdefault(party, [0, []])
            entry[0] += amount
            entry[1].append([when, amount])
    return out


def expand_tron(case: Case, node_id: str, labels: TronLabels, top: int) -> dict:
    """Draw a Tron address's (or transaction's) counterparties: for USDT and for TRX, the
    `top` largest payers and payees by value, the others folded into one node per asset and
    side; each drawn address with its explorer tag and blacklist state."""
    require_tron(case)
    kind = node_kind(case, node_id)
    if kind not in ("tron", "tron_tx"):
        raise InputError(f"{node_id!r} is not a Tron node of the graph")
    if top < 1 or top > 200:
        raise InputError(f"top {top}: expected 1 to 200 counterparties")
    if kind == "tron":
        data = _address_data(address_summary(case, node_id, labels))
    else:
        data = _tx_data(case, node_id)
    parties = _parties(case, node_id, kind)
    drawn: list[tuple[str, str, str, int, list]] = []  # (side, asset, party, amount, times)
    folded: dict[tuple[str, str], dict] = {}
    for (side, asset), by_party in parties.items():
        ranked = sorted(by_party.items(), key=lambda kv: (-kv[1][0], kv[0]))
        for party, (amount, times) in ranked[:top]:
            drawn.append((side, asset, party, amount, sorted(times)))
        others = ranked[top:]
        if others:
            folded[(side, asset)] = {
                "count": len(others),
                "amount": sum(a for _, (a, _) in others),
                "times": sorted(t for _, (_, times) in others for t in times),
            }
    # The explorer is asked before the write lock is taken (one call per new address).
    badges = {}
    for _, _, party, _, _ in drawn:
        if party not in badges:
            labels.get(party)
            badges[party] = _blacklisted(case, party, labels)
    added: list[str] = []
    with writing(case):
        put_node(case, node_id, kind, data, merge=True)
        for side, asset, party, amount, times in drawn:
            put_node_if_new(case, party, "tron")
            put_node(case, party, "tron", {"chain": "tron", "blacklisted": badges[party]}, True)
            ends = (party, node_id) if side == "in" else (node_id, party)
            put_edge(case, *ends, amount, times, asset)
            added.append(party)
        for side in ("in", "out"):
            for asset in ASSETS:
                rest_id = f"rest:{node_id}:{side}:{asset}"
                rest = folded.get((side, asset))
                if rest is None:
                    case.conn.execute("DELETE FROM workspace_nodes WHERE id = ?", (rest_id,))
                    case.conn.execute(
                        "DELETE FROM workspace_edges WHERE source = ? OR target = ?",
                        (rest_id, rest_id),
                    )
                    continue
                facts = {k: rest[k] for k in ("count", "amount")}
                put_node(
                    case, rest_id, "rest", {**facts, "side": side, "of": node_id, "asset": asset}
                )
                ends = (rest_id, node_id) if side == "in" else (node_id, rest_id)
                put_edge(case, *ends, rest["amount"], rest["times"], asset)
                added.append(rest_id)
        case.conn.execute("UPDATE workspace_nodes SET expanded = 1 WHERE id = ?", (node_id,))
    return {"node": node_id, "added": list(dict.fromkeys(added))}


def add_tron_trace(case: Case, result: dict, max_drawn: int = MAX_DRAWN) -> dict:
    """Draw a Tron trace (`tron.analysis.trace(...).as_dict()`): each hop's transaction
    between the address it left and the one it reached, the links carrying the traced
    amount; the trace itself is kept for the report."""
    ensure_tables(case)
    asset = result["asset"]
    hops = sorted(result["hops"], key=lambda h: h["hop"])[:max_drawn]
    added: list[str] = []
    with writing(case):
        for hop in hops:
            txid, when = hop["txid"], hop["timestamp"] // 1000
            put_node(
                case, txid, "tron_tx", {"chain": "tron", "time": when, "hop": hop["hop"]}, True
            )
            for address in (hop["from"], hop["to"]):
                put_node_if_new(case, address, "tron")
            put_edge(case, hop["from"], txid, hop["tainted"], [[when, hop["tainted"]]], asset)
            put_edge(case, txid, hop["to"], hop["tainted"], [[when, hop["tainted"]]], asset)
            added += [hop["from"], txid, hop["to"]]
        record_trace(case, result, len(hops))
    return {
        "drawn": len(hops),
        "hops": len(result["hops"]),
        "added": list(dict.fromkeys(added)),
        "services": result.get("services") or [],
        "deposits": _deposits(result),
        "truncated": bool(result.get("truncated")) or len(hops) < len(result["hops"]),
    }


def _deposits(result: dict) -> list[dict]:
    """For each service a trace reached: the address that paid the traced money into it (a
    customer's deposit address: what to ask the service about)."""
    out: dict[tuple[str, str], dict] = {}
    for end in result.get("endpoints") or []:
        if end.get("kind") != "service" or not end.get("txid"):
            continue
        hop = next(
            (h for h in result["hops"] if h["txid"] == end["txid"] and h["to"] == end["address"]),
            None,
        )
        if hop is None:
            continue
        key = (end["label"], hop["from"])
        entry = out.setdefault(key, {"service": end["label"], "deposit": hop["from"], "amount": 0})
        entry["amount"] += end.get("amount") or 0
    return sorted(out.values(), key=lambda d: -d["amount"])
