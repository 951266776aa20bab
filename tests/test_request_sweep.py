"""Exchange requests and sweeps against a running sandbox, through the gateway and explorer."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

import coincurve
import pytest
import requests
from click.testing import CliRunner

from investigator_tools.chain.codec.bech32 import p2wpkh_encode
from investigator_tools.chain.codec.hashes import hash160
from investigator_tools.cli import cli as investigate
from investigator_tools.errors import RemoteError
from investigator_tools.esplora import Esplora
from sandbox.ledger.keys import Key
from sandbox.serve import Sandbox

MNEMONIC = (
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
)
MNEMONIC_BIP84_0 = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"  # BIP84's test vector


@pytest.fixture(scope="module")
def env(tiny_world, tmp_path_factory):
    """A running sandbox (its own live chain) and a case file."""
    tmp = tmp_path_factory.mktemp("reqsweep")
    with Sandbox(tiny_world, socks_port=0, http_port=0, explorer_port=0, state=tmp / "st") as sb:
        host, port = sb.gateway.socks_address
        conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
        token = conn.execute("SELECT token FROM requesters WHERE id = 'analyst'").fetchone()[0]
        conn.close()
        yield {
            "url": sb.describe()["explorer"],
            "proxy": f"socks5h://{host}:{port}",
            "case": tmp / "case.db",
            "token": token,
        }


@pytest.fixture(scope="module")
def world(tiny_world):
    """A read-only connection to the world, for the expected answers."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def run(env, *args):
    """Run `investigate` on the module's case; (exit code, output)."""
    result = CliRunner().invoke(investigate, ["--case", str(env["case"]), *map(str, args)])
    return result.exit_code, result.output


def request_args(env, exchange, subject, ask="kyc,transactions,logins"):
    """A complete court-order request."""
    return [
        "request",
        exchange,
        "--subject",
        subject,
        "--legal-basis",
        "court_order",
        "--document-ref",
        "CO-2026-0042",
        "--case-number",
        "OP-NIGHTSHADE",
        "--agency",
        "Regional Cyber Crime Unit",
        "--officer",
        "DC Jane Smith",
        "--email",
        "jane.smith@police.test",
        "--ask",
        ask,
        "--proxy",
        env["proxy"],
        "--token",
        env["token"],
    ]


def fresh_address() -> str:
    """A P2WPKH address of a new random key."""
    key = coincurve.PrivateKey(os.urandom(32))
    return p2wpkh_encode(hash160(key.public_key.format()))


def funded_key(world, offset: int = 0) -> tuple[str, str, int]:
    """(WIF, address, unspent value) of a background user's key with unspent outputs."""
    row = world.execute(
        "SELECT a.address, a.secret, sum(o.value) FROM addresses a "
        "JOIN wallets w ON w.id = a.wallet_id JOIN outputs o ON o.address_id = a.id "
        "JOIN transactions t ON t.id = o.tx_id "
        "WHERE w.kind = 'personal' AND w.actor_id LIKE 'bg-%' AND t.position > 0 "
        "AND NOT EXISTS (SELECT 1 FROM inputs i WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n) "
        "GROUP BY a.id ORDER BY a.id LIMIT 1 OFFSET ?",
        (offset,),
    ).fetchone()
    return Key(bytes(row["secret"])).wif(), row["address"], row[2]


def test_request_kyc_for_the_peel_chains_deposit(env, world):
    """coinvault names the fundraiser behind the peel chain's deposit; the case keeps it all."""
    hop4 = world.execute(
        "SELECT tx_id FROM flow_events WHERE flow_id = 'peel' AND step = 'hop-4'"
    ).fetchone()[0]
    deposit = world.execute(
        "SELECT a.address FROM outputs o JOIN addresses a ON a.id = o.address_id "
        "WHERE o.tx_id = ? AND o.n = 0",
        (hop4,),
    ).fetchone()[0]
    fundraiser = world.execute("SELECT * FROM actors WHERE id = 'fundraiser'").fetchone()
    code, out = run(env, *request_args(env, "coinvault.test", deposit))
    assert code == 0, out
    assert fundraiser["name"] in out and fundraiser["document_number"] in out
    assert "answered" in out
    code, out = run(env, *request_args(env, "coinvault.test", deposit, "kyc"), "--json")
    record = json.loads(out)
    subscriber = record["answer"]["accounts"][0]["subscriber"]
    assert subscriber["name"] == fundraiser["name"]
    conn = sqlite3.connect(env["case"])
    rows = conn.execute(
        "SELECT r.exchange, r.subject, r.reference, r.status, r.request_body, r.request_sha256, "
        "c.body, c.sha256, cu.command FROM le_requests r "
        "JOIN captures c ON c.id = r.answer_capture_id JOIN custody cu ON cu.id = r.custody_id"
    ).fetchall()
    conn.close()
    assert len(rows) == 2
    exchange, subject, reference, status, body, body_sha, answer, answer_sha, command = rows[0]
    assert (exchange, subject, status) == ("coinvault.test", deposit, "answered")
    assert reference.startswith("CV-LE-")
    assert hashlib.sha256(body.encode()).hexdigest() == body_sha
    assert hashlib.sha256(answer).hexdigest() == answer_sha
    assert fundraiser["name"] in answer.decode()
    assert command.startswith("investigate")  # the command that made it, in the custody log


def test_request_to_an_unknown_or_wrong_host_fails_clearly(env):
    """No such exchange, a site that is no exchange, or a bad subject: one message, exit 1."""
    code, out = run(env, *request_args(env, "nosuch.test", MNEMONIC_BIP84_0))
    assert code == 1 and "nosuch.test" in out and "no such host" in out
    code, out = run(env, *request_args(env, "chirper.test", MNEMONIC_BIP84_0))
    assert code == 1 and "not an exchange" in out
    code, out = run(env, *request_args(env, "coinvault.test", "not-an-address"))
    assert code == 1 and "--subject 'not-an-address' is not a valid Bitcoin address" in out
    code, out = run(env, *request_args(env, "coinvault.test", MNEMONIC_BIP84_0, "kyc,dna"))
    assert code == 1 and "--ask 'dna'" in out


def test_sweep_a_key_and_then_a_mnemonic(env, world):
    """A world key's coins move to a mnemonic's address, then the mnemonic's to a fresh one."""
    wif, source, value = funded_key(world)
    explorer = Esplora(env["url"])
    code, out = run(
        env,
        "sweep",
        "--key",
        wif,
        "--to",
        MNEMONIC_BIP84_0,
        "--explorer",
        env["url"],
        "--fee-rate",
        2,
        "--json",
    )
    assert code == 0, out
    first = json.loads(out)
    assert first["swept"] and first["status"] == "broadcast"
    assert first["confirmation"]["confirmed"]  # the explorer mines right after a broadcast
    assert first["total"] == value and first["amount"] == value - first["fee"]
    assert first["fee"] >= 2 * first["vsize"]
    assert explorer.address_utxo(source) == []
    assert sum(u["value"] for u in explorer.address_utxo(MNEMONIC_BIP84_0)) == first["amount"]

    dest = fresh_address()
    code, out = run(env, "sweep", "--mnemonic", MNEMONIC, "--to", dest, "--explorer", env["url"])
    assert code == 0, out
    assert "broadcast" in out and "confirmed in block" in out
    stats = explorer.address(dest)["chain_stats"]
    conn = sqlite3.connect(env["case"])
    rows = conn.execute(
        "SELECT txid, amount, status, inputs, raw_hex, sha256 FROM sweeps"
    ).fetchall()
    conn.close()
    assert [r[2] for r in rows] == ["broadcast", "broadcast"]
    assert stats["funded_txo_sum"] == rows[1][1]
    inputs = json.loads(rows[1][3])
    assert {i["path"] for i in inputs} == {"m/84'/0'/0'/0/0"}
    assert hashlib.sha256(bytes.fromhex(rows[1][4])).hexdigest() == rows[1][5]
    code, out = run(env, "sweep", "--mnemonic", MNEMONIC, "--to", dest, "--explorer", env["url"])
    assert code == 0 and "nothing to sweep" in out


def test_sweep_of_other_script_types_and_a_rejected_broadcast(env, world):
    """P2SH-P2WPKH and P2PKH keys sweep too; a double spend is rejected with the explorer's text."""
    explorer = Esplora(env["url"])
    for typ in ("p2sh", "p2pkh"):
        row = world.execute(
            "SELECT a.secret, a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id "
            "JOIN outputs o ON o.address_id = a.id JOIN transactions t ON t.id = o.tx_id "
            "WHERE a.type = ? AND w.kind = 'personal' AND t.position > 0 AND NOT EXISTS "
            "(SELECT 1 FROM inputs i WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n) LIMIT 1",
            (typ,),
        ).fetchone()
        wif = Key(bytes(row[0])).wif()
        dest = fresh_address()
        code, out = run(
            env,
            "sweep",
            "--key",
            wif,
            "--to",
            dest,
            "--explorer",
            env["url"],
            "--dry-run",
            "--json",
        )
        assert code == 0, out
        unsent = json.loads(out)
        assert unsent["status"] == "not broadcast" and unsent["inputs"][0]["address"] == row[1]
        code, out = run(env, "sweep", "--key", wif, "--to", dest, "--explorer", env["url"])
        assert code == 0 and "confirmed in block" in out, out
        with pytest.raises(RemoteError, match="sendrawtransaction RPC error"):
            explorer.broadcast(unsent["raw_hex"])


def test_sweep_refuses_bad_input(env):
    """A bad WIF, mnemonic or destination: one clear message and exit 1, nothing sent."""
    wif = Key(b"\x01" * 32).wif()
    code, out = run(
        env,
        "sweep",
        "--key",
        "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ",
        "--to",
        "bc1qnope",
    )
    assert code == 1 and "not a valid Bitcoin address" in out
    code, out = run(env, "sweep", "--key", wif[:-1] + "x", "--to", MNEMONIC_BIP84_0)
    assert code == 1 and "not a valid WIF private key" in out
    code, out = run(
        env, "sweep", "--mnemonic", MNEMONIC.replace("about", "abandon"), "--to", MNEMONIC_BIP84_0
    )
    assert code == 1 and "not a valid BIP39 mnemonic" in out
    code, out = run(env, "sweep", "--to", MNEMONIC_BIP84_0)
    assert code == 1 and "exactly one of --key" in out
    code, out = run(env, "sweep", "--key", wif, "--to", MNEMONIC_BIP84_0, "--explorer", env["url"])
    assert code == 0 and "nothing to sweep" in out
    assert requests.get(f"{env['url']}api/blocks/tip/height", timeout=10).ok
