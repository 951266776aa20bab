"""Plain-text renderings of the Tron analyses (--json gives the data)."""

from __future__ import annotations

import datetime as dt

from .analysis import units

__all__ = ["address_lines", "cluster_lines", "sync_lines", "trace_lines"]


def _utc(ms: int | None) -> str:
    """A Tron timestamp (ms) as UTC."""
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _named(address: str | None, label: str | None) -> str:
    """An address with its label."""
    return f"{address} [{label}]" if label else str(address)


def sync_lines(r: dict) -> list[str]:
    """A Tron sync report."""
    if r["blocks"] == 0 and not r["rolled_back"]:
        first = f"already up to date with {r['node']}"
    else:
        first = (
            f"synced {r['blocks']:,} Tron block(s), {r['transactions']:,} transaction(s), "
            f"{r['usdt_transfers']:,} USDT transfer(s) from {r['node']} in {r['seconds']:.1f} s"
        )
    lines = [
        first,
        f"local tip: block {r['tip_block']} {r['tip_id']}",
        f"index: {r['total_blocks']:,} blocks, {r['total_transactions']:,} transactions",
    ]
    if r["rolled_back"]:
        lines.append(f"rolled back {r['rolled_back']} block(s) the node no longer has")
    return lines


def address_lines(s: dict) -> list[str]:
    """A Tron address summary."""
    lines = [
        _named(s["address"], s["label"])
        + (" (BLACKLISTED by the issuer)" if s["blacklisted"] else "")
    ]
    for asset in ("usdt", "trx"):
        a = s[asset]
        lines.append(
            f"{asset.upper()}: balance {units(a['balance_index'])} (index), received "
            f"{units(a['received'])} in {a['transfers_in']}, sent {units(a['sent'])} in "
            f"{a['transfers_out']}"
        )
    if s.get("node"):
        n = s["node"]
        lines.append(f"node: {units(n['usdt'])} USDT, {units(n['trx'])} TRX now")
    f = s.get("first_funder")
    if f:
        lines.append(
            f"activated by {_named(f['funder'], f.get('label'))} in block {f['block']} "
            f"({_utc(f['timestamp'])}), tx {f['txid']}"
        )
    lines.append(
        f"first seen {_utc(s['first_seen_ms'])}, last seen {_utc(s['last_seen_ms'])}, "
        f"{s['transactions']} transaction(s)"
        + (f", {s['reverted']} reverted transfer(s)" if s["reverted"] else "")
    )
    for e in s["energy_from"]:
        lines.append(
            f"{e['resource'].lower()} delegated by {e['owner']} ({units(e['amount'])} TRX staked)"
        )
    if s["energy_to"]:
        lines.append(f"delegates energy to {s['energy_to']} address(es)")
    for c in s["counterparties"]:
        way = "from" if c["amount"] > 0 else "to"
        lines.append(
            f"  {way} {_named(c['other'], c['label'])}: {units(abs(c['amount']))} {c['asset']} "
            f"in {c['transfers']}"
        )
    return lines


def trace_lines(r: dict) -> list[str]:
    """A Tron trace."""
    lines = [
        f"{r['direction']} trace of {r['target']} ({r['asset']}, {r['method']}, up to "
        f"{r['max_hops']} hops): {units(r['total'])} {r['asset']}"
    ]
    for h in r["hops"]:
        lines.append(
            f"  hop {h['hop']}: {h['txid']}  {_named(h['from'], h.get('from_label'))} -> "
            f"{_named(h['to'], h.get('to_label'))}  {units(h['tainted'])} of {units(h['amount'])}"
        )
    for e in r["endpoints"]:
        lines.append(
            f"  end ({e['kind']}, hop {e['hop']}): {_named(e['address'], e['label'])} "
            f"{units(e['amount'])} {r['asset']}"
        )
    for s in r.get("services", []):
        lines.append(f"reached {s['label']} ({s['category']}): {units(s['amount'])} {r['asset']}")
    for c in r.get("cross_chain", []):
        o = c["order"]
        lines.append(
            f"swap order {o['order_id']} at {o['host']}: {o['from']['amount']} {o['from']['asset']}"
            f" on {o['from']['chain']} -> {o['to']['amount']} {o['to']['asset']} on "
            f"{o['to']['chain']} ({o['to']['txid']})"
        )
        if c.get("note"):
            lines.append(f"  {c['note']}")
    if r["truncated"]:
        lines.append("(stopped early: --max-txs reached)")
    return lines


def cluster_lines(c: dict) -> list[str]:
    """The cluster of a Tron address."""
    lines = [
        f"cluster of {c['address']}: {c['size']} address(es)"
        + (f", labelled {', '.join(c['labels'])}" if c["labels"] else "")
    ]
    for m in c["members"][:200]:
        lines.append("  " + _named(m["address"], m["label"]))
    for e in c["evidence"][:50]:
        lines.append(f"  {e['address']} {e['because']} {e['joined_to']}")
    return lines
