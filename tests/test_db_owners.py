"""Every database has one owner: no module runs SQL on a table of a database it does not own.

The scan is static: every SQL string literal (one starting with SELECT, INSERT, UPDATE,
DELETE, CREATE, PRAGMA, WITH or REPLACE) in sandbox/ and marketplaces/ is read with `ast`,
its tables are taken from FROM / JOIN / INTO / UPDATE / TABLE, and each table must belong to
a database the module owns. A table two databases share (`meta`, `blocks`, `outputs`,
`threads`, `posts`, `messages`) is allowed to an owner of either. docs/architecture.md says
which module owns which database.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The world file: written by the build (sandbox/world and the ledger's simulation), read by
# everyone else through sandbox/world/store.py.
WORLD_TABLES = {
    "meta", "actors", "sites", "wallets", "addresses", "blocks", "transactions", "outputs",
    "inputs", "scripthashes", "flow_events", "pgp_keys", "accounts", "listings", "photos", "feedback",
    "boards", "threads", "posts", "links", "exchange_accounts", "exchange_logins", "seats",
    "objectives", "seat_objectives", "hints", "injects", "artefacts", "course_texts", "requesters",
    "tron_witnesses", "tron_accounts", "tron_blocks", "tron_txs", "tron_logs",
    "trc20_transfers", "tron_state", "tron_contracts", "tron_flow_events", "swap_legs",
    "swap_orders",
}  # fmt: skip

OWNERS: dict[str, dict] = {
    "world.db": {
        "schema": "sandbox/world/schema.py",
        "tables": WORLD_TABLES,
        # The ledger sits below sandbox.world, so its world.db SQL stays in the ledger: the
        # simulation's writer (chain.py, simulate.py) and the witness signer that reads the
        # secrets of spent coins (witness.py).
        "owners": (
            "sandbox/world/",
            "sandbox/ledger/sim/chain.py",
            "sandbox/ledger/sim/simulate.py",
            "sandbox/ledger/witness.py",
            # The Tron chain's build-time simulation writes its tables the same way.
            "sandbox/tron/sim/",
        ),
    },
    "state.db": {
        "schema": "marketplaces/common/state.py",
        "tables": {
            "site_secrets",
            "sessions",
            "users",
            "captchas",
            "threads",
            "posts",
            "messages",
            "orders",
            "donor_addresses",
            "site_notices",
            "swap_orders",
            "swap_requests",
        },  # fmt: skip
        "owners": ("marketplaces/common/state.py",),
    },
    # The search site's full-text index, in memory: private to the module that builds it.
    "search index": {
        "schema": "marketplaces/search/index.py",
        "tables": {"docs"},
        "owners": ("marketplaces/search/index.py",),
    },
}

# The databases the running sandbox writes while a class runs.
RUNTIME_OWNERS: dict[str, dict] = {
    "chain.db": {
        "schema": "sandbox/ledger/live/chain.py",
        "tables": {"meta", "blocks", "txs", "outputs", "spends", "tx_addresses"},
        "owners": ("sandbox/ledger/live/chain.py",),
    },
    "tron.db": {
        "schema": "sandbox/tron/live/chain.py",
        "tables": {
            "meta",
            "tron_live_epochs",
            "tron_live_blocks",
            "tron_live_txs",
            "tron_live_logs",
            "tron_live_transfers",
        },  # fmt: skip
        "owners": ("sandbox/tron/live/chain.py",),
    },
    "witnesses.db": {
        "schema": "sandbox/explorer/witnesses.py",
        "tables": {"meta", "sections"},
        "owners": ("sandbox/explorer/witnesses.py",),
    },
    "classroom.db": {
        "schema": "sandbox/classroom/progress.py",
        "tables": {
            "trainees",
            "instructor_sessions",
            "submissions",
            "hints_unlocked",
            "injects_fired",
            "messages",
            "exercise",
        },  # fmt: skip
        "owners": ("sandbox/classroom/progress.py",),
    },
    "exchanges.db": {
        "schema": "sandbox/exchanges/audit.py",
        "tables": {"requests", "freezes"},
        "owners": ("sandbox/exchanges/audit.py",),
    },
    "exchanges.db sessions": {
        "schema": "sandbox/exchanges/access.py",
        "tables": {"le_sessions"},
        "owners": ("sandbox/exchanges/access.py",),
    },
    "issuer.db": {
        "schema": "sandbox/issuer/records.py",
        "tables": {"issuer_requests", "issuer_actions"},
        "owners": ("sandbox/issuer/records.py",),
    },
    "gateway.db": {
        "schema": "sandbox/gateway/log.py",
        "tables": {"connections", "containment"},
        "owners": ("sandbox/gateway/log.py",),
    },
}

# Literals that look like SQL but are text the world shows (a leaked snippet in a paste).
NOT_SQL = {("sandbox/world/content/social.py", "users")}

SCANNED = ("sandbox", "marketplaces")
SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|WITH|REPLACE)\s", re.I)
TABLE_REF = re.compile(
    # An attached database's schema name (`tron.blocks`) is not a table: the name after it is.
    r"\b(FROM|JOIN|INTO|UPDATE|TABLE(?:\s+IF\s+NOT\s+EXISTS)?)\s+(?:(?:main|temp|tron)\.)?"
    r"([A-Za-z_]\w*)?(\s*\()?",
    re.I,
)
COMMENT = re.compile(r"--[^\n]*")
TRIGGER_EVENT = re.compile(
    r"\b(?:BEFORE|AFTER|INSTEAD\s+OF)\s+(?:INSERT|UPDATE|DELETE)\s+ON\b", re.I
)
CTE = re.compile(r"(?:\bWITH(?:\s+RECURSIVE)?|,)\s*([A-Za-z_]\w*)\s+AS\s*\(", re.I)
NOT_TABLES = {"set", "select", "values", "where", "or", "ignore", "replace"}


def _owns(module: str, owners: tuple[str, ...]) -> bool:
    """Whether module (a path relative to the repository) is one of owners (files or folders)."""
    return any(module == o or (o.endswith("/") and module.startswith(o)) for o in owners)


def _literals(tree: ast.AST):
    """(line, text) of every string literal that is not a docstring; f-strings with their
    placeholders as `?`."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "?" for v in node.values]
            yield node.lineno, "".join(str(p) for p in parts)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def sql_tables(text: str) -> set[str]:
    """The tables an SQL statement names (not its CTEs, table functions or sqlite_ tables)."""
    if not SQL_START.match(text):
        return set()
    text = TRIGGER_EVENT.sub("FROM", COMMENT.sub("", text))  # a trigger's table counts
    ctes = {m.group(1).lower() for m in CTE.finditer(text)}
    found = set()
    for m in TABLE_REF.finditer(text):
        keyword, name, call = m.group(1).upper(), (m.group(2) or "").lower(), m.group(3)
        function = call and keyword in ("FROM", "JOIN")  # a table-valued function
        if not name or function or name in ctes or name in NOT_TABLES or name.startswith("sqlite_"):
            continue
        found.add(name)
    return found


def sql_uses() -> list[tuple[str, int, str]]:
    """(module, line, table) for every table an SQL literal in the scanned packages names."""
    uses = []
    for package in SCANNED:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = path.relative_to(ROOT).as_posix()
            tree = ast.parse(path.read_text(), module)
            for line, text in _literals(tree):
                uses.extend(
                    (module, line, t)
                    for t in sorted(sql_tables(text))
                    if (module, t) not in NOT_SQL
                )
    return uses


def violations(databases: dict[str, dict], others: dict[str, dict], shared: bool) -> list[str]:
    """`module:line: table (database)` for each use of a table of one of `databases` by a
    module that owns no database holding that table.

    A table both groups hold (`meta`, `blocks`, `outputs` in world.db and chain.db) is
    checked only when shared is true: a scan cannot tell which file the query runs on.
    """
    everything = {**databases, **others}
    found = []
    for module, line, table in sql_uses():
        holders = [name for name, db in everything.items() if table in db["tables"]]
        if not any(n in databases for n in holders):
            continue
        if not shared and any(n in others for n in holders):
            continue
        if not any(_owns(module, everything[n]["owners"]) for n in holders):
            found.append(f"{module}:{line}: {table} ({' or '.join(holders)})")
    return found


def test_sql_parser_finds_tables():
    """The scan sees tables in joins, inserts, updates and creates, and skips CTEs."""
    assert sql_tables("SELECT a FROM sites s JOIN actors a ON a.id = s.id") == {"sites", "actors"}
    assert sql_tables("INSERT OR IGNORE INTO orders VALUES (?)") == {"orders"}
    assert sql_tables("UPDATE users SET x = 1") == {"users"}
    assert sql_tables("CREATE TABLE IF NOT EXISTS trainees (id)") == {"trainees"}
    assert sql_tables("INSERT INTO main.tron_txs SELECT * FROM tron.tron_txs") == {"tron_txs"}
    assert sql_tables("WITH h AS (SELECT tx_id FROM inputs) SELECT * FROM h") == {"inputs"}
    assert sql_tables("SELECT * FROM json_each(?)") == set()
    assert sql_tables("CREATE TRIGGER t BEFORE UPDATE ON requests BEGIN SELECT 1; END") == {
        "requests"
    }
    assert sql_tables("CREATE TABLE x (\n  -- an id FROM elsewhere\n  id INTEGER)") == {"x"}
    assert sql_tables("Select the sites FROM the list") == {"the"}  # an SQL-like literal
    assert sql_tables("the FROM sites") == set()  # not a statement


def test_the_scan_catches_a_stray_query(tmp_path, monkeypatch):
    """A module outside world.db's owners that selects from `sites` is named with its line."""
    bad = tmp_path / "sandbox" / "stray.py"
    bad.parent.mkdir()
    bad.write_text('def f(c):\n    return c.execute("SELECT id FROM sites")\n')
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations(OWNERS, RUNTIME_OWNERS, False) == ["sandbox/stray.py:2: sites (world.db)"]


@pytest.mark.parametrize("databases", [OWNERS, RUNTIME_OWNERS], ids=["build", "runtime"])
def test_tables_match_their_schema(databases):
    """Each database's table list is the tables its schema module creates (no drift)."""
    for name, db in databases.items():
        source = (ROOT / db["schema"]).read_text()
        created = {
            m.group(1).lower()
            for m in re.finditer(
                r"CREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", source, re.I
            )
        }
        assert created == db["tables"], f"{name}: {db['schema']} creates {sorted(created)}"


def test_every_table_has_a_database():
    """A table no database lists is a new table nobody registered an owner for."""
    known = set().union(*(db["tables"] for db in {**OWNERS, **RUNTIME_OWNERS}.values()))
    unknown = sorted({f"{m}:{line}: {t}" for m, line, t in sql_uses() if t not in known})
    assert not unknown, "tables in no database's map:\n" + "\n".join(unknown)


def test_world_and_state_have_one_owner():
    """No module runs SQL on world.db or the sites' state.db but their owners."""
    found = violations(OWNERS, RUNTIME_OWNERS, False)
    assert not found, "SQL on a database the module does not own:\n" + "\n".join(found)


def test_runtime_databases_have_one_owner():
    """No module runs SQL on chain.db, witnesses.db, classroom.db, exchanges.db or gateway.db
    but their owners."""
    found = violations(RUNTIME_OWNERS, OWNERS, True)
    assert not found, "SQL on a database the module does not own:\n" + "\n".join(found)
