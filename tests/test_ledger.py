"""The generated ledger: invariants by an independent checker, and the story's flows."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.ledger.tx import parse, verify_input
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world

from .ledger_checker import check_ledger, parse_tx, script_for


def test_tiny_world_ledger_invariants(tiny_db):
    """Inputs spend earlier outputs once, inputs = outputs + fee, chain links, balances = UTXOs."""
    totals = check_ledger(tiny_db)
    assert totals["blocks"] > 500 and totals["utxos"] > 100
    # The genesis block's 50 BTC can never be spent (as on mainnet): not in the UTXO set.
    assert totals["supply"] == 50 * 100_000_000 * (totals["blocks"] - 1)


@pytest.mark.slow  # builds three more worlds
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(min_value=0, max_value=2**31), users=st.integers(10, 80))
def test_invariants_hold_for_other_worlds(tiny_path, tmp_path_factory, seed, users):
    """Other seeds and population sizes still give a valid ledger."""
    scenario = load_scenario(str(tiny_path))
    scenario = replace(
        scenario,
        world=replace(scenario.world, seed=seed, background_users=users, transactions=1500),
    )
    out = tmp_path_factory.mktemp("h") / f"w{seed}.db"
    build_world(scenario, out)
    conn = sqlite3.connect(out)
    try:
        check_ledger(conn)
    finally:
        conn.close()


def _outputs(conn, tx_id):
    """(address, wallet kind, wallet owner, purpose, value) of each output of a transaction."""
    return conn.execute(
        "SELECT a.address, w.kind, w.actor_id, a.purpose, o.value FROM outputs o "
        "JOIN addresses a ON a.id = o.address_id JOIN wallets w ON w.id = a.wallet_id "
        "WHERE o.tx_id = ? ORDER BY o.n",
        (tx_id,),
    ).fetchall()


def _events(conn, flow, step=None):
    """Flow events of a flow (and step)."""
    sql = "SELECT tx_id, step, source_id, target_id, amount FROM flow_events WHERE flow_id = ?"
    args = [flow]
    if step:
        sql += " AND step = ?"
        args.append(step)
    return conn.execute(sql, args).fetchall()


def test_donations_reach_the_campaign_address(tiny_db):
    """Every donation pays the donation site's published address the recorded amount."""
    published = tiny_db.execute(
        "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id "
        "WHERE w.kind = 'donation' AND w.site_id = 'campaign' AND a.purpose = 'published'"
    ).fetchone()[0]
    events = _events(tiny_db, "donations", "donation")
    assert len(events) == 15
    for tx_id, _, source, target, amount in events:
        assert source.startswith("donors-") and target == "fundraiser"
        assert (published, amount) in [(o[0], o[4]) for o in _outputs(tiny_db, tx_id)]


def test_consolidation_sweeps_the_donations(tiny_db):
    """The consolidation spends donation-wallet coins into one fundraiser address."""
    ((tx_id, *_),) = _events(tiny_db, "consolidate")
    kinds = tiny_db.execute(
        "SELECT DISTINCT w.kind FROM inputs i JOIN outputs o ON o.tx_id = i.prev_tx_id AND "
        "o.n = i.prev_n JOIN addresses a ON a.id = o.address_id JOIN wallets w ON w.id = a.wallet_id "
        "WHERE i.tx_id = ?",
        (tx_id,),
    ).fetchall()
    assert kinds == [("donation",)]
    outs = _outputs(tiny_db, tx_id)
    assert len(outs) == 1 and outs[0][1:3] == ("personal", "fundraiser")


def test_peel_chain_ends_at_the_exchange(tiny_db):
    """The peel chain has its hops and ends at the fundraiser's deposit address at coinvault."""
    events = _events(tiny_db, "peel")
    steps = [e[1] for e in events]
    assert steps == [f"hop-{i}" for i in range(5)]
    last = _outputs(tiny_db, events[-1][0])
    assert len(last) == 1 and last[0][1:4] == ("deposit", "coinvault", "deposit:fundraiser")
    for tx_id, step, *_ in events[1:-1]:  # each middle hop: a peel and the rest onward
        assert len(_outputs(tiny_db, tx_id)) == 2, step


def test_sales_go_through_escrow_to_the_reused_address(tiny_db):
    """Purchases pay fresh escrow addresses; payouts reach kestrel's one reused address."""
    for tx_id, *_ in _events(tiny_db, "sales", "purchase"):
        assert any(o[1] == "escrow" and o[3] == "escrow-order" for o in _outputs(tiny_db, tx_id))
    payouts = _events(tiny_db, "sales", "escrow-payout")
    assert payouts, "no escrow payout to the vendor"
    kestrel = {o[0] for tx_id, *_ in payouts for o in _outputs(tiny_db, tx_id) if o[2] == "kestrel"}
    assert len(kestrel) == 1


def test_mixing_and_cash_out(tiny_db):
    """Mixer deposit, payout from unrelated coins to kestrel, and the final cash-out."""
    deposit = _events(tiny_db, "launder", "mix-deposit")
    payout = _events(tiny_db, "launder", "mix-payout")
    assert deposit and payout
    assert any(o[1] == "mixer-deposit" for o in _outputs(tiny_db, deposit[0][0]))
    assert any(o[2] == "kestrel" for o in _outputs(tiny_db, payout[0][0]))
    ((tx_id, _, _, target, _),) = _events(tiny_db, "cashout")
    assert target == "bitbarn"
    assert _outputs(tiny_db, tx_id)[0][1:4] == ("deposit", "bitbarn", "deposit:kestrel")
    ((cut_tx, *_),) = _events(tiny_db, "cut")
    assert _outputs(tiny_db, cut_tx)[0][2] == "admin"


def test_realistic_behaviours_present(tiny_db):
    """Exchange sweeps, batched withdrawals, CoinJoins, pool payouts and all address types."""
    kinds = dict(tiny_db.execute("SELECT kind, count(*) FROM transactions GROUP BY kind"))
    for kind in (
        "coinbase",
        "payment",
        "deposit",
        "sweep",
        "withdrawal",
        "pool-payout",
        "purchase",
        "escrow-payout",
        "mix-deposit",
        "mix-payout",
    ):
        assert kinds.get(kind, 0) > 0, kind
    batch = tiny_db.execute(
        "SELECT max(c) FROM (SELECT count(*) c FROM outputs o JOIN transactions t ON t.id = o.tx_id "
        "WHERE t.kind = 'withdrawal' GROUP BY o.tx_id)"
    ).fetchone()[0]
    assert batch >= 5
    types = {t for (t,) in tiny_db.execute("SELECT DISTINCT type FROM addresses")}
    assert types == {"p2wpkh", "p2sh", "p2pkh"}
    for (address,) in tiny_db.execute("SELECT address FROM addresses LIMIT 500"):
        script_for(address)  # decodes with the independent bech32/base58 packages


def test_legacy_inputs_are_really_signed(tiny_db):
    """P2PKH inputs carry a real secp256k1 signature over the transaction (it is in the txid)."""
    rows = tiny_db.execute(
        "SELECT t.raw, i.n, a.address, o.value FROM inputs i JOIN transactions t ON t.id = i.tx_id "
        "JOIN outputs o ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n "
        "JOIN addresses a ON a.id = o.address_id WHERE a.type = 'p2pkh' LIMIT 20"
    ).fetchall()
    assert rows
    for raw, n, address, value in rows:
        tx = parse(raw)
        assert verify_input(tx, n, script_for(address), value)
        tampered = bytearray(raw)
        tampered[-5] ^= 1  # a byte of the last output's script
        assert not verify_input(parse(bytes(tampered)), n, script_for(address), value)
        assert parse_tx(raw)[0][n][2] == tx.inputs[n].script_sig


def test_a_coinbase_spent_before_its_block_is_signed_is_sealed_first(tmp_path):
    """The chain seals blocks when the signing worker hands back their witness commitments;
    a transaction spending a coinbase whose block is still waiting seals that block first,
    and both blocks pass python-bitcoinlib's CheckBlock, commitments included."""
    from bitcoin.core import CBlock, CheckBlock, CTransaction

    from sandbox.ledger.sim.chain import Chain
    from sandbox.ledger.sim.wallet import AddressBook, Wallet
    from sandbox.ledger.witness import full_transaction
    from sandbox.world.schema import create_tables

    conn = sqlite3.connect(tmp_path / "chain.db")
    create_tables(conn)
    book = AddressBook(5)
    chain = Chain(conn, book)
    try:
        wallet = Wallet(1, "a", "personal")
        miner, payee = book.new(wallet), book.new(wallet)
        chain.begin_block(1_700_000_000)
        reward = chain.end_block(miner)
        assert chain.txids[reward.tx_id] == b""  # its batch is not even sent yet
        chain.begin_block(1_700_000_600)
        spend = chain.add_tx([reward], [(payee, reward.value - 1_000)], 1_000, "payment")
        chain.end_block(miner)
        chain.flush()
    finally:
        chain.close()
        book.close()
    conn.commit()
    (coinbase,) = conn.execute("SELECT txid FROM transactions WHERE id = ?", (reward.tx_id,))
    (raw,) = conn.execute("SELECT raw FROM transactions WHERE id = ?", (spend,)).fetchone()
    assert parse_tx(raw)[0][0][0] == coinbase[0]  # the spend names the sealed coinbase
    prev = None
    for height, hash_, prev_hash, version, time, bits, nonce, root in conn.execute(
        "SELECT height, hash, prev_hash, version, time, bits, nonce, merkle_root FROM blocks "
        "WHERE height > 0 ORDER BY height"
    ):
        txs = [
            CTransaction.deserialize(full_transaction(conn, tx_id))
            for (tx_id,) in conn.execute(
                "SELECT id FROM transactions WHERE height = ? ORDER BY position", (height,)
            )
        ]
        block = CBlock(
            version,
            bytes.fromhex(prev_hash)[::-1],
            bytes.fromhex(root)[::-1],
            time,
            bits,
            nonce,
            txs,
        )
        CheckBlock(block, fCheckPoW=False, cur_time=2**40)
        assert block.GetHash()[::-1].hex() == hash_
        assert prev is None or prev_hash == prev
        prev = hash_
    assert prev is not None and len(txs) == 2 and not txs[1].wit.is_null()
