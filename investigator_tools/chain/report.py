"""Plain-text renderings of the chain analyses, for the terminal (--json gives the data)."""

from __future__ import annotations

import datetime as dt
from functools import partial

from .codec.amounts import format_btc

__all__ = [
    "address_lines",
    "cluster_lines",
    "exposure_lines",
    "members_lines",
    "path_lines",
    "sync_lines",
    "trace_lines",
]

_btc = partial(format_btc, unit=True)


def utc(timestamp: int | None) -> str:
    """A Unix time as UTC."""
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _named(address: str | None, label: str | None) -> str:
    """An address with its label."""
    if address is None:
        return "(no address)"
    return f"{address} [{label}]" if label else address


def sync_lines(r: dict) -> list[str]:
    """A sync report."""
    lines = [
        f"synced {r['blocks']:,} block(s), {r['transactions']:,} transaction(s) from "
        f"{r['explorer']} in {r['seconds']:.1f} s",
        f"local tip: height {r['tip_height']} {r['tip_hash']}",
        f"index: {r['total_blocks']:,} blocks, {r['total_transactions']:,} transactions",
    ]
    if r["blocks"] == 0 and not r["rolled_back"]:
        lines[0] = f"already up to date with {r['explorer']}"
    if r["rolled_back"]:
        lines.append(f"rolled back {r['rolled_back']} block(s) the explorer no longer has")
    if r["uncommitted_witness_blocks"]:
        lines.append(
            f"note: {r['uncommitted_witness_blocks']} block(s) carry segwit witnesses without a "
            "BIP141 commitment (txids and merkle roots verified; witnesses not)"
        )
    return lines


def address_lines(s: dict) -> list[str]:
    """An address summary."""
    lines = [
        _named(s["address"], s["label"]),
        f"  balance   {_btc(s['balance'])}",
        f"  received  {_btc(s['received'])} in {s['funded_outputs']} output(s)",
        f"  sent      {_btc(s['sent'])} from {s['spent_outputs']} output(s)",
        f"  txs       {s['tx_count']}",
    ]
    for key in ("first_seen", "last_seen"):
        seen = s[key]
        if seen:
            lines.append(
                f"  {key.replace('_', ' '):<9} {utc(seen['time'])} block {seen['height']} "
                f"{seen['txid']}"
            )
    for key, title in (("received_from", "received from"), ("sent_to", "sent to")):
        if s[key]:
            lines.append(f"  {title}:")
            for p in s[key]:
                lines.append(f"    {_btc(p['amount']):>22}  {_named(p['address'], p['label'])}")
    return lines


def trace_lines(r: dict) -> list[str]:
    """A trace, hop by hop, then where the money ended."""
    arrow = "->" if r["direction"] == "forward" else "<-"
    lines = [
        f"trace {r['direction']} from {r['target']} ({r['method']}, up to {r['max_hops']} hops): "
        f"{_btc(r['total'])} traced"
    ]
    for h in sorted(r["hops"], key=lambda h: (h["hop"], h["height"])):
        cj = " (CoinJoin-like)" if h["coinjoin_like"] else ""
        lines.append(
            f"hop {h['hop']}: {h['txid']} block {h['height']} {utc(h['time'])}{cj}  "
            f"traced in {_btc(h['tainted_in'])}, out {_btc(h['tainted_out'])}"
        )
        side = h["outputs"] if r["direction"] == "forward" else h["inputs"]
        for o in side:
            if o["tainted"] <= 0:
                continue
            lines.append(
                f"    {arrow} {_named(o['address'], o.get('label'))}  {_btc(o['tainted'])} "
                f"of {_btc(o['value'])} ({o['share']:.1%})"
            )
    if r["services"]:
        lines.append("reached services:")
        for s in r["services"]:
            lines.append(
                f"    {s['label']} ({s['category']}): {_btc(s['amount'])} "
                f"({s['share']:.1%} of the traced amount), first at hop {s['hop']}"
            )
    rest: dict[str, float] = {}
    for e in r["endpoints"]:
        if e["kind"] != "service":
            rest[e["kind"]] = rest.get(e["kind"], 0) + e["amount"]
    for kind, amount in rest.items():
        lines.append(f"    {kind}: {_btc(amount)}")
    if r["truncated"]:
        lines.append("stopped early: too many transactions (raise --max-txs)")
    return lines


def cluster_lines(r: dict, explain: bool) -> list[str]:
    """A clustering summary."""
    lines = [
        f"clustered {r['addresses']:,} addresses at height {r['tip_height']} in "
        f"{r['seconds']:.2f} s: {r['clusters']:,} clusters of 2+ addresses "
        f"({r['clustered_addresses']:,} addresses), largest {r['largest']:,}",
        "change heuristics: " + (", ".join(r["change"]) or "none"),
    ]
    for c in r["top"]:
        names = f" [{', '.join(c['labels'])}]" if c["labels"] else ""
        lines.append(
            f"    cluster {c['cluster']}: {c['size']:,} addresses, e.g. {c['sample']}{names}"
        )
    if explain:
        lines += r["explanation"]
    return lines


def members_lines(m: dict) -> list[str]:
    """One address's cluster."""
    lines = [
        f"{m['address']}: cluster of {m['size']} address(es) "
        f"(change heuristics: {', '.join(m['change_heuristics']) or 'none'}; "
        f"height {m['computed_at_height']})",
        f"  received {_btc(m['received'])}, balance {_btc(m['balance'])}",
    ]
    if m["labels"]:
        lines.append("  labels: " + ", ".join(m["labels"]))
    for a in m["addresses"]:
        lines.append(f"    {_named(a['address'], a['label'])}  received {_btc(a['received'])}")
    return lines


def path_lines(p: dict) -> list[str]:
    """A money path."""
    if not p["found"]:
        return [
            f"no money path from {p['from']} to {p['to']} within {p['max_hops']} hops "
            f"({p['transactions_searched']:,} transactions searched)"
        ]
    lines = [f"{p['from']} -> {p['to']}: {p['hops']} hop(s)"]
    for s in p["steps"]:
        lines.append(
            f"  hop {s['hop']}: {s['txid']} block {s['height']} {utc(s['time'])}\n"
            f"      {s['from']} ({_btc(s['from_amount'])}) -> "
            f"{_named(s['to'], s['to_label'])} ({_btc(s['amount'])})"
        )
    return lines


def exposure_lines(e: dict) -> list[str]:
    """Exposure to services."""
    lines = [
        f"{_named(e['address'], e['label'])}: exposure within {e['max_hops']} hops ({e['method']})",
        f"  received {_btc(e['received'])}, sent {_btc(e['sent'])}",
    ]
    for key, title in (("incoming", "funds came from"), ("outgoing", "funds went to")):
        lines.append(f"  {title}:")
        if not e[key]:
            lines.append("    no labelled service")
        for r in e[key]:
            lines.append(
                f"    {r['service']} ({r['category']}): {_btc(r['total'])} = {r['share']:.1%} "
                f"(direct {_btc(r['direct'])}, indirect {_btc(r['indirect'])})"
            )
    return lines
