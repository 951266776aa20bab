"""Who may ask the exchanges: one law-enforcement requester per seat, and the instructor.

Every requester is an agency identity with portal credentials: an agency and officer
(names drawn with the scenario's Faker locale), a login, a password for the portal's web
pages and a token for its JSON API. Seat n's requester is `seat-<n>` (login `seatNN`); the
instructor's (`instructor`) sees every request; a world without seats gets one `analyst`
so the plain sandbox can still ask. Passwords and tokens are SHA-256 of the world seed
(keyed by the course secret) and the requester id: one seat's credentials tell nothing
about another's. The world keeps them in plain text because the seats' papers print them;
the world file is the instructor's.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import unicodedata
from dataclasses import dataclass

from faker import Faker

from ..scenario.model import Scenario
from .seats import seat_count

__all__ = [
    "Requester",
    "make_requesters",
    "read_requesters",
    "requester_of_seat",
    "write_requesters",
]

# Readable on paper: no 0 O 1 I L.
PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ"
UNITS = (
    "Financial Investigation Unit",
    "Cybercrime Unit",
    "Economic Crime Unit",
    "Asset Recovery Team",
    "Dark Web Investigations Team",
    "Organised Crime Unit",
    "Money Laundering Investigation Unit",
    "Digital Forensics and Cyber Unit",
)


@dataclass(frozen=True)
class Requester:
    """An agency that may ask an exchange's portal, and its credentials there."""

    id: str  # seat-<n> | instructor | analyst
    seat: int | None
    role: str  # seat | instructor | analyst
    agency: str
    officer_name: str
    officer_email: str
    login: str
    password: str
    token: str


def _secret(seed: int, requester_id: str, what: str) -> bytes:
    """32 bytes only the world seed (and so the course secret) can give."""
    return hashlib.sha256(f"requester:{seed}:{requester_id}:{what}".encode()).digest()


def _password(seed: int, requester_id: str) -> str:
    """A 16-character password (about 92 bits), in groups of four for typing."""
    value = int.from_bytes(_secret(seed, requester_id, "password"))
    chars = []
    for _ in range(16):
        value, i = divmod(value, len(PASSWORD_ALPHABET))
        chars.append(PASSWORD_ALPHABET[i])
    return "-".join("".join(chars[i : i + 4]) for i in range(0, 16, 4))


def _ascii(text: str) -> str:
    """Lower-case ASCII letters and digits of a name, for an email address."""
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in flat.lower() if c.isalnum())


def _make(scenario: Scenario, requester_id: str, seat: int | None, role: str, login: str):
    """One requester, the same for the same world seed."""
    seed = scenario.world.seed
    fake = Faker(scenario.meta.locale)
    fake.seed_instance(f"requester:{seed}:{requester_id}")
    rng = random.Random(f"requester:{seed}:{requester_id}")
    city = fake.city()
    if role == "instructor":
        agency = f"Training Directorate, {city} Police Academy"
    else:
        agency = f"{rng.choice(UNITS)}, {city} Police"
    first, last = fake.first_name(), fake.last_name()
    domain = f"{_ascii(city) or 'city'}.police.test"
    return Requester(
        id=requester_id,
        seat=seat,
        role=role,
        agency=agency,
        officer_name=f"{first} {last}",
        officer_email=f"{_ascii(first)[:1] or 'o'}.{_ascii(last) or 'officer'}@{domain}",
        login=login,
        password=_password(seed, requester_id),
        token="le_" + _secret(seed, requester_id, "token").hex()[:40],
    )


def requester_of_seat(scenario: Scenario, n: int) -> Requester:
    """Seat n's requester (1-based)."""
    width = max(2, len(str(seat_count(scenario))))
    return _make(scenario, f"seat-{n}", n, "seat", f"seat{n:0{width}d}")


def make_requesters(scenario: Scenario) -> list[Requester]:
    """Every requester of a world: one per seat and the instructor, or the analyst."""
    seats = seat_count(scenario)
    out = [requester_of_seat(scenario, n) for n in range(1, seats + 1)]
    out.append(_make(scenario, "instructor", None, "instructor", "instructor"))
    if not seats:
        out.append(_make(scenario, "analyst", None, "analyst", "analyst"))
    return out


def write_requesters(conn: sqlite3.Connection, scenario: Scenario) -> list[Requester]:
    """Fill the requesters table; returns its rows."""
    rows = make_requesters(scenario)
    conn.executemany(
        "INSERT INTO requesters VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (r.id, r.seat, r.role, r.agency, r.officer_name, r.officer_email, r.login,
             r.password, r.token)
            for r in rows
        ],
    )  # fmt: skip
    return rows


def read_requesters(conn: sqlite3.Connection) -> list[Requester]:
    """The requesters of a built world ([] for a world built before they existed)."""
    try:
        rows = conn.execute(
            "SELECT id, seat, role, agency, officer_name, officer_email, login, password, token"
            " FROM requesters ORDER BY seat IS NULL, seat, id"
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    return [Requester(*row) for row in rows]
