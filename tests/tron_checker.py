"""An independent reader of Tron's formats, to check the engine's chain against.

It shares no code with `sandbox.tron`: its own protobuf wire reader and writer, the `base58`
package for addresses, pycryptodome's Keccak and coincurve's recovery. A world whose blocks and
transactions pass here is one a real Tron tool would read the same way.

check_world(conn) walks a built world's tron tables block by block: every txID, signature,
reference block and expiration; every block id, re-deriving the empty blocks between stored
ones from the witness order; each stored block's txTrieRoot; that each witness's key is
its address's (the world keeps no block signature: the node makes it from that key, and
check_served_block checks one as the node serves it); each transaction's fee against its bandwidth and energy; and replays TRX (from meta tron_genesis)
and USDT (from the logs) to the end state in tron_state and tron_contracts, with the
issuer's blacklist.
"""

from __future__ import annotations

import hashlib
import json

import base58
from coincurve import PrivateKey, PublicKey
from Crypto.Hash import keccak

# Field numbers from tronprotocol/protocol core/Tron.proto.
RAW_CONTRACT = 11
CONTRACT_PARAMETER = 2
ANY_VALUE = 2
OWNER_ADDRESS = 1
HEADER_FIELDS = {1: "timestamp", 2: "txTrieRoot", 3: "parentHash", 7: "number", 9: "witness"}


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    """The varint at offset at, and the offset after it."""
    value = shift = 0
    while True:
        if at >= len(data):
            raise ValueError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def read_message(data: bytes) -> dict[int, list[int | bytes]]:
    """Field number -> its values (ints for varints, bytes for length-delimited)."""
    fields: dict[int, list[int | bytes]] = {}
    at = 0
    while at < len(data):
        key, at = read_varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, at = read_varint(data, at)
        elif wire == 2:
            size, at = read_varint(data, at)
            if at + size > len(data):
                raise ValueError("truncated field")
            value, at = data[at : at + size], at + size
        else:
            raise ValueError(f"wire type {wire} is not used by Tron's messages")
        fields.setdefault(number, []).append(value)
    return fields


def one(
    fields: dict[int, list[int | bytes]], number: int, default: int | bytes = b""
) -> int | bytes:
    """The single value of a field, or default when it is absent."""
    return fields.get(number, [default])[0]


def b58(raw21: bytes) -> str:
    """The T... form of 21 address bytes."""
    return base58.b58encode_check(raw21).decode()


def address_of(public_key: PublicKey) -> bytes:
    """The 21-byte address of a public key."""
    digest = keccak.new(digest_bits=256, data=public_key.format(compressed=False)[1:]).digest()
    return b"\x41" + digest[-20:]


def signer(digest: bytes, signature: bytes) -> str:
    """The T... address that made a 65-byte signature over digest."""
    v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    public = PublicKey.from_signature_and_message(signature[:64] + bytes([v]), digest, hasher=None)
    return b58(address_of(public))


def transaction_owner(raw_bytes: bytes) -> tuple[str, str]:
    """(type_url of the contract, T... owner) read from a transaction's raw bytes."""
    contract = read_message(bytes(one(read_message(raw_bytes), RAW_CONTRACT)))  # type: ignore[arg-type]
    parameter = read_message(bytes(one(contract, CONTRACT_PARAMETER)))  # type: ignore[arg-type]
    value = read_message(bytes(one(parameter, ANY_VALUE)))  # type: ignore[arg-type]
    return bytes(one(parameter, 1)).decode(), b58(bytes(one(value, OWNER_ADDRESS)))  # type: ignore[arg-type]


def check_transaction(raw_bytes: bytes, signatures: list[bytes], txid: str) -> str:
    """The owner of a transaction after checking its txID and that the owner signed it."""
    digest = hashlib.sha256(raw_bytes).digest()
    assert digest.hex() == txid, f"txID {txid} is not the SHA-256 of its raw bytes"
    _, owner = transaction_owner(raw_bytes)
    assert signatures, f"{txid} has no signature"
    for signature in signatures:
        assert signer(digest, signature) == owner, f"{txid} is not signed by its owner {owner}"
    return owner


def header(raw_header: bytes) -> dict[str, int | bytes]:
    """The named fields of a BlockHeader.raw."""
    fields = read_message(raw_header)
    return {name: one(fields, n, 0) for n, name in HEADER_FIELDS.items()}


def block_id(raw_header: bytes) -> str:
    """The block id of a raw header: its number, then the tail of its SHA-256."""
    number = int(header(raw_header)["number"])
    return (number.to_bytes(8, "big") + hashlib.sha256(raw_header).digest()[8:]).hex()


def merkle_root(serialized_transactions: list[bytes]) -> bytes:
    """java-tron's txTrieRoot, computed here the long way (a list of levels)."""
    if not serialized_transactions:
        return bytes(32)
    level = [hashlib.sha256(t).digest() for t in serialized_transactions]
    while len(level) > 1:
        paired = []
        for i in range(0, len(level) - 1, 2):
            paired.append(hashlib.sha256(level[i] + level[i + 1]).digest())
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# -- writing: the few messages the checker must re-encode to hash them ------------------

BLOCK_VERSION = 30  # the header version java-tron 4.7 writes (genesis: 0)
BLOCK_MS = 3000
WITNESS_COUNT = 27
RESULT_CODES = {"SUCCESS": 1, "REVERT": 2, "OUT_OF_ENERGY": 10}
# java-tron mainnet's chain parameters the fee rules below use.
TRANSACTION_FEE = 1000  # sun per bandwidth byte burned
ENERGY_FEE = 100  # sun per energy unit burned
CREATE_ACCOUNT_FEE = 100_000  # bandwidth of a transfer that creates an account, burned
CREATE_NEW_ACCOUNT_FEE = 1_000_000  # the system contract's fee for creating an account
MAX_RESULT_SIZE = 64  # bytes java-tron adds to a transaction's size for its result
ZERO = "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


def write_varint(value: int) -> bytes:
    """The varint encoding of a non-negative int."""
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def varint_field(number: int, value: int) -> bytes:
    """A proto3 varint field (omitted at its default, 0)."""
    return write_varint(number << 3) + write_varint(value) if value else b""


def bytes_field(number: int, value: bytes, *, always: bool = False) -> bytes:
    """A length-delimited field (omitted when empty unless it is a present sub-message)."""
    if not value and not always:
        return b""
    return write_varint(number << 3 | 2) + write_varint(len(value)) + value


def header_bytes(
    number: int, timestamp: int, root: bytes, parent: bytes, witness: bytes, version: int
) -> bytes:
    """BlockHeader.raw, fields in number order as protobuf serializes them."""
    return (
        varint_field(1, timestamp)
        + bytes_field(2, root)
        + bytes_field(3, parent)
        + varint_field(7, number)
        + bytes_field(9, witness)
        + varint_field(10, version)
    )


def full_transaction(raw: bytes, signatures: list[bytes], result: str) -> bytes:
    """A whole Transaction as a block holds it: raw_data, signatures, ret{contractRet}."""
    ret = varint_field(3, RESULT_CODES[result])
    return (
        bytes_field(1, raw)
        + b"".join(bytes_field(2, s) for s in signatures)
        + bytes_field(5, ret, always=True)
    )


def raw21(text: str) -> bytes:
    """The 21 bytes of a T... address (checksum checked by base58)."""
    return base58.b58decode_check(text)


def selector(signature: str) -> bytes:
    """keccak256 of a Solidity signature (4 bytes for a function, 32 for an event topic)."""
    return keccak.new(digest_bits=256, data=signature.encode()).digest()


TOPIC = {
    name: selector(sig).hex()
    for name, sig in {
        "Transfer": "Transfer(address,address,uint256)",
        "Issue": "Issue(uint256)",
        "Redeem": "Redeem(uint256)",
        "DestroyedBlackFunds": "DestroyedBlackFunds(address,uint256)",
        "AddedBlackList": "AddedBlackList(address)",
        "RemovedBlackList": "RemovedBlackList(address)",
    }.items()
}
SENDS_TRANSFER = selector("transfer(address,uint256)")[:4]
SENDS = {SENDS_TRANSFER, selector("transferFrom(address,address,uint256)")[:4]}


def word_address(word: bytes | str) -> str:
    """The T... address of an ABI word (an address without its 0x41)."""
    raw = bytes.fromhex(word) if isinstance(word, str) else word
    return b58(b"\x41" + raw[-20:])


# -- the world --------------------------------------------------------------------------


class ChainChecker:
    """Walks a world's tron tables in block order and checks them against Tron's rules."""

    def __init__(self, conn):
        """Read the world's meta and witnesses."""
        self.conn = conn
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'tron_%'"))
        self.start = int(meta["tron_start_ms"])
        assert int(meta["tron_block_ms"]) == BLOCK_MS
        self.tip_number = int(meta["tron_tip_number"])
        self.tip_id = meta["tron_tip_id"]
        self.genesis: dict[str, int] = json.loads(meta["tron_genesis"])
        rows = conn.execute(
            "SELECT position, address, secret FROM tron_witnesses ORDER BY position"
        ).fetchall()
        self.witnesses = [raw21(a) for _, a, _s in rows]
        assert len(self.witnesses) == WITNESS_COUNT
        for position, address, secret in rows:
            public = PrivateKey(bytes(secret)).public_key
            assert b58(address_of(public)) == address, f"witness {position}: its key is not its"
        self.ids: list[bytes] = []  # block id of every block, stored or derived
        self.trx: dict[str, int] = dict(self.genesis)
        self.frozen: dict[str, int] = {}
        self.created: dict[str, tuple[int, str | None]] = {a: (0, None) for a in self.genesis}
        self.created[USDT] = (0, None)  # the token contract is deployed before block 1
        self.usdt: dict[str, int] = {}
        self.supply = 0
        self.blacklist: set[str] = set()
        self.counts: dict[str, int] = {}

    def run(self) -> dict[str, int]:
        """Check everything; returns counts of what was checked."""
        txs = self.conn.execute(
            "SELECT id, txid, block, position, raw, signature, type, owner, to_address, amount,"
            " result, fee, net_usage, net_fee, energy_usage, energy_fee, energy_usage_total,"
            " origin_energy_usage, timestamp FROM tron_txs ORDER BY block, position"
        )
        pending = next(txs, None)
        blocks = self.conn.execute(
            "SELECT number, block_id, parent_id, timestamp, witness, tx_trie_root, tx_count"
            " FROM tron_blocks ORDER BY number"
        )
        for block in blocks:
            number = block[0]
            self._derive_empty(number - 1)
            in_block = []
            while pending is not None and pending[2] == number:
                in_block.append(pending)
                pending = next(txs, None)
            self._block(block, in_block)
        assert pending is None, f"transaction {pending[1]} is in block {pending[2]}, not stored"
        self._derive_empty(self.tip_number)
        assert self.ids[-1].hex() == self.tip_id, "the tip id in meta is not the chain's last"
        self._end_state()
        return self.counts

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _derive_empty(self, upto: int) -> None:
        """Chain the empty blocks after the last one seen up to number upto."""
        for n in range(len(self.ids), upto + 1):
            assert n > 0, "the genesis block must be stored"
            raw = header_bytes(
                n, self.start + n * BLOCK_MS, bytes(32), self.ids[-1],
                self.witnesses[n % WITNESS_COUNT], BLOCK_VERSION,
            )  # fmt: skip
            self.ids.append(bytes.fromhex(block_id(raw)))
            self._count("empty blocks")

    def _block(self, block: tuple, txs: list[tuple]) -> None:
        """One stored block: number, time, witness, parent, root and id."""
        number, bid, parent, timestamp, witness, root, tx_count = block
        assert number == len(self.ids), f"block {number} is out of order"
        assert timestamp == self.start + number * BLOCK_MS, f"block {number} is not 3 s after"
        assert raw21(witness) == self.witnesses[number % WITNESS_COUNT], f"block {number}: witness"
        expected_parent = self.ids[-1] if number else bytes(32)
        assert bytes.fromhex(parent) == expected_parent, f"block {number}: parentHash"
        assert tx_count == len(txs) and (number == 0 or txs), f"block {number}: tx_count"
        assert [t[3] for t in txs] == list(range(len(txs))), f"block {number}: positions"
        full = []
        for tx in txs:
            self._transaction(tx, number, timestamp)
            sigs = [tx[5][i : i + 65] for i in range(0, len(tx[5]), 65)]
            full.append(full_transaction(tx[4], sigs, tx[10]))
        assert bytes.fromhex(root) == merkle_root(full), f"block {number}: txTrieRoot"
        raw = header_bytes(
            number, timestamp, bytes.fromhex(root), expected_parent, raw21(witness),
            BLOCK_VERSION if number else 0,
        )  # fmt: skip
        assert block_id(raw) == bid, f"block {number}: block id"
        self.ids.append(bytes.fromhex(bid))
        self._count("stored blocks")

    def _transaction(self, tx: tuple, number: int, block_ms: int) -> None:
        """One transaction: hash, signature, reference block, fields, fees and effects."""
        (_, txid, _, _, raw, sig_blob, kind, owner, to, amount, result, fee, net_usage, net_fee,
         energy_usage, energy_fee, energy_total, origin_energy, timestamp) = tx  # fmt: skip
        sigs = [sig_blob[i : i + 65] for i in range(0, len(sig_blob), 65)]
        assert check_transaction(raw, sigs, txid) == owner, f"{txid}: owner column"
        assert timestamp == block_ms, f"{txid}: timestamp"
        fields = read_message(raw)
        ref_bytes, ref_hash = bytes(one(fields, 1)), bytes(one(fields, 4))  # type: ignore[arg-type]
        # The one block of the last 65,536 whose number ends in ref_block_bytes.
        ref = number - 1 - (number - 1 - int.from_bytes(ref_bytes, "big")) % 65536
        assert ref >= 0 and self.ids[ref][8:16] == ref_hash, f"{txid}: no such ref block"
        assert int(one(fields, 8, 0)) > block_ms, f"{txid} was expired when it was included"
        assert int(one(fields, 14, 0)) <= block_ms, f"{txid} is stamped after its block"
        type_url, _ = transaction_owner(raw)
        assert type_url == f"type.googleapis.com/protocol.{kind}", f"{txid}: type {kind}"
        contract = read_message(bytes(one(read_message(raw), RAW_CONTRACT)))  # type: ignore[arg-type]
        value = read_message(bytes(one(read_message(bytes(one(contract, 2))), 2)))  # type: ignore[arg-type]
        assert owner in self.created, f"{txid}: {owner} sends before it is activated"
        self._fees(tx, value, kind)
        self.trx[owner] = self.trx.get(owner, 0) - fee
        getattr(self, "_" + kind)(tx, value, number)
        assert self.trx[owner] >= 0, f"{txid}: {owner} overspent its TRX"
        self._count(kind)

    def _fees(self, tx: tuple, value: dict, kind: str) -> None:
        """fee = net_fee + energy_fee (+ the account-creation fee); each matches its resource."""
        (_, txid, _, _, raw, sig_blob, _, owner, to, _, result, fee, net_usage, net_fee,
         energy_usage, energy_fee, energy_total, origin_energy, _) = tx  # fmt: skip
        creates = kind == "TransferContract" and to not in self.created
        size = len(bytes_field(1, raw)) + sum(
            len(bytes_field(2, sig_blob[i : i + 65])) for i in range(0, len(sig_blob), 65)
        )
        size += MAX_RESULT_SIZE
        assert fee == net_fee + energy_fee + (CREATE_NEW_ACCOUNT_FEE if creates else 0), (
            f"{txid}: fee {fee} is not net_fee + energy_fee"
        )
        if creates:
            assert (net_usage, net_fee) in ((size, 0), (0, CREATE_ACCOUNT_FEE)), f"{txid}: net"
        else:
            assert (net_usage, net_fee) in ((size, 0), (0, size * TRANSACTION_FEE)), (
                f"{txid}: bandwidth {net_usage}/{net_fee} for {size} bytes"
            )
        burned = energy_total - energy_usage - origin_energy
        assert burned >= 0 and energy_fee == burned * ENERGY_FEE, f"{txid}: energy fee"
        if kind != "TriggerSmartContract":
            assert energy_total == 0, f"{txid}: energy for a {kind}"
        if net_fee:
            self._count("bandwidth burned")
        if energy_fee:
            self._count("energy burned")

    # -- effects of each contract type --------------------------------------------------

    def _TransferContract(self, tx: tuple, value: dict, number: int) -> None:
        txid, owner, to, amount = tx[1], tx[7], tx[8], tx[9]
        assert b58(bytes(value[2][0])) == to and value[3][0] == amount, f"{txid}: to/amount"
        assert tx[10] == "SUCCESS"
        if to not in self.created:
            self.created[to] = (number, owner)
        self.trx[owner] -= amount
        self.trx[to] = self.trx.get(to, 0) + amount

    def _FreezeBalanceV2Contract(self, tx: tuple, value: dict, number: int) -> None:
        amount = int(value[2][0])
        assert tx[9] == amount, f"{tx[1]}: amount"
        self.trx[tx[7]] -= amount
        self.frozen[tx[7]] = self.frozen.get(tx[7], 0) + amount

    def _DelegateResourceContract(self, tx: tuple, value: dict, number: int) -> None:
        assert b58(bytes(value[4][0])) == tx[8] and value[3][0] == tx[9], f"{tx[1]}: fields"
        assert tx[8] in self.created, f"{tx[1]}: delegates to an account that does not exist"

    def _TriggerSmartContract(self, tx: tuple, value: dict, number: int) -> None:
        txid, owner, result = tx[1], tx[7], tx[10]
        assert int(one(value, 3, 0)) == 0, f"{txid}: call value on a non-payable contract"
        data = bytes(one(value, 4))  # type: ignore[arg-type]
        logs = self.conn.execute(
            "SELECT address, topics, data FROM tron_logs WHERE tx_id = ? ORDER BY idx", (tx[0],)
        ).fetchall()
        transfers = self.conn.execute(
            "SELECT from_address, to_address, value FROM trc20_transfers WHERE tx_id = ?"
            " ORDER BY idx",
            (tx[0],),
        ).fetchall()
        if data[:4] in SENDS and owner in self.blacklist:
            assert result != "SUCCESS", f"{txid}: blacklisted {owner} sent USDT"
            self._count("blacklisted sends reverted")
        if result != "SUCCESS":
            assert not logs, f"{txid}: a failed call has logs"
            return
        if data[:4] == SENDS_TRANSFER:
            # About 65k energy to an address holding USDT, 130k to one without (a new slot).
            new = self.usdt.get(word_address(data[4:36]), 0) == 0
            low, high = (125_000, 135_000) if new else (60_000, 70_000)
            assert low <= tx[16] <= high, f"{txid}: {tx[16]} energy (new holder: {new})"
            self._count("USDT transfers")
        seen = []
        for address, topics_json, blob in logs:
            assert address == USDT, f"{txid}: a log of {address}"
            topics = json.loads(topics_json)
            event = topics[0]
            if event == TOPIC["Transfer"]:
                frm, to = word_address(topics[1]), word_address(topics[2])
                amount = int.from_bytes(blob[:32], "big")
                assert frm not in self.blacklist, f"{txid}: blacklisted {frm} sent USDT"
                seen.append((frm, to, amount))
                if frm != ZERO:
                    self.usdt[frm] = self.usdt.get(frm, 0) - amount
                    assert self.usdt[frm] >= 0, f"{txid}: {frm} overspent its USDT"
                if to != ZERO:
                    self.usdt[to] = self.usdt.get(to, 0) + amount
            elif event == TOPIC["Issue"]:
                self.supply += int.from_bytes(blob[:32], "big")
                self._count("issues")
            elif event == TOPIC["Redeem"]:
                self.supply -= int.from_bytes(blob[:32], "big")
            elif event == TOPIC["DestroyedBlackFunds"]:
                user = word_address(topics[1] if len(topics) > 1 else blob[:32])
                burnt = int.from_bytes(blob[-32:], "big")
                assert user in self.blacklist and self.usdt.get(user, 0) == burnt, txid
                self.usdt[user] = 0
                self.supply -= burnt
                self._count("destroyed black funds")
            elif event == TOPIC["AddedBlackList"]:
                self.blacklist.add(word_address(topics[1] if len(topics) > 1 else blob[:32]))
                self._count("blacklistings")
            elif event == TOPIC["RemovedBlackList"]:
                self.blacklist.discard(word_address(topics[1] if len(topics) > 1 else blob[:32]))
        assert transfers == seen, f"{txid}: trc20_transfers differ from its Transfer logs"

    # -- the end --------------------------------------------------------------------------

    def _end_state(self) -> None:
        """Balances at the world's end equal what the transactions add up to."""
        for address, text in self.conn.execute("SELECT address, account FROM tron_state"):
            account = json.loads(text)
            assert address in self.created, f"{address} is in tron_state but never created"
            want = self.trx.get(address, 0)
            assert account["balance"] == want, f"{address}: TRX {account['balance']} != {want}"
            staked = sum(account["frozen"].values()) + sum(account["delegated"].values())
            assert staked == self.frozen.get(address, 0), f"{address}: staked TRX"
            self._count("accounts")
        assert self.conn.execute("SELECT count(*) FROM tron_state").fetchone()[0] == len(
            self.created
        ), "tron_state misses accounts"
        for address, block, by in self.conn.execute(
            "SELECT address, created_block, activated_by FROM tron_accounts"
        ):
            want = self.created.get(address)
            assert (block, by) == (want if want else (None, None)), f"{address}: activation"
        (state,) = self.conn.execute(
            "SELECT state FROM tron_contracts WHERE address = ?", (USDT,)
        ).fetchone()
        token = json.loads(state)
        held = {a: v for a, v in self.usdt.items() if v}
        assert {a: v for a, v in token["balances"].items() if v} == held, "USDT balances"
        assert token["total_supply"] == self.supply == sum(held.values()), "USDT total supply"
        assert set(token["blacklist"]) == self.blacklist, "USDT blacklist"


def check_served_block(block: dict, witness_secrets: list[bytes]) -> None:
    """A block other than the genesis one as /wallet/getblockbynum serves it (hex addresses):
    its id is its header's, its witness is the one whose turn it is (witness_secrets: the
    world's witnesses' keys in producing order), and its witness_signature is the header's
    hash signed with that key as RFC 6979 signs, byte for byte."""
    raw = block["block_header"]["raw_data"]
    number, witness = raw["number"], bytes.fromhex(raw["witness_address"])
    secret = witness_secrets[number % len(witness_secrets)]
    assert address_of(PrivateKey(secret).public_key) == witness, f"block {number}: witness"
    header = header_bytes(
        number, raw["timestamp"], bytes.fromhex(raw["txTrieRoot"]),
        bytes.fromhex(raw["parentHash"]), witness, raw["version"],
    )  # fmt: skip
    assert block_id(header) == block["blockID"], f"block {number}: block id"
    digest = hashlib.sha256(header).digest()
    signature = bytes.fromhex(block["block_header"]["witness_signature"])
    assert signer(digest, signature) == b58(witness), f"block {number}: not its witness's"
    made = PrivateKey(secret).sign_recoverable(digest, hasher=None)
    assert signature == made[:64] + bytes([made[64] + 27]), f"block {number}: not RFC 6979's"


def check_world(conn) -> dict[str, int]:
    """Check a built world's Tron chain; returns how many of each thing were checked."""
    return ChainChecker(conn).run()
