"""The toolkit on Tron, over the network only: a small world with USDT donations, pooling and
cash-outs at an exchange (tests/data/tron_toolkit.yaml) served by a sandbox; `investigate`
syncs it through the gateway (api.trongrid.test), reads Tronscan's public tags
(tronscan.test), traces, clusters, requests and sweeps, as a trainee would."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from tronpy import Tron
from tronpy.keys import PrivateKey as TronpyKey
from tronpy.providers import HTTPProvider

from investigator_tools.case import Case
from investigator_tools.cli import cli as investigate
from investigator_tools.tron.links import continue_across, store_orders
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world

from .course_secret import SECRET

SCENARIO = Path(__file__).parent / "data" / "tron_toolkit.yaml"
HOT = "Harbor Exchange: Hot Wallet"


def rows(world, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of the world file (the tests' expectations come from it)."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The world served by a sandbox (its Tron node makes a block every 3 s), a case, the
    gateway's proxy; the case synced once through the gateway."""
    tmp = tmp_path_factory.mktemp("toolkit-tron")
    world = tmp / "world.db"
    build_world(load_scenario(str(SCENARIO)), world, secret=SECRET)
    with Sandbox(world, socks_port=0, http_port=0, explorer_port=0, state=tmp / "st") as sb:
        host, port = sb.gateway.socks_address
        info = sb.describe()
        e = {
            "world": world,
            "case": tmp / "case.db",
            "proxy": f"socks5h://{host}:{port}",
            "node": info["tronnode"],
            "token": rows(world, "SELECT token FROM requesters WHERE id = 'analyst'")[0][0],
        }
        code, out = run(e, "sync", "--tron", "http://api.trongrid.test", "--workers", "3", "--json")
        assert code == 0, out
        e["first_sync"] = json.loads(out[out.index("{") :])
        yield e


def run(env, *args) -> tuple[int, str]:
    """`investigate` on the module's case through the gateway; (exit code, output)."""
    result = CliRunner().invoke(
        investigate,
        ["--case", str(env["case"]), *map(str, args)],
        env={"INVESTIGATE_PROXY": env["proxy"]},
    )
    return result.exit_code, result.output


def run_json(env, *args):
    """A command's --json output."""
    code, out = run(env, *args, "--json")
    assert code == 0, out
    return json.loads(out[out.index("{") :])


def flow(env, flow_id: str) -> list[tuple]:
    """(to_address, amount, txid) of a story flow's Tron payments."""
    return rows(
        env["world"],
        "SELECT f.to_address, f.amount, t.txid FROM tron_flow_events f "
        "JOIN tron_txs t ON t.id = f.tx_id WHERE f.flow_id = ? ORDER BY f.tx_id",
        (flow_id,),
    )


def test_sync_copies_the_chain_and_a_second_run_adds_only_new_blocks(env):
    """Every block to the head, the world's transactions and USDT transfers; then only the
    blocks made since."""
    first = env["first_sync"]
    assert first["start_block"] == 0
    assert first["total_blocks"] == first["tip_block"] + 1
    world_txs = rows(env["world"], "SELECT count(*) FROM tron_txs")[0][0]
    assert first["transactions"] >= world_txs
    second = run_json(env, "sync", "--tron", "http://api.trongrid.test")
    assert second["start_block"] == first["tip_block"] + 1
    assert second["total_blocks"] == second["tip_block"] + 1
    assert second["blocks"] == second["tip_block"] - first["tip_block"]
    with Case(env["case"]) as case:
        for to, amount, txid in flow(env, "usdt-gifts"):
            got = case.conn.execute(
                "SELECT f.to_address, f.amount, f.ok FROM tron_transfers f JOIN tron_txs t "
                "ON t.id = f.tx_id WHERE t.txid = ? AND f.asset = 'USDT'",
                (txid,),
            ).fetchall()
            assert [tuple(r) for r in got] == [(to, amount, 1)]


def test_address_shows_balances_funder_and_labels(env):
    """A donation address: what it received (the donations), the node's balance, its first
    funder; the exchange's hot wallet carries Tronscan's public tag."""
    gifts = flow(env, "usdt-gifts")
    address = gifts[0][0]
    s = run_json(env, "address", address, "--tronscan", "http://tronscan.test")
    assert s["chain"] == "tron"
    assert s["usdt"]["received"] == sum(a for to, a, _ in gifts if to == address)
    assert s["node"]["usdt"] == s["usdt"]["balance_index"]
    assert s["first_funder"]["funder"].startswith("T")
    assert s["blacklisted"] is False
    hot = rows(env["world"], "SELECT address FROM tron_accounts WHERE label = ?", (HOT,))[0][0]
    h = run_json(env, "address", hot)
    assert (h["label"], h["category"]) == (HOT, "exchange")


@pytest.mark.parametrize("method", ["haircut", "fifo", "poison"])
def test_trace_follows_donations_into_the_deposit_and_stops_at_the_hot_wallet(env, method):
    """Forward from a donation address: pooled, paid into the fundraiser's Harbor deposit
    address, swept into Harbor's hot wallet, where the trace stops."""
    address = flow(env, "usdt-gifts")[0][0]
    deposit = flow(env, "usdt-out")[0][0]
    t = run_json(env, "trace", address, "--method", method, "--hops", "6")
    assert t["chain"] == "tron" and t["asset"] == "USDT"
    assert deposit in {h["to"] for h in t["hops"]}
    assert [s["label"] for s in t["services"]] == [HOT]
    hot = rows(env["world"], "SELECT address FROM tron_accounts WHERE label = ?", (HOT,))[0][0]
    assert hot not in {h["from"] for h in t["hops"]}
    assert all(e["kind"] != "hop-limit" for e in t["endpoints"])


def test_trace_back_from_the_deposit_reaches_the_donations(env):
    """Back from the deposit address's sweep: the donors' payments are among the sources."""
    deposit = flow(env, "usdt-out")[0][0]
    t = run_json(env, "trace", deposit, "--back", "--hops", "3")
    donors = {to for to, _, _ in flow(env, "usdt-gifts")}
    assert donors & {h["to"] for h in t["hops"]}


def test_trace_of_a_txid_and_bad_targets(env):
    """A Tron txid is found in the Tron index; an address with a bad checksum is refused."""
    _, _, txid = flow(env, "usdt-out")[0]
    t = run_json(env, "trace", txid)
    assert t["chain"] == "tron" and t["start"][0]["txid"] == txid
    code, out = run(env, "trace", txid, "--asset", "TRX")
    assert code != 0 and f"transaction {txid} moved no TRX" in out
    bad = flow(env, "usdt-out")[0][0][:-1] + (
        "A" if flow(env, "usdt-out")[0][0][-1] != "A" else "B"
    )
    code, out = run(env, "trace", bad, "--chain", "tron")
    assert code != 0 and "is not a Tron address" in out


def test_cluster_joins_deposit_addresses_swept_together(env):
    """The two fundraisers' Harbor deposit addresses, swept into the same hot wallet that
    fed them, are one cluster with the hot wallet; a donor's address is not in it."""
    deposits = [flow(env, "usdt-out")[0][0], flow(env, "kiln-out")[0][0]]
    assert deposits[0] != deposits[1]
    c = run_json(env, "cluster", deposits[0])
    members = {m["address"] for m in c["members"]}
    assert set(deposits) <= members
    assert HOT in c["labels"]
    assert any("deposit address swept into" in e["because"] for e in c["evidence"])
    assert flow(env, "usdt-gifts")[0][0] not in members


def test_swap_orders_continue_a_trace_on_the_other_chain(env):
    """Orders kept through the toolkit's own API link the chains: a Bitcoin trace ending at
    a swap deposit address goes on with the order's Tron payout (to the hot wallet), and a
    Tron trace reaching a Tron deposit address lists the order of its Bitcoin payout."""
    _, amount, cash_out = flow(env, "usdt-out")[0]
    pool = flow(env, "usdt-pool")[0][0]
    with Case(env["case"]) as case:
        stored = store_orders(
            case,
            "swapper.onion",
            [
                {
                    "order_id": "A-1",
                    "created": "2026-03-02T10:00:00Z",
                    "from": {"chain": "BTC", "asset": "BTC", "address": "bc1qdeposit",
                             "txid": "ab" * 32, "amount": "0.01"},
                    "to": {"chain": "TRON", "asset": "USDT", "address": pool, "txid": cash_out,
                           "amount": str(amount)},
                    "rate": "60000",
                },
                {
                    "order_id": "A-2",
                    "from": {"chain": "tron", "asset": "USDT", "address": pool, "txid": None,
                             "amount": "5"},
                    "to": {"chain": "btc", "asset": "BTC", "address": "bc1qpayout",
                           "txid": "cd" * 32, "amount": "0.0001"},
                },
            ],
        )  # fmt: skip
        assert stored == 2
        from investigator_tools.tron.analysis import trace

        btc_trace = {"chain": "btc", "direction": "forward", "hops": [],
                     "endpoints": [{"kind": "unspent", "address": "bc1qdeposit"}]}  # fmt: skip
        out = continue_across(case, btc_trace, lambda chain, txid: trace(case, txid).as_dict())
    [crossing] = out["cross_chain"]
    assert crossing["order"]["order_id"] == "A-1"
    assert [s["label"] for s in crossing["continued"]["services"]] == [HOT]
    t = run_json(env, "trace", flow(env, "usdt-gifts")[0][0], "--offline")
    orders = {c["order"]["order_id"]: c for c in t["cross_chain"]}
    assert "A-2" in orders and "not in the case's index" in orders["A-2"]["note"]
    code, out = run(env, "graph", "--format", "graphml", "--trace", flow(env, "usdt-gifts")[0][0])
    assert code == 0, out
    graphml = next((env["case"].parent / "case-graph").glob("*.graphml")).read_text()
    assert "swap-order" in graphml and pool in graphml


def test_store_orders_refuses_a_malformed_order(env):
    """An order without a known chain is an error naming the order; nothing is stored."""
    from investigator_tools.errors import RemoteError

    with Case(env["case"]) as case:
        before = case.conn.execute("SELECT count(*) FROM swap_orders").fetchone()[0]
        with pytest.raises(RemoteError, match=r"swapper.onion: order 0 from: unknown chain 'eth'"):
            store_orders(
                case, "swapper.onion", [{"order_id": "X", "from": {"chain": "eth"}, "to": {}}]
            )
        assert case.conn.execute("SELECT count(*) FROM swap_orders").fetchone()[0] == before


def test_report_has_a_tron_section(env):
    """The report lists the Tron index and a Tron trace."""
    code, out = run(env, "report", "--trace", flow(env, "usdt-gifts")[0][0])
    assert code == 0, out
    html = next((env["case"].parent / "case-report").glob("*.html")).read_text()
    assert 'id="tron"' in html and HOT in html


def test_request_about_a_tron_subject_sends_the_new_fields(env):
    """A KYC request about the Tron deposit address goes to the exchange's portal with
    "confidential": true; the case keeps the body sent."""
    deposit = flow(env, "usdt-out")[0][0]
    base = [
        "request", "harborex.test", "--subject", deposit, "--legal-basis", "court_order",
        "--document-ref", "CO-1", "--case-number", "OP-T", "--agency", "Unit",
        "--officer", "DC Smith", "--email", "smith@police.test", "--token", env["token"],
    ]  # fmt: skip
    record = run_json(env, *base, "--ask", "kyc", "--confidential")
    assert record["request"]["subject"] == deposit
    assert record["request"]["confidential"] is True
    assert record["reference"]
    with Case(env["case"]) as case:
        body = case.conn.execute("SELECT request_body FROM le_requests ORDER BY id DESC").fetchone()
    assert json.loads(body[0])["confidential"] is True
    code, out = run(env, *base, "--ask", "reissue")
    assert code != 0 and "--ask reissue needs --wallet" in out
    code, out = run(env, *base, "--ask", "kyc", "--wallet", deposit)
    assert code != 0 and "--wallet is only for --ask reissue" in out
    code, out = run(env, *base, "--ask", "reissue", "--wallet", "T123")
    assert code != 0 and "--wallet 'T123' is not a Tron address" in out
    code, out = run(env, *base, "--ask", "seize")
    assert code != 0 and "--ask 'seize'" in out


def test_a_freeze_on_the_chain_shows_after_the_next_sync(env):
    """The issuer blacklists the fundraiser's pool address (addBlackList signed with the
    treasury's world key, through tronpy); the next sync records it and `address` says so."""
    client = Tron(HTTPProvider(env["node"]))
    issuer = TronpyKey(
        bytes(
            rows(env["world"], "SELECT secret FROM tron_accounts WHERE wallet = 'treasury'")[0][0]
        )
    )
    pool = flow(env, "usdt-pool")[0][0]
    assert run_json(env, "address", pool, "--offline")["blacklisted"] is False
    listed = (
        client.get_contract("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
        .functions.addBlackList(pool)
        .with_owner(issuer.public_key.to_base58check_address())
        .fee_limit(50_000_000)
        .build()
        .sign(issuer)
        .broadcast()
        .wait()
    )
    assert listed["receipt"]["result"] == "SUCCESS"
    run_json(env, "sync", "--tron", "http://api.trongrid.test")
    s = run_json(env, "address", pool, "--offline")
    assert s["blacklisted"] is True
    with Case(env["case"]) as case:
        events = case.conn.execute(
            "SELECT b.event FROM tron_blacklist b JOIN tron_txs t ON t.id = b.tx_id "
            "WHERE t.txid = ? AND b.address = ?",
            (listed["id"], pool),
        ).fetchall()
    assert [e[0] for e in events] == ["AddedBlackList"]


def test_sweep_moves_a_world_keys_usdt_confirmed_in_the_next_block(env):
    """A donor's key (from the world file, as if recovered): its USDT goes to --to in the
    block after the broadcast, then its TRX; read back with tronpy."""
    client = Tron(HTTPProvider(env["node"]))
    donors = rows(
        env["world"],
        "SELECT address, secret FROM tron_accounts WHERE actor_id LIKE 'donors-%' ORDER BY address",
    )
    address, secret = next((a, s) for a, s in donors if _usdt(client, a) > 0)
    seizure = next(a for a, _ in donors if a != address)
    usdt, before = _usdt(client, address), _usdt(client, seizure)
    head = client.get_latest_block_number()
    out = run_json(
        env, "sweep", "--chain", "tron", "--key", bytes(secret).hex(), "--to", seizure,
        "--node", "http://api.trongrid.test", "--wait",
    )  # fmt: skip
    usdt_tx, trx_tx = out["transactions"]
    assert (usdt_tx["asset"], usdt_tx["amount"], usdt_tx["status"]) == ("USDT", usdt, "confirmed")
    info = client.get_transaction_info(usdt_tx["txid"])
    assert info["blockNumber"] == usdt_tx["block"] > head
    assert _usdt(client, address) == 0 and _usdt(client, seizure) == before + usdt
    assert trx_tx["asset"] == "TRX" and trx_tx["status"] == "confirmed"
    assert client.get_account_balance(address) < 1  # TRX: what the bandwidth fee left


def test_sweep_refuses_bad_input(env):
    """A bad key, a bad --to, a bad mnemonic: one clear error each, nothing broadcast."""
    to = flow(env, "usdt-out")[0][0]
    node = ["--node", "http://api.trongrid.test"]
    code, out = run(env, "sweep", "--chain", "tron", "--key", "zz", "--to", to, *node)
    assert code != 0 and "--key: neither 64 hex digits nor a WIF" in out
    code, out = run(env, "sweep", "--chain", "tron", "--key", "11" * 32, "--to", "bc1q", *node)
    assert code != 0 and "--to 'bc1q' is not a Tron address" in out
    code, out = run(
        env, "sweep", "--chain", "tron", "--mnemonic", "not a mnemonic", "--to", to, *node
    )
    assert code != 0 and "--mnemonic: not a valid BIP39 mnemonic" in out


def _usdt(client: Tron, address: str) -> int:
    """USDT units of an address, via tronpy's contract call."""
    contract = client.get_contract("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    return int(contract.functions.balanceOf(address))


def test_text_output_names_what_a_trainee_needs(env):
    """Without --json: the trace names the hot wallet reached, the cluster its evidence, the
    address its funder."""
    address = flow(env, "usdt-gifts")[0][0]
    code, out = run(env, "trace", address, "--offline")
    assert code == 0 and f"reached {HOT} (exchange):" in out
    code, out = run(env, "cluster", flow(env, "usdt-out")[0][0], "--offline")
    assert code == 0 and "deposit address swept into" in out
    code, out = run(env, "address", address, "--offline")
    assert code == 0 and "activated by T" in out and "USDT: balance" in out
    code, out = run(env, "sync", "--tron", "http://api.trongrid.test")
    assert code == 0 and "local tip: block" in out


def test_cluster_joins_a_fundraisers_addresses_by_their_activator(env):
    """The fundraiser activated its donation and pool addresses from its own wallet (which
    the exchange activated: a service's activation joins nothing): the cluster of the
    donation address is exactly the fundraiser's addresses."""
    ember = {
        a
        for (a,) in rows(env["world"], "SELECT address FROM tron_accounts WHERE actor_id = 'ember'")
    }
    c = run_json(env, "cluster", flow(env, "usdt-gifts")[0][0], "--offline")
    assert {m["address"] for m in c["members"]} == ember
    assert {e["because"] for e in c["evidence"]} == {"activated (first TRX) by"}


def test_an_analysts_label_on_a_tron_address_stops_a_trace(env):
    """`investigate label T... NAME --category otc` makes the address a service a trace stops
    at; a `suspect` label does not stop it."""
    gift, pool = flow(env, "usdt-gifts")[0][0], flow(env, "usdt-pool")[0][0]
    try:
        code, out = run(env, "label", pool, "Broker desk", "--category", "otc")
        assert code == 0, out
        t = run_json(env, "trace", gift, "--offline")
        assert [s["label"] for s in t["services"]] == ["Broker desk"]
        run(env, "label", pool, "Pool", "--category", "suspect")
        t = run_json(env, "trace", gift, "--offline")
        assert [s["label"] for s in t["services"]] == [HOT]
    finally:
        run(env, "label", pool, "--delete")
