"""World builder and the `sandbox build`/`info`/`validate` commands."""

from __future__ import annotations

import json
import sqlite3

import pytest

from sandbox.onion import decode_onion
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from sandbox.world.read import world_info
from sandbox.world.schema import DIGEST_ORDER
from tests.course_secret import SECRET, SECRET_HEX


def _dump(path) -> dict[str, list]:
    """Every row of every world table, in key order."""
    conn = sqlite3.connect(path)
    try:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY {o}").fetchall()
            for t, o in DIGEST_ORDER.items()
        }
    finally:
        conn.close()


def test_same_seed_same_world_row_for_row(tiny_path, tiny_world, tmp_path):
    """Two builds of one scenario, seed and secret are identical in every row and in digest."""
    again = tmp_path / "again.db"
    build_world(load_scenario(str(tiny_path)), again, secret=SECRET)
    assert world_info(again)["digest"] == world_info(tiny_world)["digest"]
    assert _dump(again) == _dump(tiny_world)


def test_the_same_world_where_no_worker_process_can_start(tiny_path, tiny_world, tmp_path):
    """Without fork, keys, witness commitments and Tron's sealed blocks are made in-process
    (and the Tron world in a spawned process): the world is the same, row for row.

    The build runs in its own interpreter, so the spawn start method's resource tracker
    ends with it."""
    import subprocess
    import sys

    again = tmp_path / "in-process.db"
    code = (
        "import multiprocessing, sys\n"
        "multiprocessing.get_all_start_methods = lambda: ['spawn']\n"
        "from sandbox.scenario import load_scenario\n"
        "from sandbox.world.build import build_world\n"
        "build_world(load_scenario(sys.argv[1]), sys.argv[2], secret=bytes.fromhex(sys.argv[3]))\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(tiny_path), str(again), SECRET_HEX],
        check=True,
        capture_output=True,
    )
    assert _dump(again) == _dump(tiny_world)


def test_other_seed_other_world(tiny_path, tiny_world, sandbox, tmp_path):
    """A different seed gives a different digest and different onion addresses."""
    out = tmp_path / "seed9.db"
    result = sandbox(
        "build", tiny_path, "--seed", "9", "--secret", SECRET_HEX, "--out", out, "--quiet"
    )
    assert result.exit_code == 0, result.output
    a, b = world_info(tiny_world), world_info(out)
    assert b["seed"] == 9 and a["seed"] == 3
    assert a["digest"] != b["digest"]
    assert {s["address"] for s in a["sites"] if s["address"].endswith(".onion")}.isdisjoint(
        {s["address"] for s in b["sites"] if s["address"].endswith(".onion")}
    )


def test_info_json(tiny_world, sandbox):
    """`sandbox info --json` has the contract's keys and truthful counts."""
    result = sandbox("info", tiny_world, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scenario"] == "tiny" and data["seed"] == 3 and len(data["digest"]) == 64
    conn = sqlite3.connect(tiny_world)
    for table in ("blocks", "transactions", "addresses", "actors", "sites", "listings"):
        assert data["counts"][table] == conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert data["counts"]["transactions"] >= 3000
    assert data["counts"]["listings"] == 40 + 6
    kinds = {s["kind"] for s in data["sites"]}
    assert kinds == {
        "market",
        "shop",
        "forum",
        "donation",
        "wiki",
        "search",
        "social",
        "explorer",
        "exchange",
    }
    for site in data["sites"]:
        assert set(site) == {"name", "kind", "address", "id"}
        if site["kind"] == "social":
            assert site["address"] == "chirper.test"
        elif site["kind"] in ("explorer", "exchange"):
            assert site["address"].endswith(".test")
        else:
            assert len(decode_onion(site["address"])) == 32


def test_onion_keys_kept_for_tor(tiny_db):
    """Each onion site keeps the ed25519 seed its address derives from."""
    from sandbox.onion import OnionKey

    for seed, address in tiny_db.execute(
        "SELECT onion_seed, address FROM sites WHERE onion_seed IS NOT NULL"
    ):
        assert OnionKey.from_seed(seed).address == address


def test_failed_build_keeps_previous_world(tiny_world, tmp_path, sandbox):
    """A build that fails leaves the existing world file untouched (nothing stored is lost)."""
    out = tmp_path / "keep.db"
    out.write_bytes(tiny_world.read_bytes())
    before = out.read_bytes()
    bad = tmp_path / "bad.yaml"
    bad.write_text("meta:\n  title: x\nworld:\n  days: zero\n")
    result = sandbox("build", bad, "--out", out, "--quiet")
    assert result.exit_code == 1
    assert "bad.yaml:4: world.days:" in result.output
    assert out.read_bytes() == before
    assert not (tmp_path / "keep.db.building").exists()


def test_info_on_missing_or_bad_file(tmp_path, sandbox):
    """`sandbox info` names the file and exits 1 when it is not a world."""
    result = sandbox("info", tmp_path / "nope.db")
    assert result.exit_code == 1 and "nope.db: no such world file" in result.output
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite at all" * 100)
    result = sandbox("info", junk)
    assert result.exit_code == 1 and "junk.db: not a world file" in result.output


def test_validate_command(tiny_path, tmp_path, sandbox):
    """`sandbox validate` exits 0 on a good file and 1 with FILE:LINE messages on a bad one."""
    result = sandbox("validate", tiny_path)
    assert result.exit_code == 0 and "valid" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("meta:\n  title: t\nactors:\n  - id: a\n    role: wizard\n")
    result = sandbox("validate", bad)
    assert result.exit_code == 1
    assert f"{bad}:5: actors[0].role:" in result.output


@pytest.mark.parametrize("command", ["validate", "build", "info"])
def test_every_command_has_help_with_example(sandbox, command):
    """Each command documents itself with an example."""
    result = sandbox(command, "--help")
    assert (
        result.exit_code == 0
        and "Example:" in result.output
        and f"sandbox {command}" in result.output
    )


@pytest.mark.slow  # builds the default world: 100,000 transactions
def test_build_default_scenario_is_lively(tmp_path_factory):
    """The built-in default world: two markets with dozens of vendors, >= 100,000 transactions."""
    out = tmp_path_factory.mktemp("default") / "world.db"
    info = build_world(load_scenario(None), out)
    assert info["scenario"] == "default"
    assert info["counts"]["transactions"] >= 100_000
    conn = sqlite3.connect(out)
    kinds = [k for (k,) in conn.execute("SELECT kind FROM sites")]
    for kind in ("forum", "shop", "donation", "wiki", "search", "social"):
        assert kind in kinds
    assert kinds.count("market") >= 2
    for (market,) in conn.execute("SELECT id FROM sites WHERE kind = 'market'"):
        vendors = conn.execute(
            "SELECT count(*) FROM accounts WHERE site_id = ? AND role = 'vendor'", (market,)
        ).fetchone()[0]
        listings = conn.execute(
            "SELECT count(*) FROM listings WHERE site_id = ?", (market,)
        ).fetchone()[0]
        assert vendors >= 24 and listings >= 100
    roles = [r for (r,) in conn.execute("SELECT role FROM actors")]
    assert roles.count("exchange") >= 2 and roles.count("mixer") >= 1
    days = conn.execute("SELECT (max(time) - min(time)) / 86400.0 FROM blocks").fetchone()[0]
    assert days >= 90


def test_same_world_whatever_the_hash_seed(tiny_path, tmp_path):
    """Worlds do not depend on PYTHONHASHSEED (architecture rule 7; Faker's it_IT cities once did)."""
    import os
    import subprocess
    import sys

    digests = set()
    for hash_seed in ("1", "2"):
        out = tmp_path / f"h{hash_seed}.db"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sandbox",
                "build",
                str(tiny_path),
                "--out",
                str(out),
                "--secret",
                SECRET_HEX,
                "--quiet",
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        digests.add(world_info(out)["digest"])
    assert len(digests) == 1


def test_email_follows_the_scenario_name(tiny_db):
    """An actor named in the scenario gets an email made from that name (it leaks via PGP)."""
    from sandbox.world.actors import _slug

    for name, email in tiny_db.execute(
        "SELECT name, email FROM actors WHERE kind = 'person' AND background = 0"
    ):
        first, _, last = name.partition(" ")
        assert email.startswith(f"{_slug(first)}.{_slug(last or first)}"), (name, email)


def test_a_payment_due_at_the_worlds_end_is_in_the_last_block(tiny_path, tmp_path):
    """A flow may be due at `world.days` itself (the format allows `start_day` up to it);
    the last block comes at a random time before that and still carries the payment."""
    text = tiny_path.read_text()
    assert "to: bitbarn, start_day: 3.8}" in text  # the cash-out, in a 4-day world
    scenario = tmp_path / "last.yaml"
    scenario.write_text(text.replace("to: bitbarn, start_day: 3.8}", "to: bitbarn, start_day: 4}"))
    out = tmp_path / "last.db"
    build_world(load_scenario(str(scenario)), out, secret=SECRET)
    conn = sqlite3.connect(out)
    (last,) = conn.execute("SELECT max(height) FROM blocks").fetchone()
    heights = conn.execute(
        "SELECT t.height FROM flow_events e JOIN transactions t ON t.id = e.tx_id "
        "WHERE e.flow_id = 'cashout'"
    ).fetchall()
    conn.close()
    assert heights == [(last,)]
