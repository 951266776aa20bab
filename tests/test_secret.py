"""The course secret (architecture rule 8): a world cannot be rebuilt from its public scenario and seed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sandbox.world.read import world_info

COURSE = Path(__file__).parent / "data" / "course.yaml"
# Answers the course scenario itself states, so any build has them: the market's name
# (course.yaml line 32), the vendors' country (locale en_GB, line 7), and the number of
# cash-outs per vendor (count: 2, line 80).
STATED_BY_SCENARIO = {"market-name", "country", "cash-count"}
# Answers drawn from a small space, which two builds share by chance now and then: a login
# IP is one of the 759 host addresses of the documentation ranges (RFC 5737). A match
# tells a trainee nothing about the rest of the world.
BY_CHANCE = {"login-ip"}


def _leaves(value) -> list[str]:
    """Every scalar of an answer, as text."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [str(value)]


def _answer_values(key: dict) -> dict[str, set[str]]:
    """answer value -> the objectives whose answer (of any seat) holds it."""
    found: dict[str, set[str]] = {}
    for seat in key["seats"]:
        for objective in seat["objectives"]:
            for value in _leaves(objective["answer"]):
                found.setdefault(value, set()).add(objective["id"])
    return found


def _onions(path: Path) -> set[str]:
    """The .onion addresses of a world's sites."""
    return {s["address"] for s in world_info(path)["sites"] if s["address"].endswith(".onion")}


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[str, Path]:
    """The instructor's world and a trainee's rebuild: same scenario and seed, no --secret."""
    from click.testing import CliRunner

    from sandbox.cli import cli

    out = tmp_path_factory.mktemp("secret")
    made = {}
    for who in ("instructor", "trainee"):
        made[who] = out / f"{who}.db"
        args = ["build", str(COURSE), "--seed", "3", "--out", str(made[who]), "--quiet"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    return made


def _key(sandbox, world: Path) -> dict:
    """`sandbox key WORLD --json`."""
    result = sandbox("key", world, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_rebuild_without_the_secret_gives_no_seat_code_answer_or_onion(worlds, sandbox):
    """Without the secret the same scenario and seed give other codes, answers and onions."""
    instructor, trainee = _key(sandbox, worlds["instructor"]), _key(sandbox, worlds["trainee"])
    assert instructor["seed"] == trainee["seed"] == 3
    assert instructor["secret"] != trainee["secret"]
    codes = {s["code"] for s in instructor["seats"]}
    assert len(codes) == 6 and codes.isdisjoint(s["code"] for s in trainee["seats"])
    mine, theirs = _answer_values(instructor), _answer_values(trainee)
    shared = {v: mine[v] for v in mine.keys() & theirs.keys()}
    allowed = STATED_BY_SCENARIO | BY_CHANCE
    assert all(objectives <= allowed for objectives in shared.values()), shared
    assert len(mine) > 100  # names, keys, addresses, txids ... of six seats
    assert _onions(worlds["instructor"]).isdisjoint(_onions(worlds["trainee"]))
    assert world_info(worlds["instructor"])["digest"] != world_info(worlds["trainee"])["digest"]


def test_the_secret_rebuilds_the_same_world(worlds, sandbox, tmp_path):
    """`sandbox build --secret` with the key's secret gives the instructor's world, row for row."""
    key = _key(sandbox, worlds["instructor"])
    again = tmp_path / "again.db"
    result = sandbox(
        "build", COURSE, "--seed", "3", "--secret", key["secret"], "--out", again, "--quiet"
    )
    assert result.exit_code == 0, result.output
    assert world_info(again)["digest"] == world_info(worlds["instructor"])["digest"]
    assert _key(sandbox, again) == key
    assert _onions(again) == _onions(worlds["instructor"])


def test_key_shows_the_secret_and_info_does_not(worlds, sandbox):
    """The instructor's `sandbox key` prints the secret; `sandbox info` (text or JSON) never."""
    world = worlds["instructor"]
    secret = dict(sqlite3.connect(world).execute("SELECT key, value FROM meta"))["secret"]
    assert len(secret) == 32 and int(secret, 16) >= 0
    assert _key(sandbox, world)["secret"] == secret
    text = sandbox("key", world)
    assert text.exit_code == 0 and f"--secret {secret}" in text.output
    for args in ((), ("--json",)):
        result = sandbox("info", world, *args)
        assert result.exit_code == 0 and secret not in result.output.lower()
    data = json.loads(sandbox("info", world, "--json").output)
    assert "secret" not in data and data["seed"] == 3


@pytest.mark.parametrize(
    "bad, why",
    [
        ("not-hex-at-all", "is not hexadecimal"),
        ("abcd", "needs 32 hex digits (128 bits), got 4"),
        ("0" * 34, "needs 32 hex digits (128 bits), got 34"),
    ],
)
def test_bad_secret_is_refused_and_the_world_kept(worlds, sandbox, tmp_path, bad, why):
    """A malformed --secret: one error naming the option, exit != 0, the old world untouched."""
    out = tmp_path / "world.db"
    out.write_bytes(worlds["trainee"].read_bytes())
    before = out.read_bytes()
    result = sandbox("build", COURSE, "--secret", bad, "--out", out, "--quiet")
    assert result.exit_code != 0
    assert "Invalid value for '--secret'" in result.output and why in result.output
    assert out.read_bytes() == before
    assert not (tmp_path / "world.db.building").exists()
