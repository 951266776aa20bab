"""`investigate request`: ask an exchange's (or the USDT issuer's, or a swap service's)
law-enforcement portal about an address or txid.

The issuer's portal (tether.test) takes `freeze`, `unfreeze`, `reissue` (to `--wallet`)
and `status`, and answers `answer.reference`, `answer.status`, `answer.txids`; a swap
service's portal takes `orders` and answers `answer.orders`, kept in the case as
cross-chain links (investigator_tools.tron.links). `--confidential` asks the portal not to
tell the subject (`"confidential": true`).

The request goes to the portal's JSON API (`POST /api/le/requests`) through the gateway,
as a real request would go to a real exchange's portal, with the API token the exchange
issued to the requesting agency (`Authorization: Bearer <token>`). What was sent (with its
SHA-256) and what came back (captured with its SHA-256) are kept in the case, tied to
the command in the chain of custody.
"""

from __future__ import annotations

import hashlib
import json
import re
import time

from .case import Case
from .chain.address import normalize_address
from .chain.codec.tron import is_tron_address, tron_address
from .errors import InputError, RemoteError
from .esplora import HttpClient

__all__ = ["ASKS", "LEGAL_BASES", "format_answer", "list_requests", "submit_request"]

ASKS = ("kyc", "transactions", "logins", "freeze", "unfreeze", "reissue", "status", "orders")
LEGAL_BASES = ("court_order", "subpoena", "mlat", "emergency", "informal")
API_PATH = "api/le/requests"
HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
TXID = re.compile(r"^[0-9a-fA-F]{64}$")
TOTALS = {"deposits": "total_deposited_btc", "withdrawals": "total_withdrawn_btc"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS le_requests (
    id INTEGER PRIMARY KEY,
    exchange TEXT NOT NULL,       -- the portal's host name
    url TEXT NOT NULL,
    subject TEXT NOT NULL,
    requested TEXT NOT NULL,      -- JSON list
    legal_basis TEXT NOT NULL,
    case_number TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    request_body TEXT NOT NULL,   -- the JSON sent, byte for byte
    request_sha256 TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    reference TEXT,               -- the exchange's reference for the request
    status TEXT,                  -- answered, partially answered, refused, invalid
    reason TEXT,
    answer_capture_id INTEGER REFERENCES captures(id),
    custody_id INTEGER NOT NULL
);
"""


def _host(exchange: str) -> str:
    """The portal's host name from a name or URL; InputError if it is neither."""
    text = exchange.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rstrip(".")
    if not HOST.match(text):
        raise InputError(f"{exchange!r} is not a host name (e.g. coinvault.test)")
    return text


def _subject(subject: str) -> str:
    """A txid in lower case or an address in canonical form; InputError otherwise."""
    text = subject.strip()
    if TXID.match(text):
        return text.lower()
    if is_tron_address(text):
        return text
    try:
        return normalize_address(text)
    except InputError:
        raise InputError(
            f"--subject {subject!r} is neither a Bitcoin address nor a txid (64 hex digits) "
            "nor a Tron address (T..., 34 characters)"
        ) from None


def _wallet(wallet: str | None, asks: list[str]) -> str | None:
    """The Tron wallet a reissue pays to: required with reissue, refused without it."""
    if "reissue" not in asks:
        if wallet:
            raise InputError("--wallet is only for --ask reissue (the wallet to reissue to)")
        return None
    if not wallet:
        raise InputError("--ask reissue needs --wallet T... (the law-enforcement wallet)")
    try:
        return tron_address(wallet)
    except ValueError as e:
        raise InputError(f"--wallet {wallet!r} is not a Tron address: {e}") from None


def _asks(asks) -> list[str]:
    """The requested items, checked."""
    items = []
    for part in asks if isinstance(asks, list | tuple) else [asks]:
        for item in str(part).split(","):
            item = item.strip().lower()
            if not item:
                continue
            if item not in ASKS:
                raise InputError(f"--ask {item!r}: one of {', '.join(ASKS)}")
            if item not in items:
                items.append(item)
    if not items:
        raise InputError(f"--ask: name at least one of {', '.join(ASKS)}")
    return items


def submit_request(
    case: Case,
    exchange: str,
    subject: str,
    *,
    legal_basis: str,
    case_number: str,
    agency: str,
    officer: str,
    email: str,
    asks,
    document_ref: str | None = None,
    details: str | None = None,
    proxy: str | None = None,
    token: str | None = None,
    wallet: str | None = None,
    confidential: bool = False,
) -> dict:
    """Submit a request to an exchange's portal with the agency's API token; the stored record.

    The token is sent, never stored in the case.
    """
    host = _host(exchange)
    token = (token or "").strip()
    if not token:
        raise InputError(
            "no API token: give --token (or set INVESTIGATE_LE_TOKEN) with the token the "
            "exchange issued to your agency"
        )
    if legal_basis not in LEGAL_BASES:
        raise InputError(f"--legal-basis {legal_basis!r}: one of {', '.join(LEGAL_BASES)}")
    if not EMAIL.match(email or ""):
        raise InputError(f"--email {email!r} is not an email address")
    for name, value in (
        ("--case-number", case_number),
        ("--agency", agency),
        ("--officer", officer),
    ):
        if not (value or "").strip():
            raise InputError(f"{name} is required")
    requested = _asks(asks)
    reissue_to = _wallet(wallet, requested)
    body: dict = {
        "agency": agency,
        "officer_name": officer,
        "officer_email": email,
        "case_number": case_number,
        "legal_basis": legal_basis,
        "document_reference": document_ref or "",
        "subject": _subject(subject),
        "requested": requested,
    }
    if details:
        body["details"] = details
    if reissue_to:
        body["wallet"] = reissue_to
    if confidential:
        body["confidential"] = True
    client = HttpClient(f"http://{host}", proxy, always_proxy=True)
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
    response = client.request(
        "POST",
        API_PATH,
        ok=range(100, 600),
        data=payload,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {token}",
        },
    )
    if response.status_code == 401:
        raise RemoteError(
            f"{host} did not accept the API token: check --token (INVESTIGATE_LE_TOKEN) "
            "against the one the exchange issued to your agency"
        )
    if response.status_code == 404:
        raise RemoteError(f"{host} has no law-enforcement API at /{API_PATH} (not an exchange?)")
    try:
        answer = response.json()
    except ValueError:
        raise RemoteError(
            f"{client.url(API_PATH)} answered HTTP {response.status_code} without JSON"
        ) from None
    case.ensure(SCHEMA)
    capture = case.capture(
        client.url(API_PATH),
        host,
        response.status_code,
        response.headers.get("Content-Type"),
        response.content,
        via=client.proxy,
    )
    inner = answer.get("answer") or {}
    status = "invalid" if response.status_code == 400 else inner.get("status")
    cur = case.conn.execute(
        "INSERT INTO le_requests (exchange, url, subject, requested, legal_basis, case_number, "
        "submitted_at, request_body, request_sha256, http_status, reference, status, reason, "
        "answer_capture_id, custody_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            host,
            client.url(API_PATH),
            body["subject"],
            json.dumps(body["requested"]),
            legal_basis,
            case_number,
            time.time(),
            payload.decode("utf-8"),
            hashlib.sha256(payload).hexdigest(),
            response.status_code,
            answer.get("reference"),
            status,
            inner.get("reason") or answer.get("reason"),
            capture.id,
            case.custody_id,
        ),
    )
    if response.status_code == 400:
        errors = "; ".join(
            f"{e.get('field')}: {e.get('message')}" for e in answer.get("errors", [])
        )
        raise RemoteError(f"{host} refused the request as incomplete: {errors}")
    if response.status_code != 201:
        raise RemoteError(f"{host} answered HTTP {response.status_code}: {response.text[:300]}")
    linked = 0
    if "orders" in inner:
        from .tron.links import store_orders

        linked = store_orders(case, host, inner["orders"])
    return {
        "linked_orders": linked,
        "id": cur.lastrowid,
        "exchange": host,
        "request": body,
        "request_sha256": hashlib.sha256(payload).hexdigest(),
        "answer_sha256": capture.sha256,
        "reference": answer.get("reference"),
        "links": answer.get("links"),
        "answer": inner,
    }


def list_requests(case: Case) -> list[dict]:
    """Every request stored in the case, oldest first."""
    case.ensure(SCHEMA)
    rows = case.conn.execute(
        "SELECT id, exchange, subject, requested, legal_basis, case_number, submitted_at, "
        "http_status, reference, status, reason, request_sha256, answer_capture_id "
        "FROM le_requests ORDER BY id"
    )
    return [dict(r) for r in rows]


def format_answer(record: dict) -> list[str]:
    """The answer as lines of text for the terminal."""
    a = record["answer"]
    lines = [
        f"{record['exchange']}: {a.get('reference')} - {a.get('status')}"
        + (f" ({a['reason']})" if a.get("reason") else ""),
        a.get("message", ""),
    ]
    for acc in a.get("accounts", []):
        lines.append(f"account {acc.get('account_id')} ({acc.get('status')})")
        sub = acc.get("subscriber") or {}
        for key in (
            "name",
            "birth_date",
            "nationality",
            "document_number",
            "street",
            "city",
            "country",
            "email",
            "phone",
            "username",
        ):
            if sub.get(key):
                lines.append(f"  {key.replace('_', ' ')}: {sub[key]}")
        iban = (acc.get("bank_account") or {}).get("iban")
        if iban:
            lines.append(f"  bank account: {iban}")
        for kind in ("deposits", "withdrawals"):
            if kind in acc:
                total = acc.get(TOTALS[kind])
                lines.append(f"  {kind}: {len(acc[kind])}" + (f", {total} BTC" if total else ""))
                for m in acc[kind][:10]:
                    lines.append(f"    {m['time_utc']}  {m['amount_btc']} BTC  {m['txid']}")
        if "logins" in acc:
            lines.append(f"  logins: {len(acc['logins'])}")
            for login in acc["logins"][:10]:
                lines.append(
                    "    "
                    + "  ".join(str(login.get(k, "")) for k in ("time_utc", "ip", "user_agent"))
                )
        if "freeze" in acc:
            lines.append(f"  freeze: {acc['freeze'].get('status')}")
    if a.get("txids"):
        lines.append("transactions: " + ", ".join(str(t) for t in a["txids"]))
    for o in a.get("orders", []):
        f, t = o.get("from") or {}, o.get("to") or {}
        lines.append(
            f"order {o.get('order_id')} {o.get('created', '')}: {f.get('amount')} {f.get('asset')}"
            f" on {f.get('chain')} from {f.get('address')} ({f.get('txid')}) -> {t.get('amount')} "
            f"{t.get('asset')} on {t.get('chain')} to {t.get('address')} ({t.get('txid')})"
        )
    if record.get("linked_orders"):
        lines.append(f"{record['linked_orders']} order(s) kept in the case as cross-chain links")
    for r in a.get("refused", []):
        lines.append(f"refused {r.get('item')}: {r.get('reason')}")
    for note in a.get("notes", []):
        lines.append(f"note: {note}")
    for o in a.get("outputs", []):
        lines.append(f"  output {o['n']}: {o['address']} {o['amount_btc']} BTC")
    lines.append(
        f"request SHA-256 {record['request_sha256']}, answer SHA-256 {record['answer_sha256']}"
    )
    return [line for line in lines if line]
