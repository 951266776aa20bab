"""Keys and signed transactions for a sweep: WIF and BIP39/32 keys, P2PKH, P2SH-P2WPKH, P2WPKH.

Legacy inputs are signed over the legacy sighash, segwit ones over BIP143's; signatures
are RFC 6979 and low-S (libsecp256k1 through coincurve). BIP39 and BIP32 come from embit.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import coincurve
from embit import bip32, bip39

from ..errors import InputError
from .codec.base58 import base58check_decode, base58check_encode
from .codec.bech32 import p2wpkh_encode
from .codec.compact import encode_compact_size, read_compact_size
from .codec.hashes import hash160, sha256d
from .codec.pushes import push_data

__all__ = [
    "PURPOSES",
    "Coin",
    "KeyScript",
    "build_sweep",
    "decode_wif",
    "derive",
    "key_scripts",
    "mnemonic_accounts",
    "txid",
    "vsize",
    "wif_scripts",
]

SIGHASH_ALL = 1
SEQUENCE = 0xFFFFFFFD  # final, but replaceable (BIP125): a stuck sweep can be bumped
DUST = 546
_U32 = struct.Struct("<I").pack
_I64 = struct.Struct("<q").pack

# BIP44/49/84 purposes and the script each uses; coin type 0 (mainnet), account 0.
PURPOSES = {84: "p2wpkh", 49: "p2sh-p2wpkh", 44: "p2pkh"}


@dataclass(frozen=True)
class KeyScript:
    """One way a key can hold coins: an address and what spending from it needs."""

    kind: str  # p2pkh | p2sh-p2wpkh | p2wpkh
    address: str
    script: bytes  # the output script
    secret: bytes
    pubkey: bytes  # compressed, or uncompressed for an uncompressed P2PKH
    path: str | None = None  # BIP32 path, for keys from a mnemonic


def key_scripts(secret: bytes, compressed: bool = True, path: str | None = None) -> list[KeyScript]:
    """Every standard single-key address of a private key (segwit ones need compressed keys)."""
    key = coincurve.PrivateKey(secret)
    pub = key.public_key.format(compressed=True)
    h = hash160(pub)
    out = []
    if not compressed:
        upub = key.public_key.format(compressed=False)
        uh = hash160(upub)
        out.append(
            KeyScript(
                "p2pkh",
                base58check_encode(b"\x00" + uh),
                b"\x76\xa9\x14" + uh + b"\x88\xac",
                secret,
                upub,
                path,
            )
        )
    redeem = b"\x00\x14" + h
    rh = hash160(redeem)
    out += [
        KeyScript("p2wpkh", p2wpkh_encode(h), redeem, secret, pub, path),
        KeyScript(
            "p2sh-p2wpkh",
            base58check_encode(b"\x05" + rh),
            b"\xa9\x14" + rh + b"\x87",
            secret,
            pub,
            path,
        ),
        KeyScript(
            "p2pkh",
            base58check_encode(b"\x00" + h),
            b"\x76\xa9\x14" + h + b"\x88\xac",
            secret,
            pub,
            path,
        ),
    ]
    return out


def decode_wif(text: str) -> tuple[bytes, bool]:
    """(secret, compressed) of a mainnet WIF private key; InputError when it is not one."""
    try:
        payload = base58check_decode(text.strip())
    except ValueError as e:
        raise InputError(f"not a valid WIF private key ({e})") from None
    if payload[:1] == b"\xef":
        raise InputError(
            "that WIF key is for testnet; the sandbox uses mainnet keys (5..., K..., L...)"
        )
    if payload[:1] != b"\x80" or len(payload) not in (33, 34):
        raise InputError("not a valid WIF private key (wrong version byte or length)")
    if len(payload) == 34 and payload[33] != 1:
        raise InputError("not a valid WIF private key (bad compression flag)")
    secret = payload[1:33]
    if not 0 < int.from_bytes(secret, "big") < coincurve.utils.GROUP_ORDER_INT:
        raise InputError("not a valid WIF private key (out of range)")
    return secret, len(payload) == 34


def wif_scripts(wif: str) -> list[KeyScript]:
    """The addresses to check for a WIF key: compressed and uncompressed P2PKH, P2SH-P2WPKH, P2WPKH."""
    secret, compressed = decode_wif(wif)
    scripts = key_scripts(secret, compressed=False)
    if compressed:
        scripts = scripts[1:] + scripts[:1]  # the key's own form first
    return scripts


def mnemonic_accounts(words: str, passphrase: str = "") -> bip32.HDKey:
    """The BIP32 root of a BIP39 mnemonic; InputError when the words or checksum are wrong."""
    text = " ".join(words.lower().split())
    count = len(text.split())
    if count not in (12, 15, 18, 21, 24):
        raise InputError(f"a BIP39 mnemonic has 12 to 24 words, not {count}")
    if not bip39.mnemonic_is_valid(text):
        raise InputError("not a valid BIP39 mnemonic (unknown word or bad checksum)")
    return bip32.HDKey.from_seed(bip39.mnemonic_to_seed(text, passphrase))


def derive(root: bip32.HDKey, purpose: int, change: int, index: int) -> KeyScript:
    """The key at m/purpose'/0'/0'/change/index as the script its purpose uses."""
    path = f"m/{purpose}h/0h/0h/{change}/{index}"
    secret = root.derive(path).key.secret
    kind = PURPOSES[purpose]
    return next(k for k in key_scripts(secret, True, path.replace("h", "'")) if k.kind == kind)


@dataclass(frozen=True)
class Coin:
    """An unspent output to sweep and the key that spends it."""

    txid: str
    vout: int
    value: int
    key: KeyScript


def _input_vsize(kind: str) -> float:
    """An upper bound of one signed input's virtual size (a 73-byte signature)."""
    if kind == "p2wpkh":
        return 41 + (1 + 1 + 73 + 1 + 33) / 4
    if kind == "p2sh-p2wpkh":
        return 41 + 23 + (1 + 1 + 73 + 1 + 33) / 4
    return 41 + 1 + 73 + 1 + 33


def _sign(secret: bytes, digest: bytes) -> bytes:
    """A DER signature with SIGHASH_ALL appended."""
    return coincurve.PrivateKey(secret).sign(digest, hasher=None) + bytes((SIGHASH_ALL,))


def _serialize(coins, script_sigs, witnesses, outputs, segwit: bool) -> bytes:
    """A version 2 transaction."""
    parts = [_U32(2)]
    if segwit:
        parts.append(b"\x00\x01")
    parts.append(encode_compact_size(len(coins)))
    for coin, script_sig in zip(coins, script_sigs, strict=True):
        parts += [
            bytes.fromhex(coin.txid)[::-1],
            _U32(coin.vout),
            encode_compact_size(len(script_sig)),
            script_sig,
            _U32(SEQUENCE),
        ]
    parts.append(encode_compact_size(len(outputs)))
    for value, script in outputs:
        parts += [_I64(value), encode_compact_size(len(script)), script]
    if segwit:
        for stack in witnesses:
            parts.append(encode_compact_size(len(stack)))
            for item in stack:
                parts += [encode_compact_size(len(item)), item]
    parts.append(_U32(0))
    return b"".join(parts)


def _signed(coins: list[Coin], dest: bytes, amount: int) -> bytes:
    """The sweep transaction with every input signed."""
    outputs = [(amount, dest)]
    outpoints = [bytes.fromhex(c.txid)[::-1] + _U32(c.vout) for c in coins]
    hash_prevouts = sha256d(b"".join(outpoints))
    hash_sequence = sha256d(b"".join(_U32(SEQUENCE) for _ in coins))
    hash_outputs = sha256d(b"".join(_I64(v) + encode_compact_size(len(s)) + s for v, s in outputs))
    script_sigs: list[bytes] = []
    witnesses: list[list[bytes]] = []
    for i, coin in enumerate(coins):
        k = coin.key
        if k.kind == "p2pkh":
            # Legacy sighash: this input carries the spent script, the others nothing.
            sigs = [k.script if j == i else b"" for j in range(len(coins))]
            unsigned = _serialize(coins, sigs, [], outputs, False)
            sig = _sign(k.secret, sha256d(unsigned + _U32(SIGHASH_ALL)))
            script_sigs.append(push_data(sig) + push_data(k.pubkey))
            witnesses.append([])
            continue
        script_code = b"\x19\x76\xa9\x14" + hash160(k.pubkey) + b"\x88\xac"
        preimage = (
            _U32(2)
            + hash_prevouts
            + hash_sequence
            + outpoints[i]
            + script_code
            + _I64(coin.value)
            + _U32(SEQUENCE)
            + hash_outputs
            + _U32(0)
            + _U32(SIGHASH_ALL)
        )
        witnesses.append([_sign(k.secret, sha256d(preimage)), k.pubkey])
        script_sigs.append(
            push_data(b"\x00\x14" + hash160(k.pubkey)) if k.kind == "p2sh-p2wpkh" else b""
        )
    segwit = any(witnesses)
    return _serialize(coins, script_sigs, witnesses, outputs, segwit)


def vsize(raw: bytes) -> int:
    """The virtual size of a serialized transaction (BIP141)."""
    if raw[4] != 0:
        return len(raw)
    stripped = _strip_witness(raw)
    return math.ceil((3 * len(stripped) + len(raw)) / 4)


def _strip_witness(raw: bytes) -> bytes:
    """The serialization without marker, flag and witnesses (what the txid hashes)."""
    pos = 6

    n, pos = read_compact_size(raw, pos)
    for _ in range(n):
        size, pos = read_compact_size(raw, pos + 36)
        pos += size + 4
    n, pos = read_compact_size(raw, pos)
    for _ in range(n):
        size, pos = read_compact_size(raw, pos + 8)
        pos += size
    return raw[:4] + raw[6:pos] + raw[-4:]


def build_sweep(coins: list[Coin], dest: bytes, fee_rate: float) -> tuple[bytes, int, int]:
    """(signed raw tx, fee, vsize) moving every coin to dest at fee_rate sat/vB."""
    total = sum(c.value for c in coins)
    estimate = 10 + 9 + len(dest) + sum(_input_vsize(c.key.kind) for c in coins)
    fee = math.ceil(fee_rate * math.ceil(estimate))
    for _ in range(3):
        if total - fee < DUST:
            raise InputError(
                f"the {total:,} sat found do not cover a {fee:,} sat fee at {fee_rate:g} sat/vB "
                "and leave more than dust"
            )
        raw = _signed(coins, dest, total - fee)
        size = vsize(raw)
        needed = math.ceil(fee_rate * size)
        if fee >= needed:
            return raw, fee, size
        fee = needed
    return raw, fee, size


def txid(raw: bytes) -> str:
    """The txid of a serialized transaction."""
    stripped = _strip_witness(raw) if raw[4] == 0 else raw
    return sha256d(stripped)[::-1].hex()
