"""PGP: public key blocks (parsed with pgpy) and the signers of clear-signed texts.

A key gives its fingerprint, user ids, creation time and algorithm; each user id's email
is also reported as an email (a classic OPSEC slip) and a handle-like name as a username.
A clear-signed text (mirrors.txt, canary.txt) gives the fingerprint of the key that signed
it, so two sites signing with one key are tied together.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pgpy

from .base import Artefact, Document, snippet
from .handles import HANDLE

KEY_BLOCK = re.compile(
    r"-----BEGIN PGP PUBLIC KEY BLOCK-----.*?-----END PGP PUBLIC KEY BLOCK-----", re.S
)
SIGNED = re.compile(r"-----BEGIN PGP SIGNED MESSAGE-----.*?-----END PGP SIGNATURE-----", re.S)


def _name(value) -> str:
    """An enum's name, or the value as text."""
    return getattr(value, "name", str(value))


def parse_key(armored: str) -> dict | None:
    """What a public key block says, or None when it does not parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key, _ = pgpy.PGPKey.from_blob(armored)
    except Exception:  # noqa: BLE001 - pgpy raises many kinds of errors on bad input
        return None
    fingerprint = str(key.fingerprint).replace(" ", "").upper()
    user_ids = [
        {"name": uid.name or "", "email": (uid.email or "").lower(), "comment": uid.comment or ""}
        for uid in key.userids
    ]
    return {
        "fingerprint": fingerprint,
        "key_id": fingerprint[-16:],
        "user_ids": user_ids,
        "emails": sorted({u["email"] for u in user_ids if u["email"]}),
        "created": key.created.isoformat(),
        "algorithm": _name(key.key_algorithm),
        "size": _name(key.key_size),
        "subkeys": sorted(str(k).upper() for k in key.subkeys),
    }


def parse_signed(text: str) -> dict | None:
    """The signer of a clear-signed text, or None when it does not parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            message = pgpy.PGPMessage.from_blob(text)
    except Exception:  # noqa: BLE001 - as above
        return None
    for signature in message.signatures:
        fingerprint = getattr(signature, "signer_fingerprint", None)
        return {
            "fingerprint": str(fingerprint).replace(" ", "").upper() if fingerprint else None,
            "key_id": (signature.signer or "").upper(),
            "created": signature.created.isoformat(),
            "algorithm": _name(signature.key_algorithm),
            "hash": _name(signature.hash_algorithm),
        }
    return None


def find(doc: Document) -> Iterator[Artefact]:
    """Every parsable public key (with its user ids' emails and names) and signed text."""
    text = doc.text
    for match in KEY_BLOCK.finditer(text):
        info = parse_key(match.group(0))
        if info is None:
            continue
        context = snippet(text, match.start(), match.start(), 120)
        yield Artefact("pgp_key", info["fingerprint"], info["fingerprint"], context, info)
        for uid in info["user_ids"]:
            where = {"source": "pgp_uid", "fingerprint": info["fingerprint"]}
            label = f"{uid['name']} <{uid['email']}>" if uid["email"] else uid["name"]
            if uid["email"]:
                yield Artefact("email", uid["email"], uid["email"], f"PGP user id: {label}", where)
            if HANDLE.fullmatch(uid["name"]):
                yield Artefact(
                    "username", uid["name"], uid["name"].lower(), f"PGP user id: {label}", where
                )
    for match in SIGNED.finditer(text):
        info = parse_signed(match.group(0))
        if info is None:
            continue
        signer = info["fingerprint"] or info["key_id"]
        yield Artefact(
            "pgp_signature",
            signer,
            signer,
            snippet(text, match.start(), match.start(), 120),
            info,
        )
