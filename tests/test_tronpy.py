"""tronpy 0.6.2, unchanged, against the served node: reads, a TRX and a USDT transfer signed
with world keys and found in the next block, and java-tron's refusals."""

from __future__ import annotations

import pytest
import requests
from tronpy import Tron
from tronpy.exceptions import BadSignature, UnknownError, ValidationError
from tronpy.keys import PrivateKey
from tronpy.providers import HTTPProvider

from .tron_node_world import build_tron_world, served_node, world_rows

pytestmark = pytest.mark.slow
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The tf-donations world."""
    return build_tron_world(tmp_path_factory.mktemp("tronpy"))


@pytest.fixture(scope="module", params=["node", "workers"])
def node(request, world, tmp_path_factory):
    """(tronpy client, chain, world path): the node's own process alone, then as `sandbox
    up` serves it, its port served by worker processes that read the files and pass the
    rest to it."""
    state = tmp_path_factory.mktemp(f"tronpy-{request.param}")
    with served_node(world, state, workers=request.param == "workers") as (url, chain):
        yield Tron(HTTPProvider(url)), chain, world


def rich_key(world) -> PrivateKey:
    """The key of a world account holding USDT and TRX (read from the world file)."""
    rows = world_rows(
        world,
        "SELECT a.secret FROM tron_accounts a JOIN trc20_transfers f ON f.to_address = a.address "
        "WHERE a.wallet = 'hot' LIMIT 1",
    )
    return PrivateKey(bytes(rows[0][0]))


def test_reads(node):
    """A block, an account, a USDT balance, a transaction and its info."""
    client, _chain, world = node
    block = client.get_block(1)
    assert block["block_header"]["raw_data"]["number"] == 1
    txid, owner = world_rows(
        world, "SELECT txid, owner FROM tron_txs WHERE type = 'TriggerSmartContract' LIMIT 1"
    )[0]
    assert client.get_account(owner)["address"] == owner
    assert client.get_transaction(txid)["txID"] == txid
    info = client.get_transaction_info(txid)
    assert info["id"] == txid and info["receipt"]["energy_usage_total"] > 0
    balance = client.get_contract(USDT).functions.balanceOf(owner)
    assert isinstance(balance, int)


def test_trx_and_usdt_transfers(node):
    """Signed, broadcast, and in the next block with their receipts."""
    client, chain, world = node
    key = rich_key(world)
    me = key.public_key.to_base58check_address()
    other = PrivateKey(bytes(range(1, 33))).public_key.to_base58check_address()
    sent = client.trx.transfer(me, other, 2_000_000).build().sign(key).broadcast()
    usdt = client.get_contract(USDT)
    before = usdt.functions.balanceOf(other)
    call = usdt.functions.transfer(other, 1_000_000).with_owner(me).fee_limit(50_000_000)
    sent_usdt = call.build().sign(key).broadcast()
    number = chain.produce()
    block = client.get_block(number)
    assert {t["txID"] for t in block["transactions"]} == {sent.txid, sent_usdt.txid}
    assert client.get_transaction_info(sent_usdt.txid)["receipt"]["result"] == "SUCCESS"
    assert usdt.functions.balanceOf(other) == before + 1_000_000
    assert client.get_account_balance(other) >= 2


def test_refusals(node):
    """A bad signature, an overspend: java-tron's codes, nothing stored."""
    client, chain, world = node
    key = rich_key(world)
    me = key.public_key.to_base58check_address()
    stranger = PrivateKey(bytes(range(2, 34)))
    tx = client.trx.transfer(me, stranger.public_key.to_base58check_address(), 1).build()
    # tronpy's sign() refuses a key outside the permission, so the signature is set by hand.
    forged = stranger.sign_msg_hash(bytes.fromhex(tx.txid)).hex()
    with pytest.raises(BadSignature):
        tx.set_signature([forged]).broadcast()
    balance = int(client.get_account_balance(me) * 1_000_000)
    with pytest.raises(ValidationError, match="balance is not sufficient"):
        client.trx.transfer(
            me, stranger.public_key.to_base58check_address(), balance + 1
        ).build().sign(key).broadcast()
    assert chain.tx(tx.txid) is None


def test_blacklisted_sender_refused(node):
    """The issuer blacklists a holder (a real addBlackList, signed with the treasury's world
    key); the holder's next USDT transfer is refused with CONTRACT_EXE_ERROR and costs
    nothing, while a TRX transfer still goes through."""
    client, chain, world = node
    issuer = PrivateKey(
        bytes(world_rows(world, "SELECT secret FROM tron_accounts WHERE wallet = 'treasury'")[0][0])
    )
    rich = rich_key(world).public_key.to_base58check_address()
    holder_row = world_rows(
        world,
        "SELECT a.address, a.secret FROM tron_accounts a JOIN trc20_transfers f "
        "ON f.to_address = a.address WHERE a.wallet NOT IN ('treasury', 'hot') "
        "AND a.address != ? GROUP BY a.address ORDER BY sum(f.value) DESC LIMIT 1",
        (rich,),
    )[0]
    holder, holder_key = holder_row[0], PrivateKey(bytes(holder_row[1]))
    usdt = client.get_contract(USDT)
    assert usdt.functions.balanceOf(holder) > 0
    listed = (
        usdt.functions.addBlackList(holder)
        .with_owner(issuer.public_key.to_base58check_address())
        .fee_limit(50_000_000)
        .build()
        .sign(issuer)
        .broadcast()
    )
    chain.produce()
    assert client.get_transaction_info(listed.txid)["receipt"]["result"] == "SUCCESS"
    assert usdt.functions.isBlackListed(holder) is True
    balance = usdt.functions.balanceOf(holder)
    trx_before = client.get_account_balance(holder)
    refused = usdt.functions.transfer(rich, 1).with_owner(holder).fee_limit(50_000_000)
    tx = refused.build().sign(holder_key)
    with pytest.raises(UnknownError) as caught:
        tx.broadcast()
    assert caught.value.args[1] == "CONTRACT_EXE_ERROR"
    assert "REVERT opcode executed" in caught.value.args[0]
    assert chain.tx(tx.txid) is None
    chain.produce()
    assert usdt.functions.balanceOf(holder) == balance
    assert client.get_account_balance(holder) == trx_before


def test_a_new_address_is_in_trongrid_pages_at_once(node):
    """A USDT transfer to an address the world never saw: TronGrid's TRC-20 page of that
    address shows it while in the mempool, then in its block (the workers follow what the
    node's own process commits)."""
    client, chain, world = node
    key = rich_key(world)
    me = key.public_key.to_base58check_address()
    fresh = PrivateKey(bytes(range(40, 72))).public_key.to_base58check_address()
    call = client.get_contract(USDT).functions.transfer(fresh, 1_500_000)
    sent = call.with_owner(me).fee_limit(50_000_000).build().sign(key).broadcast()
    base = client.provider.endpoint_uri.rstrip("/")
    page = f"{base}/v1/accounts/{fresh}/transactions/trc20"
    pending = requests.get(page, params={"only_unconfirmed": "true"}, timeout=30).json()
    assert [(r["transaction_id"], r["value"]) for r in pending["data"]] == [(sent.txid, "1500000")]
    number = chain.produce()
    done = requests.get(page, params={"only_confirmed": "true"}, timeout=30).json()
    assert [r["transaction_id"] for r in done["data"]] == [sent.txid]
    assert client.get_transaction_info(sent.txid)["blockNumber"] == number
