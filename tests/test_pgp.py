"""Deterministic OpenPGP keys: they parse, verify, sign, and GnuPG agrees on them."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import struct
import subprocess
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.pgp import PgpKey, clearsign, make_key, verify_clearsigned

pgpy = pytest.importorskip("pgpy")
from pgpy.constants import EllipticCurveOID, PubKeyAlgorithm, SignatureType  # noqa: E402

CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z
USER_ID = "DrGreenThumb <greenthumb@example.test>"

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


def load(armored: str):
    """A pgpy key from armour."""
    key, _ = pgpy.PGPKey.from_blob(armored)
    return key


def dearmor(armored: str) -> bytes:
    """The binary packets of an armoured block, checking its CRC-24 independently."""
    lines = armored.strip().splitlines()
    body = lines[lines.index("") + 1 : -1]
    assert body[-1].startswith("=")
    data = base64.b64decode("".join(body[:-1]))
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    assert base64.b64decode(body[-1][1:]) == (crc & 0xFFFFFF).to_bytes(3, "big")
    return data


def first_packet(data: bytes) -> tuple[int, bytes]:
    """Tag and body of the first new-format packet."""
    assert data[0] & 0xC0 == 0xC0, "expected a new-format packet header"
    tag = data[0] & 0x3F
    if data[1] < 192:
        return tag, data[2 : 2 + data[1]]
    if data[1] < 224:
        n = ((data[1] - 192) << 8) + data[2] + 192
        return tag, data[3 : 3 + n]
    (n,) = struct.unpack(">I", data[2:6])
    return tag, data[6 : 6 + n]


@pytest.fixture(scope="module")
def key() -> PgpKey:
    """One key with an encryption subkey."""
    return make_key(b"vendor-1/market-1", USER_ID, CREATED)


def test_public_armour_parses(key):
    """pgpy reads the public block with the right user id, time, algorithm and subkey."""
    assert key.public_armored.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n")
    assert key.public_armored.rstrip().endswith("-----END PGP PUBLIC KEY BLOCK-----")
    pub = load(key.public_armored)
    assert pub.is_public
    assert pub.fingerprint.replace(" ", "") == key.fingerprint
    assert pub.fingerprint.keyid == key.key_id
    assert pub.created == datetime.fromtimestamp(CREATED, UTC)
    assert pub.key_algorithm == PubKeyAlgorithm.EdDSA
    assert pub._key.keymaterial.oid == EllipticCurveOID.Ed25519
    assert [u.userid for u in pub.userids] == [USER_ID]
    assert pub.userids[0].name == "DrGreenThumb"
    assert pub.userids[0].email == "greenthumb@example.test"
    (sub,) = pub.subkeys.values()
    assert sub.key_algorithm == PubKeyAlgorithm.ECDH
    assert sub._key.keymaterial.oid == EllipticCurveOID.Curve25519


def test_fingerprint_is_sha1_of_key_packet(key):
    """The fingerprint is SHA-1 over 0x99 || length || public key packet body."""
    tag, body = first_packet(dearmor(key.public_armored))
    assert tag == 6
    assert body[0] == 4 and body[5] == 22
    assert struct.unpack(">I", body[1:5])[0] == CREATED
    expected = hashlib.sha1(b"\x99" + struct.pack(">H", len(body)) + body).hexdigest().upper()
    assert key.fingerprint == expected
    assert key.key_id == expected[-16:]
    assert len(key.fingerprint) == 40 and key.fingerprint == key.fingerprint.upper()


def test_secret_armour_parses_and_is_unlocked(key):
    """The secret block is unencrypted, with the same fingerprint and user id."""
    assert key.secret_armored.startswith("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n")
    sec = load(key.secret_armored)
    assert not sec.is_public
    assert not sec.is_protected and sec.is_unlocked
    assert sec.fingerprint.replace(" ", "") == key.fingerprint
    assert [u.userid for u in sec.userids] == [USER_ID]
    tag, _ = first_packet(dearmor(key.secret_armored))
    assert tag == 5


def test_self_signatures_verify(key):
    """The positive certification and the subkey binding verify with pgpy."""
    pub = load(key.public_armored)
    assert pub.verify(pub)
    uid = pub.userids[0]
    sig = uid.selfsig
    assert sig.type == SignatureType.Positive_Cert
    assert sig.signer == key.key_id
    assert sig.created == datetime.fromtimestamp(CREATED, UTC)
    assert pub.verify(uid, sig)
    (sub,) = pub.subkeys.values()
    (binding,) = sub.self_signatures
    assert binding.type == SignatureType.Subkey_Binding
    assert pub.verify(sub, binding)


def test_encryption_subkey_round_trip(key):
    """A message encrypted to the public key decrypts with the secret subkey."""
    pub, sec = load(key.public_armored), load(key.secret_armored)
    encrypted = pub.encrypt(pgpy.PGPMessage.new("meet at the usual place"))
    assert sec.decrypt(encrypted).message == "meet at the usual place"


def test_same_seed_same_armour_other_seed_other_key(key):
    """Keys depend only on the seed, user id and time."""
    again = make_key(b"vendor-1/market-1", USER_ID, CREATED)
    assert again == key
    other = make_key(b"vendor-2/market-1", USER_ID, CREATED)
    assert other.fingerprint != key.fingerprint
    assert other.public_armored != key.public_armored


def test_key_without_subkey():
    """subkey=False gives a sign-only primary key."""
    k = make_key(b"admin", "admin", CREATED, subkey=False)
    pub = load(k.public_armored)
    assert not pub.subkeys
    assert pub.verify(pub)
    assert k.user_id == "admin"


@settings(max_examples=25, deadline=None)
@given(seed=st.binary(min_size=0, max_size=40), user_id=st.text(min_size=1, max_size=80))
def test_any_seed_and_user_id_give_a_valid_key(seed, user_id):
    """Whatever the seed (secret MPIs with leading zeros too) and user id, pgpy accepts the key."""
    k = make_key(seed, user_id, CREATED)
    sec = load(k.secret_armored)
    assert sec.fingerprint.replace(" ", "") == k.fingerprint
    assert sec.userids[0].userid == user_id
    assert sec.pubkey.verify(sec.pubkey)


def test_clearsign_round_trip(key):
    """A clearsigned text verifies; a tampered one or another key's does not."""
    text = "Canary 2026-01-15\nWe have not been contacted by law enforcement.\n- staff\n"
    message = clearsign(key.secret_armored, text, created=CREATED + 3600)
    assert message.startswith("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n")
    assert "-----BEGIN PGP SIGNATURE-----" in message
    assert verify_clearsigned(key.public_armored, message)
    assert clearsign(key.secret_armored, text, created=CREATED + 3600) == message
    assert not verify_clearsigned(key.public_armored, message.replace("not been", "been"))
    other = make_key(b"someone else", "other", CREATED)
    assert not verify_clearsigned(other.public_armored, message)
    assert not verify_clearsigned(key.public_armored, "not a signed message")


@pytest.fixture
def gnupg_home(tmp_path):
    """A throw-away GnuPG home; the gpg-agent (and any daemon) gpg starts there is killed after."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    yield home
    subprocess.run(
        ["gpgconf", "--homedir", str(home), "--kill", "all"],
        capture_output=True,
        env={**os.environ, "GNUPGHOME": str(home)},
        timeout=30,
    )


@pytest.mark.skipif(shutil.which("gpg") is None, reason="GnuPG (gpg) is not installed")
def test_gnupg_imports_key(key, tmp_path, gnupg_home):
    """GnuPG imports both blocks, reports the same fingerprint and checks the signatures."""
    home = gnupg_home
    (tmp_path / "pub.asc").write_text(key.public_armored)
    (tmp_path / "sec.asc").write_text(key.secret_armored)
    (tmp_path / "msg.asc").write_text(clearsign(key.secret_armored, "hello\n", created=CREATED))

    def gpg(*args: str) -> subprocess.CompletedProcess:
        """Run gpg in the throw-away home directory."""
        return subprocess.run(
            ["gpg", "--homedir", str(home), "--batch", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "GNUPGHOME": str(home)},
        )

    assert gpg("--import", str(tmp_path / "pub.asc")).returncode == 0
    listing = gpg("--with-colons", "--fingerprint", "--list-keys").stdout
    fprs = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
    assert fprs[0] == key.fingerprint
    assert any(line.startswith("sub:") and ":cv25519:" in line for line in listing.splitlines())
    checked = gpg("--check-sigs")
    assert checked.returncode == 0, checked.stderr
    assert "2 good signatures" in checked.stderr
    verified = gpg("--verify", str(tmp_path / "msg.asc"))
    assert verified.returncode == 0 and "Good signature" in verified.stderr
    imported = gpg("--import", str(tmp_path / "sec.asc"))
    assert imported.returncode == 0 and "secret keys imported: 1" in imported.stderr
