"""The sandbox's own certificate authority, and the certificates its services present.

``ensure_ca(state)`` makes the CA once per state directory (``sandbox-ca.pem``, the file a
trainee tells a tool to trust, and its key ``sandbox-ca.key``, readable by the owner
only) and keeps it across restarts, so a tool told to trust it once keeps working.
``server_context(state, name)`` returns a TLS server context with a fresh certificate
for ``name`` signed by that CA (kept in ``tls/<name>.pem`` and ``.key``).
"""

from __future__ import annotations

import datetime
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CA_FILE", "ensure_ca", "server_context"]

CA_FILE = "sandbox-ca.pem"
_CA_KEY = "sandbox-ca.key"
_CA_NAME = "Darkweb Investigation Sandbox CA"
_LEAF_DAYS = 365
_CA_DAYS = 3650


def _now() -> datetime.datetime:
    """Now, in UTC; certificates start a day early for clocks that lag."""
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by its owner only, replacing any earlier file atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_ca(state: Path) -> Path:
    """The CA certificate's path in ``state``, made on first use (ValueError if damaged)."""
    cert_path, key_path = state / CA_FILE, state / _CA_KEY
    if cert_path.exists() and key_path.exists():
        _load_ca(state)
        return cert_path
    state.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, _CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Training sandbox"),
        ]
    )
    start = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    tmp = cert_path.with_suffix(".pem.tmp")
    tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tmp.replace(cert_path)
    return cert_path


def _load_ca(state: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The CA's certificate and key, or ValueError naming the damaged file."""
    cert_path, key_path = state / CA_FILE, state / _CA_KEY
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError as exc:
        raise ValueError(
            f"{cert_path}: not a PEM certificate ({exc}); delete it and restart"
        ) from None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{key_path}: not a PEM private key ({exc}); delete it and restart"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key_path}: not the sandbox CA's key; delete it and restart")
    return cert, key


def server_context(state: Path, name: str) -> ssl.SSLContext:
    """A TLS server context presenting a certificate for ``name`` from the sandbox CA."""
    ensure_ca(state)
    ca_cert, ca_key = _load_ca(state)
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=_LEAF_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = state / "tls"
    folder.mkdir(exist_ok=True)
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    _write_private(key_path, _key_pem(key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    return context
