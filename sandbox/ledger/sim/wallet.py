"""Wallets and the address book: who owns which key, and which coins each wallet can spend."""

from __future__ import annotations

import hashlib
import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from ..address import address_from_hash160
from ..codec.hashes import hash160
from ..hd import HDKeys
from ..keys import Key

_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1 group order
_COMPRESSED = lib.SECP256K1_EC_COMPRESSED

# Output script templates, by address type; the builder needs them millions of times.
_SPK_PREFIX = {"p2wpkh": b"\x00\x14", "p2pkh": b"\x76\xa9\x14", "p2sh": b"\xa9\x14"}
_SPK_SUFFIX = {"p2wpkh": b"", "p2pkh": b"\x88\xac", "p2sh": b"\x87"}


@dataclass(slots=True)
class Utxo:
    """An unspent output a wallet holds."""

    tx_id: int
    n: int
    value: int
    address_id: int
    height: int


@dataclass(slots=True)
class Wallet:
    """A set of keys owned by one actor for one purpose, and the coins on them."""

    id: int
    actor_id: str
    kind: str
    address_type: str = "p2wpkh"
    site_id: str | None = None
    label: str | None = None
    reuse: bool = False  # careless: receives and takes change on one address
    utxos: list[Utxo] = field(default_factory=list)
    receive_address: int | None = None  # the reused or published address, when there is one
    hd: HDKeys | None = None  # keys from recovery words instead of the world's key stream

    def balance(self, height: int | None = None) -> int:
        """Satoshis spendable at this height (all coins when height is None)."""
        if height is None:
            return sum(u.value for u in self.utxos)
        return sum(u.value for u in self.utxos if u.height < height)


def _scalar(seed: bytes, label: bytes) -> int:
    """A nonzero scalar mod n derived from the seed."""
    return int.from_bytes(hashlib.sha256(seed + label).digest(), "big") % (_N - 1) + 1


def _derive_chunk(seed: bytes, start: int, count: int) -> list[tuple[bytes, bytes]]:
    """Secrets and compressed public keys for address ids start .. start+count-1.

    Secret i is base + i * step (mod n), so public key i + 1 is public key i plus the
    point step*G: one point addition instead of a scalar multiplication per key, about
    four times faster, and every pair is still a real secp256k1 key pair.
    """
    ctx = GLOBAL_CONTEXT.ctx
    base, step = _scalar(seed, b"base"), _scalar(seed, b"step")
    first = (base + start * step) % _N
    point = ffi.new("secp256k1_pubkey *")
    step_point = ffi.new("secp256k1_pubkey *")
    added = ffi.new("secp256k1_pubkey *")
    if not (
        lib.secp256k1_ec_pubkey_create(ctx, point, first.to_bytes(32, "big"))
        and lib.secp256k1_ec_pubkey_create(ctx, step_point, step.to_bytes(32, "big"))
    ):
        raise ValueError("key derivation produced an invalid scalar")
    pair = ffi.new("secp256k1_pubkey *[2]", [point, step_point])
    out = ffi.new("unsigned char[33]")
    outlen = ffi.new("size_t *")
    size = ffi.sizeof("secp256k1_pubkey")
    view = ffi.buffer(out)
    combine, serialize = lib.secp256k1_ec_pubkey_combine, lib.secp256k1_ec_pubkey_serialize
    keys = []
    secret = first
    for _ in range(count):
        if secret == 0:  # base + i*step hit n exactly: a 1 in 2**256 chance, but be correct
            raise ValueError("key derivation produced the zero scalar")
        outlen[0] = 33
        serialize(ctx, out, outlen, point, _COMPRESSED)
        keys.append((secret.to_bytes(32, "big"), view[:]))
        combine(ctx, added, pair, 2)
        ffi.memmove(point, added, size)
        secret = (secret + step) % _N
    return keys


def _address_chunk(seed: bytes, start: int, count: int) -> list[tuple[bytes, bytes, bytes, str]]:
    """(secret, public key, its hash160, P2WPKH address) for a chunk of address ids."""
    return [
        (secret, p, h, address_from_hash160("p2wpkh", h))
        for secret, p, h in ((s, p, hash160(p)) for s, p in _derive_chunk(seed, start, count))
    ]


class _KeyStream:
    """Keys for address ids 1, 2, 3, ... derived ahead of need in a worker process.

    Keys, their hashes and their bech32 form are a fifth of a build's work and depend on
    nothing but the seed, so a second core makes them while the simulation runs. The
    worker is forked (it needs no importable __main__, so builds run from notebooks and
    `python -` too); where no process can be started, chunks are made in-process.
    """

    CHUNK = 8192
    AHEAD = 2

    def __init__(self, seed: bytes):
        """A stream of the world's keys."""
        self._seed = seed
        self._next_start = 1
        self._pool: ProcessPoolExecutor | None = None
        self._futures: deque[Future] = deque()
        self._chunk: Iterator[tuple[bytes, bytes, bytes, str]] = iter(())
        try:
            if "fork" in multiprocessing.get_all_start_methods():
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
                for _ in range(self.AHEAD):
                    self._schedule()
        except OSError:
            self._pool = None

    def _schedule(self) -> None:
        """Ask the worker for the next chunk."""
        assert self._pool is not None  # only called when the worker started
        self._futures.append(
            self._pool.submit(_address_chunk, self._seed, self._next_start, self.CHUNK)
        )
        self._next_start += self.CHUNK

    def _refill(self) -> None:
        """Take the next chunk, from the worker or made here."""
        if self._pool is not None:
            chunk = self._futures.popleft().result()
            self._schedule()
        else:
            chunk = _address_chunk(self._seed, self._next_start, self.CHUNK)
            self._next_start += self.CHUNK
        self._chunk = iter(chunk)

    def next(self) -> tuple[bytes, bytes, bytes, str]:
        """The (secret, public key, key hash, P2WPKH address) of the next address id."""
        item = next(self._chunk, None)
        if item is None:
            self._refill()
            item = next(self._chunk)
        return item

    def close(self) -> None:
        """Stop the worker."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class AddressBook:
    """Creates addresses from real secp256k1 keys derived from the world seed, and remembers them.

    Only what the ledger needs later is kept in memory (type, hash160, and the secret to
    sign inputs with at build time); rows for the `addresses` table are
    handed out in batches.
    """

    def __init__(self, seed: int):
        """Start an empty book whose keys derive from the world seed."""
        self._seed = seed.to_bytes(32, "big") + b"addresses"  # a keyed seed has 256 bits
        self.types: list[str] = [""]  # index = address id; id 0 unused
        self.hashes: list[bytes] = [b""]
        self.secrets: dict[int, bytes] = {}  # P2PKH only: signed at build time
        # Every key, 32 bytes per address id: blocks commit to their segwit witnesses
        # (BIP141), so every input is signed at build time too.
        self._all_secrets = bytearray(32)
        self._all_pubkeys = bytearray(33)  # and their public keys, 33 bytes per id
        self._p2sh_keyhash: dict[int, bytes] = {}  # P2SH-P2WPKH: the key hash in the redeem script
        self.wallet_of: list[int] = [0]
        self._rows: list[tuple] = []
        self._keys = _KeyStream(self._seed)

    def __len__(self) -> int:
        """Number of addresses made so far."""
        return len(self.types) - 1

    def new(
        self, wallet: Wallet, purpose: str | None = None, address_type: str | None = None
    ) -> int:
        """Make a fresh address for a wallet and return its id."""
        address_id = len(self.types)
        kind = address_type or wallet.address_type
        if wallet.hd is not None:
            secret = wallet.hd.next_secret(kind, purpose == "change")
            key = Key(secret)
            pubkey, h = key.public_key, key.hash160
            address = address_from_hash160("p2wpkh", h)
        else:
            secret, pubkey, h, address = self._keys.next()
        if kind == "p2sh":  # P2SH-P2WPKH: the script hash commits to the witness program
            self._p2sh_keyhash[address_id] = h
            h = hash160(b"\x00\x14" + h)
            address = address_from_hash160(kind, h)
        elif kind == "p2pkh":
            self.secrets[address_id] = secret
            address = address_from_hash160(kind, h)
        self._all_secrets += secret
        self._all_pubkeys += pubkey
        self.types.append(kind)
        self.hashes.append(h)
        self.wallet_of.append(wallet.id)
        self._rows.append((address_id, address, wallet.id, kind, secret, purpose))
        return address_id

    def close(self) -> None:
        """Release the key worker."""
        self._keys.close()

    def receive(self, wallet: Wallet, purpose: str | None = None) -> int:
        """The address a wallet gives a payer: its reused one, or a fresh one."""
        if wallet.reuse:
            if wallet.receive_address is None:
                wallet.receive_address = self.new(wallet, purpose or "receive")
            return wallet.receive_address
        return self.new(wallet, purpose or "receive")

    def change(self, wallet: Wallet) -> int:
        """Where a wallet sends its change: back to itself when careless, else a new address."""
        if wallet.reuse and wallet.receive_address is not None:
            return wallet.receive_address
        return self.new(wallet, "change")

    def secret(self, address_id: int) -> bytes:
        """The private key of an address."""
        return bytes(self._all_secrets[32 * address_id : 32 * address_id + 32])

    def pubkey(self, address_id: int) -> bytes:
        """The compressed public key of an address."""
        return bytes(self._all_pubkeys[33 * address_id : 33 * address_id + 33])

    def pubkey_hash(self, address_id: int) -> bytes:
        """The key hash inside a P2SH-P2WPKH address's redeem script."""
        return self._p2sh_keyhash[address_id]

    def script(self, address_id: int) -> bytes:
        """The output script paying this address."""
        kind = self.types[address_id]
        return _SPK_PREFIX[kind] + self.hashes[address_id] + _SPK_SUFFIX[kind]

    def take_rows(self) -> list[tuple]:
        """Rows made since the last call, for the addresses table."""
        rows, self._rows = self._rows, []
        return rows
