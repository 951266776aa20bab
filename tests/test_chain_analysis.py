"""The toolkit's chain analysis against a running sandbox: sync, trace, cluster, path, labels.

The world DB is read here only to know the right answers (the story's flows, owners of
addresses); the toolkit itself sees nothing but the explorer.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
import requests
from click.testing import CliRunner

from investigator_tools.case import Case
from investigator_tools.chain.cluster import cluster, members
from investigator_tools.chain.labels import LabelBook
from investigator_tools.chain.sync import sync
from investigator_tools.chain.trace import trace
from investigator_tools.cli import cli as investigate
from investigator_tools.esplora import Esplora
from sandbox.serve import Sandbox


@pytest.fixture(scope="module")
def world(tiny_world):
    """A read-only connection to the world, for the expected answers."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def env(tiny_world, tmp_path_factory):
    """A running sandbox and a case synced from its explorer (the sync is timed once)."""
    tmp = tmp_path_factory.mktemp("chain")
    with Sandbox(tiny_world, socks_port=0, http_port=0, explorer_port=0, state=tmp / "st") as sb:
        url = sb.describe()["explorer"]
        case_path = tmp / "case.db"
        with Case(case_path, "tester") as case:
            case.begin("investigate sync")
            report = sync(case, Esplora(url))
        yield {"sb": sb, "url": url, "case": case_path, "report": report, "tmp": tmp}


def run(env, *args):
    """Run `investigate` on the module's case; (exit code, output)."""
    result = CliRunner().invoke(investigate, ["--case", str(env["case"]), *map(str, args)])
    return result.exit_code, result.output


def run_json(env, *args):
    """Run `investigate ... --json` and parse its output."""
    code, out = run(env, *args, "--json")
    assert code == 0, out
    return json.loads(out)


def flow(world, flow_id: str, step: str | None = None) -> list[sqlite3.Row]:
    """A flow's events with their txids, in chain order."""
    sql = (
        "SELECT f.*, t.txid FROM flow_events f JOIN transactions t ON t.id = f.tx_id "
        "WHERE f.flow_id = ?" + (" AND f.step = ?" if step else "") + " ORDER BY f.tx_id"
    )
    return world.execute(sql, (flow_id, step) if step else (flow_id,)).fetchall()


def outputs_of(world, tx_id: int) -> list[sqlite3.Row]:
    """A world transaction's outputs with their addresses and owners."""
    return world.execute(
        "SELECT o.n, o.value, a.address, w.kind, w.actor_id, w.label FROM outputs o "
        "JOIN addresses a ON a.id = o.address_id JOIN wallets w ON w.id = a.wallet_id "
        "WHERE o.tx_id = ? ORDER BY o.n",
        (tx_id,),
    ).fetchall()


def actor_name(world, actor_id: str) -> str:
    """An organisation's public name (an exchange's is its label on the explorer)."""
    return world.execute("SELECT name FROM actors WHERE id = ?", (actor_id,)).fetchone()[0]


def test_sync_matches_the_explorer(env, world):
    """The index holds every block and transaction, verified, with the explorer's tip."""
    r = env["report"]
    explorer = Esplora(env["url"])
    assert r.tip_height == explorer.tip_height()
    assert r.tip_hash == explorer.tip_hash()
    assert r.total_transactions == world.execute("SELECT count(*) FROM transactions").fetchone()[0]
    with Case(env["case"]) as case:
        conn = case.conn
        assert conn.execute("SELECT count(*) FROM chain_blocks").fetchone()[0] == r.tip_height + 1
        for txid in [f["txid"] for f in flow(world, "peel")] + [flow(world, "cashout")[0]["txid"]]:
            remote = requests.get(f"{env['url']}api/tx/{txid}", timeout=30).json()
            tx_id, fee = conn.execute(
                "SELECT id, fee FROM chain_txs WHERE txid = ?", (txid,)
            ).fetchone()
            assert fee == remote["fee"]
            outs = conn.execute(
                "SELECT o.value, a.address FROM chain_outputs o "
                "JOIN chain_addresses a ON a.id = o.address_id WHERE o.tx_id = ? ORDER BY o.n",
                (tx_id,),
            ).fetchall()
            assert [tuple(o) for o in outs] == [
                (v["value"], v["scriptpubkey_address"]) for v in remote["vout"]
            ]
            ins = conn.execute(
                "SELECT i.value, a.address FROM chain_inputs i "
                "JOIN chain_addresses a ON a.id = i.address_id WHERE i.tx_id = ? ORDER BY i.n",
                (tx_id,),
            ).fetchall()
            assert [tuple(i) for i in ins] == [
                (v["prevout"]["value"], v["prevout"]["scriptpubkey_address"]) for v in remote["vin"]
            ]
        # Spent-by: the peel chain's outputs are spent by its next hop.
        hops = flow(world, "peel")
        for a, b in zip(hops, hops[1:], strict=False):
            spent_by = conn.execute(
                "SELECT s.txid FROM chain_inputs i JOIN chain_txs p ON p.id = i.prev_tx_id "
                "JOIN chain_txs s ON s.id = i.tx_id WHERE p.txid = ?",
                (a["txid"],),
            ).fetchall()
            assert b["txid"] in {row[0] for row in spent_by}


def test_second_sync_through_the_gateway_adds_nothing(env):
    """A second run (here through the SOCKS gateway, as explorer.test) fetches nothing."""
    host, port = env["sb"].gateway.socks_address
    code, out = run(
        env, "sync", "--explorer", "http://explorer.test/", "--proxy", f"socks5h://{host}:{port}"
    )
    assert code == 0, out
    assert "already up to date" in out


def test_trace_donation_forward_to_coinvault_through_the_peel_chain(env, world):
    """A donation's money goes through the consolidation and the 4-hop peel chain to coinvault."""
    donation = flow(world, "donations")[0]
    out = next(o for o in outputs_of(world, donation["tx_id"]) if o["kind"] == "donation")
    start = f"{donation['txid']}:{out['n']}"
    result = run_json(env, "trace", start, "--forward", "--hops", 10, "--method", "haircut")
    by_txid = {h["txid"]: h for h in result["hops"]}
    consolidation = flow(world, "consolidate")[0]
    chain = [consolidation] + flow(world, "peel")
    hops = [by_txid[f["txid"]]["hop"] for f in chain]
    assert hops == list(range(1, len(chain) + 1))
    amounts = [by_txid[f["txid"]]["tainted_out"] for f in chain]
    assert 0 < amounts[-1] <= amounts[0] <= out["value"]
    assert amounts == sorted(amounts, reverse=True)
    # The last hop pays coinvault's deposit address, which is swept into its labelled wallet.
    deposit = outputs_of(world, chain[-1]["tx_id"])[0]
    assert deposit["actor_id"] == "coinvault"
    assert any(
        o["address"] == deposit["address"] and o["tainted"] > 0
        for o in by_txid[chain[-1]["txid"]]["outputs"]
    )
    services = {s["label"]: s for s in result["services"]}
    coinvault = actor_name(world, "coinvault")
    assert coinvault in services and services[coinvault]["amount"] > 0

    # Poison taints whole outputs: each peel hop's amounts are the flow's own.
    poison = run_json(env, "trace", start, "--hops", 10, "--method", "poison")
    hops = {h["txid"]: h for h in poison["hops"]}
    for f in flow(world, "peel")[1:]:
        paid = {o["address"]: o for o in hops[f["txid"]]["outputs"]}
        assert any(o["tainted"] == f["amount"] == o["value"] for o in paid.values())
    text = run(env, "trace", start, "--hops", 10)[1]
    assert f"[{coinvault}]" in text and "hop 7:" in text


def test_trace_back_from_the_cash_out(env, world):
    """The cash-out's money came from the market's escrow and the mixer."""
    cashout = flow(world, "cashout")[0]
    result = run_json(env, "trace", cashout["txid"], "--back", "--hops", 4, "--method", "haircut")
    services = {s["label"]: s for s in result["services"]}
    market = world.execute("SELECT label FROM wallets WHERE kind = 'escrow'").fetchone()[0]
    mixer = world.execute("SELECT label FROM wallets WHERE kind = 'mixer'").fetchone()[0]
    assert market in services and mixer in services
    assert sum(s["amount"] for s in result["services"]) <= result["total"] + 10
    assert result["hops"][0]["txid"] == cashout["txid"]
    assert result["hops"][0]["hop"] == 1


def test_cluster_joins_co_spent_addresses_and_not_coinjoins(env, world):
    """Co-spend clusters are one owner each; CoinJoin participants stay apart."""
    with Case(env["case"]) as case:
        result = cluster(case)
        assert (
            result.coinjoin_excluded
            >= world.execute(
                "SELECT count(*) FROM transactions WHERE kind = 'coinjoin'"
            ).fetchone()[0]
        )
        owner = {
            r[0]: r[1]
            for r in world.execute(
                "SELECT a.address, w.actor_id FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
            )
        }
        clusters: dict[int, set] = {}
        cluster_of = {}
        for address, cid in case.conn.execute(
            "SELECT a.address, c.cluster_id FROM chain_clusters c "
            "JOIN chain_addresses a ON a.id = c.address_id"
        ):
            clusters.setdefault(cid, set()).add(owner[address])
            cluster_of[address] = cid
        assert all(len(owners) == 1 for owners in clusters.values())

        def inputs(tx_id):
            """Input addresses and owners of a world transaction."""
            return world.execute(
                "SELECT a.address, w.actor_id FROM inputs i JOIN outputs o ON o.tx_id = "
                "i.prev_tx_id AND o.n = i.prev_n JOIN addresses a ON a.id = o.address_id "
                "JOIN wallets w ON w.id = a.wallet_id WHERE i.tx_id = ?",
                (tx_id,),
            ).fetchall()

        # The fundraiser's addresses co-spent in the consolidation and the first peel hop.
        for f in flow(world, "consolidate") + flow(world, "peel", "hop-0"):
            addresses = {a for a, _ in inputs(f["tx_id"])}
            assert len({cluster_of.get(a, a) for a in addresses}) == 1
        hop0 = {a for a, _ in inputs(flow(world, "peel", "hop-0")[0]["tx_id"])}
        assert len(hop0) >= 2
        shown = members(case, next(iter(hop0)))
        assert hop0 <= {m["address"] for m in shown["addresses"]}
        # Every CoinJoin mixes several owners; none of them were merged.
        for (tx_id,) in world.execute("SELECT id FROM transactions WHERE kind = 'coinjoin'"):
            rows = inputs(tx_id)
            assert len({o for _, o in rows}) > 1
            by_owner = {}
            for address, o in rows:
                by_owner.setdefault(o, set()).add(cluster_of.get(address, address))
            firsts = [next(iter(c)) for c in by_owner.values()]
            assert len(set(firsts)) == len(firsts)


def test_cluster_change_heuristics_are_switchable_and_explained(env):
    """Each change heuristic can be chosen, and --explain says what it did."""
    code, out = run(env, "cluster", "--change", "script-type,fresh-address", "--explain")
    assert code == 0, out
    assert "script-type: Wallets send change" in out and "fresh-address:" in out
    assert "CoinJoin exclusion" in out and "joined a change address" in out
    data = run_json(env, "cluster", "--change", "round-amount")
    assert data["change"] == ["round-amount"] and data["heuristics"]["round-amount"]["found"] > 0
    code, out = run(env, "cluster", "--change", "psychic")
    assert code == 1 and "unknown change heuristic 'psychic'" in out


def test_path_and_exposure(env, world):
    """The money path from the donation address to the coinvault deposit, and exposures."""
    donation = flow(world, "donations")[0]
    donation_address = next(
        o["address"] for o in outputs_of(world, donation["tx_id"]) if o["kind"] == "donation"
    )
    deposit = outputs_of(world, flow(world, "peel", "hop-4")[0]["tx_id"])[0]["address"]
    path = run_json(env, "path", donation_address, deposit, "--hops", 8)
    assert path["found"] and path["hops"] == 6
    expected = [flow(world, "consolidate")[0]["txid"]] + [f["txid"] for f in flow(world, "peel")]
    assert [s["txid"] for s in path["steps"]] == expected
    assert path["steps"][-1]["to"] == deposit
    assert not run_json(env, "path", donation_address, deposit, "--hops", 3)["found"]

    coinvault = actor_name(world, "coinvault")
    peel = run_json(env, "exposure", deposit)
    assert peel["outgoing"][0]["service"] == coinvault
    assert peel["outgoing"][0]["direct_share"] > 0.99
    cashout = flow(world, "cashout")[0]
    bitbarn_deposit = outputs_of(world, cashout["tx_id"])[0]["address"]
    exp = run_json(env, "exposure", bitbarn_deposit, "--hops", 4)
    incoming = {r["service"]: r for r in exp["incoming"]}
    mixer = world.execute("SELECT label FROM wallets WHERE kind = 'mixer'").fetchone()[0]
    assert mixer in incoming and incoming[mixer]["indirect"] > 0
    assert 0.99 < sum(r["share"] for r in exp["incoming"]) < 1.01
    summary = run_json(env, "address", deposit)
    assert summary["received"] == summary["sent"] == deposit_value(world, deposit)
    assert summary["tx_count"] == 2 and summary["sent_to"][0]["label"] == coinvault


def deposit_value(world, address: str) -> int:
    """What an address received in the world."""
    return world.execute(
        "SELECT sum(o.value) FROM outputs o JOIN addresses a ON a.id = o.address_id "
        "WHERE a.address = ?",
        (address,),
    ).fetchone()[0]


def test_labels_stop_traces_and_match_the_explorer(env, world):
    """An analyst's label ends a trace there; imported labels are the explorer's public ones."""
    with Case(env["case"]) as case:
        imported = case.conn.execute(
            "SELECT address, name FROM chain_labels WHERE source = 'explorer'"
        ).fetchall()
    assert imported
    for address, name in imported:
        assert (
            world.execute(
                "SELECT w.label FROM addresses a JOIN wallets w ON w.id = a.wallet_id "
                "WHERE a.address = ?",
                (address,),
            ).fetchone()[0]
            == name
        )
    hop2 = flow(world, "peel", "hop-2")[0]
    change = outputs_of(world, hop2["tx_id"])[1]["address"]
    code, out = run(env, "label", change, "Suspect's peel wallet", "--category", "suspect")
    assert code == 0, out
    donation = flow(world, "donations")[0]
    result = run_json(env, "trace", f"{donation['txid']}:0", "--hops", 10, "--offline")
    names = {s["label"] for s in result["services"]}
    assert "Suspect's peel wallet" in names
    assert hop2["txid"] in {h["txid"] for h in result["hops"]}
    assert flow(world, "peel", "hop-4")[0]["txid"] not in {h["txid"] for h in result["hops"]}
    assert run(env, "label", change, "--delete")[0] == 0
    labels = run_json(env, "labels")
    assert change not in {r["address"] for r in labels}
    assert run(env, "label", "bc1qnotreally", "x")[0] == 1


def test_label_import_and_errors(env, world):
    """`labels --import-explorer` reads a page's labels; bad targets fail clearly."""
    cashout = flow(world, "cashout")[0]
    sweep_tx = world.execute(
        "SELECT t.txid FROM inputs i JOIN transactions t ON t.id = i.tx_id WHERE i.prev_tx_id = ?",
        (cashout["tx_id"],),
    ).fetchone()[0]
    code, out = run(env, "labels", "--import-explorer", sweep_tx)
    assert code == 0, out
    assert actor_name(world, "bitbarn") in out
    code, out = run(env, "trace", "f" * 64)
    assert code == 1 and "not in the local index" in out
    code, out = run(env, "address", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")
    assert code == 1 and "never appears" in out
    code, out = run(env, "sync", "--explorer", "http://127.0.0.1:9/")
    assert code == 1 and "cannot reach" in out


def test_incremental_sync_adds_only_new_blocks(env, world):
    """After a live block is mined, a sync fetches that block only. (Runs last: it adds one.)"""
    from investigator_tools.sweep import sweep
    from sandbox.ledger.keys import Key

    secret = world.execute(
        "SELECT a.secret FROM addresses a JOIN wallets w ON w.id = a.wallet_id "
        "JOIN outputs o ON o.address_id = a.id WHERE w.actor_id = 'bg-1' AND a.type = 'p2wpkh' "
        "AND NOT EXISTS (SELECT 1 FROM inputs i WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n) "
        "LIMIT 1"
    ).fetchone()[0]
    explorer = Esplora(env["url"])
    with Case(env["case"]) as case:
        before = case.conn.execute("SELECT count(*) FROM chain_txs").fetchone()[0]
        swept = sweep(
            case, explorer, to="1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", wif=Key(secret).wif()
        )
        report = sync(case, explorer)
        assert report.blocks == 1 and report.start_height == env["report"].tip_height + 1
        assert report.transactions == 2  # the coinbase and the sweep
        assert case.conn.execute("SELECT count(*) FROM chain_txs").fetchone()[0] == before + 2
        row = case.conn.execute(
            "SELECT t.fee FROM chain_txs t WHERE t.txid = ?", (swept["txid"],)
        ).fetchone()
        assert row[0] == swept["fee"]
        assert sync(case, explorer).blocks == 0
        book = LabelBook(case)
        assert trace(case, swept["txid"], labels=book).endpoints[0]["kind"] == "unspent"
