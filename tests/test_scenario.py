"""Scenario format v1: the loader, its validator, the schema and the default scenario."""

from __future__ import annotations

import json
import math
import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.errors import ScenarioError
from sandbox.scenario import (
    ACTOR_KINDS,
    ACTOR_ROLES,
    CURRENCIES,
    FLOW_KINDS,
    LEDGER_FLOW_KINDS,
    OPSEC_TRAITS,
    SITE_KINDS,
    SITE_MISTAKES,
    Actor,
    Amount,
    Meta,
    TronWallet,
    WorldKnobs,
    builtin_scenarios,
    load_scenario,
    resolve_scenario,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
# Every world needs an exchange; appended last, it moves no line of the text before it.
EX = "actors: [{id: ex, role: exchange}]\n"

# A valid base that the error tests extend; its lines are counted in the tests below.
BASE = """\
meta:
  title: Test case
actors:
  - id: coinvault
    role: exchange
    kind: organisation
  - id: tumble
    role: mixer
  - id: kestrel
    role: vendor
    exchange: coinvault
  - id: buyers
    role: buyer
    count: 10
    balance: 1
sites:
  - id: market
    kind: market
    name: Test Market
    featured: [kestrel]
  - id: fund
    kind: donation
    name: Test Fund
    operator: kestrel
"""  # 24 lines


def write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    """Write a scenario text to a file and return its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[tuple[int, str, str]]:
    """(line, path, message) of every problem the loader reports for `text`."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    for problem in info.value.problems:
        assert problem.file == str(path)
    return [(p.line, p.path, p.message) for p in info.value.problems]


def one(tmp_path: Path, text: str) -> tuple[int, str, str]:
    """The only problem the loader reports for `text`."""
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    return found[0]


def flows(text: str) -> str:
    """BASE followed by a flows section (which starts at line 25)."""
    return BASE + "flows:\n" + textwrap.indent(textwrap.dedent(text), "  ")


# --- the default scenario -----------------------------------------------------------


@pytest.fixture(scope="module")
def default():
    """The built-in default scenario."""
    return load_scenario(None)


def test_default_is_builtin_and_resolves():
    """The default is listed as built-in and found by None, by name and by file name."""
    assert "default" in builtin_scenarios()
    assert resolve_scenario(None) == resolve_scenario("default") == resolve_scenario("default.yaml")
    assert resolve_scenario(None).name == "default.yaml"
    assert load_scenario("default").name == "default"


def test_default_world(default):
    """The default's world knobs are the README's: seed 1, 2026-03-01, 90 days, 100000 transactions."""
    assert default.name == "default"
    assert default.source.endswith("default.yaml")
    assert default.meta.title
    assert default.meta.locale == "en_US"
    assert default.world.seed == 1
    assert default.world.start == date(2026, 3, 1)
    assert default.world.days == 90
    assert 1000 <= default.world.background_users <= 2000
    assert default.world.transactions == 100_000
    assert isinstance(default.world.fee_rate, Amount)


def test_default_sites(default):
    """The default has two lively markets, a shop, a forum, a donation site, a wiki, a search engine and a social site."""
    kinds = {s.id: s.kind for s in default.sites}
    assert sorted(kinds.values()).count("market") == 2
    for kind in ("shop", "forum", "donation", "wiki", "search", "social"):
        assert kind in kinds.values()
    markets = [s for s in default.sites if s.kind == "market"]
    for market in markets:
        assert 25 <= market.vendors <= 40
        assert 200 <= market.listings <= 400
        assert market.featured and market.categories and market.captcha
        assert 0.03 <= market.commission <= 0.05
        assert market.operator and default.actor(market.operator).role == "admin"
        assert market.onion
        assert market.mistakes
    assert any("XMR" in m.currencies for m in markets)
    assert any(m.ddos_queue for m in markets)
    assert {"server_status", "open_directory"} <= {x for m in markets for x in m.mistakes}
    shop = next(s for s in default.sites if s.kind == "shop")
    assert any(shop.operator in m.featured for m in markets)
    assert {"reuses_username", "exif_gps"} <= set(default.actor(shop.operator).opsec)
    fund = next(s for s in default.sites if s.kind == "donation")
    assert default.actor(fund.operator).role == "fundraiser"
    assert default.actor(fund.operator).name
    assert fund.fresh_address_per_donor is False
    forum = next(s for s in default.sites if s.kind == "forum")
    assert forum.boards and forum.threads and forum.posts
    social = next(s for s in default.sites if s.kind == "social")
    assert social.onion is False and social.domain.endswith(".test")


def test_default_actors(default):
    """The default has two exchanges, a mixer, leaky named suspects and groups of buyers and donors."""
    roles = [a.role for a in default.actors]
    assert roles.count("exchange") == 2
    assert roles.count("mixer") == 1
    for exchange in (a for a in default.actors if a.role == "exchange"):
        assert exchange.kind == "organisation" and exchange.domain.endswith(".test")
    groups = {a.role: a for a in default.actors if a.count > 1}
    assert 50 <= groups["buyer"].count <= 70 and groups["buyer"].exchange
    assert 70 <= groups["donor"].count <= 90 and groups["donor"].exchange
    leaky = [a for a in default.actors if {"email_in_pgp", "reuses_username"} <= set(a.opsec)]
    assert leaky and leaky[0].role == "vendor"
    # Defaults are filled in: the locale from meta, lines from the file.
    assert all(a.locale for a in default.actors)
    assert all(a.line > 0 for a in default.actors)


def test_default_flows(default):
    """The default's flows tell the whole story with realistic amounts and every flow kind."""
    by_kind: dict[str, list] = {}
    for flow in (f for f in default.flows if f.chain == "btc"):  # Tron's: test_tron_scenario
        by_kind.setdefault(flow.kind, []).append(flow)
        assert flow.end_day is not None and flow.start_day <= flow.end_day <= default.world.days
        assert flow.line > 0
    # A swap crosses to Tron, which the default world does not use: tests/test_swap_world.py.
    assert set(LEDGER_FLOW_KINDS) - {"swap"} <= set(by_kind)
    donations = by_kind["donation"]
    assert 80 <= sum(f.count for f in donations) <= 120
    assert all(f.amount.min >= 0.0005 and f.amount.max <= 0.02 for f in donations)
    purchase_sites = {f.site for f in by_kind["purchase"]}
    assert {s.id for s in default.sites if s.kind == "market"} <= purchase_sites
    assert all(f.amount.min >= 0.001 and f.amount.max <= 0.05 for f in by_kind["purchase"])
    assert any(f.hops >= 6 for f in by_kind["peel_chain"])
    assert all(default.actor(f.target).role == "exchange" for f in by_kind["cash_out"])
    cashers = {default.actor(f.source).role for f in by_kind["cash_out"]}
    assert {"vendor", "admin"} <= cashers
    # A single payment without end_day ends when it starts.
    sweep = by_kind["consolidation"][0]
    assert sweep.count == 1 and sweep.end_day == sweep.start_day


def test_default_funds_have_margin(default):
    """Every actor needs at most half of what it can hold, and takes in more than it pays on average."""
    unlimited = {a.id for a in default.actors if a.role in ("exchange", "mixer")}
    cap = {a.id: a.balance * a.count for a in default.actors}
    mean_in = dict(cap)
    need = dict.fromkeys(cap, 0.0)
    mean_out = dict.fromkeys(cap, 0.0)
    sites = {s.id: s for s in default.sites}
    for f in (f for f in default.flows if f.chain == "btc"):  # BTC only: USDT is counted apart
        if f.kind == "commission" and f.amount is None:
            sales = [p for p in default.flows if p.kind == "purchase" and p.site == f.site]
            rate = sites[f.site].commission
            cap[f.target] += rate * sum(p.count * p.amount.max for p in sales)
            mean_in[f.target] += rate * sum(p.count * p.amount.mean for p in sales)
            continue
        if f.amount is None or f.source == f.target:
            continue
        cap[f.target] += f.count * f.amount.max
        mean_in[f.target] += f.count * f.amount.mean
        need[f.source] += f.count * f.amount.min
        mean_out[f.source] += f.count * f.amount.mean
    for actor in cap:
        if actor not in unlimited:
            assert need[actor] <= cap[actor] / 2, actor
            assert mean_out[actor] <= mean_in[actor] * 0.8, actor


def test_minimal_file_gets_every_default(tmp_path):
    """A title and an exchange are enough; everything else is defaulted."""
    scenario = load_scenario(write(tmp_path, "meta: {title: Bare}\n" + EX, "bare.yaml"))
    assert scenario.name == "bare"
    assert scenario.source == str(tmp_path / "bare.yaml")
    assert scenario.meta == Meta(title="Bare")
    assert scenario.world == WorldKnobs()
    assert scenario.actors == (
        Actor(id="ex", role="exchange", locale="en_US", tron=TronWallet(), line=2),
    )
    assert scenario.sites == scenario.flows == ()
    assert scenario.extra == {}


def test_empty_sections_are_absent(tmp_path):
    """A section left empty (all entries commented out) counts as absent."""
    text = "meta: {title: T}\nworld:\nsites:\nflows:\n  # - {kind: transfer}\n" + EX
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.world == WorldKnobs() and scenario.sites == scenario.flows == ()


def test_defaults_of_actors_sites_and_flows(tmp_path):
    """Actors, sites and flows get their defaults: locale, onion, ids, end_day, amounts."""
    text = (
        BASE
        + """\
  - id: chirp
    kind: social
    name: Chirp
world:
  days: 30
  fee_rate: 5
flows:
  - kind: purchase
    from: buyers
    to: kestrel
    site: market
    amount: 1e-3
    count: 3
  - kind: transfer
    from: kestrel
    to: coinvault
    start_day: 4
x-notes: anything goes here
"""
    )
    scenario = load_scenario(write(tmp_path, text))
    kestrel = scenario.actor("kestrel")
    assert (kestrel.kind, kestrel.count, kestrel.locale, kestrel.opsec) == (
        "person",
        1,
        "en_US",
        (),
    )
    assert kestrel.line == 9
    assert scenario.site("market").onion is True
    assert scenario.site("market").currencies == ("BTC",)
    assert scenario.site("chirp").onion is False and scenario.site("chirp").domain is None
    assert scenario.world.fee_rate == Amount(5, 5)
    buy, move = scenario.flows
    assert buy.id == "purchase-1" and buy.amount == Amount(0.001, 0.001)
    assert (buy.start_day, buy.end_day) == (0, 30)
    assert move.id == "transfer-2" and move.amount is None
    assert (move.start_day, move.end_day) == (4, 4)
    assert scenario.extra == {"x-notes": "anything goes here"}


# --- resolving and reading files ---------------------------------------------------------


def test_unknown_name_is_one_problem():
    """An unknown scenario name is one problem listing the built-in ones."""
    with pytest.raises(ScenarioError) as info:
        resolve_scenario("nosuch")
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (0, "")
    assert problem.message.startswith("no such file or built-in scenario: nosuch (built-in: ")
    assert "default" in problem.message
    assert str(problem).startswith("nosuch:0: no such file")


def test_missing_file(tmp_path):
    """A missing file is one problem."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "gone.yaml")
    (problem,) = info.value.problems
    assert "no such file" in problem.message


def test_directory(tmp_path):
    """A directory is one problem."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    (problem,) = info.value.problems
    assert str(problem) == f"{tmp_path}:0: is a directory, not a scenario file"


@pytest.mark.parametrize("text", ["", "\n\n   \n", "# only a comment\n"])
def test_empty_file(tmp_path, text):
    """An empty or comment-only file is one problem."""
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert "empty" in problem.message


def test_not_utf8(tmp_path):
    """A file that is not UTF-8 is one problem at the line of the bad byte."""
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"meta:\n  title: Caf\xe9\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.line == 2 and "UTF-8" in problem.message


def test_syntax_error_at_parser_line(tmp_path):
    """A YAML syntax error is one problem at the parser's line."""
    line, path, message = one(tmp_path, "meta:\n  title: x\nworld:\n  days: [1, 2\n  seed: 3\n")
    assert path == ""
    assert line == 5
    assert message.startswith("invalid YAML: ")


def test_syntax_error_mapping_values(tmp_path):
    """A `key: a: b` syntax error is reported at its line."""
    assert one(tmp_path, "meta:\n  title: a: b\n")[:2] == (2, "")


def test_two_documents(tmp_path):
    """A second YAML document is one problem at its start."""
    line, _, message = one(tmp_path, "meta: {title: a}\n---\nmeta: {title: b}\n")
    assert line == 2 and "one YAML document" in message


@pytest.mark.parametrize(
    ("text", "got"),
    [("- a\n- b\n", "a list"), ("just words\n", "text ('just words')"), ("42\n", "a number (42)")],
)
def test_top_level_not_a_mapping(tmp_path, text, got):
    """A top level that is a list or a scalar is one problem saying what it got."""
    line, path, message = one(tmp_path, text)
    assert (line, path) == (1, "")
    assert message.startswith("the top level must be a mapping of sections")
    assert message.endswith(f"got {got}")


def test_problem_renders_file_line_path_message(tmp_path):
    """A problem renders as FILE:LINE: path: message."""
    path = write(tmp_path, "meta:\n  title: T\nworld:\n  days: 0\n" + EX)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}:4: world.days: must be at least 1, got 0"


# --- structure: unknown keys, types, allowed values, ranges ---------------------------


def test_unknown_top_level_key_suggests(tmp_path):
    """An unknown section is reported with a suggestion and the allowed keys."""
    found = problems(tmp_path, "metta:\n  title: T\n" + EX)
    assert (1, "metta", found[1][2]) == found[1]
    assert "unknown key 'metta'; did you mean 'meta'?" in found[1][2]
    assert "allowed: version, meta, world, actors, sites, flows" in found[1][2]
    assert found[0][:2] == (1, "meta") and found[0][2] == "required but missing"


def test_unknown_key_in_actor(tmp_path):
    """An unknown actor key is reported at its line with a suggestion."""
    text = BASE.replace("    balance: 1\n", "    balance: 1\n    usename: bob\n")
    line, path, message = one(tmp_path, text)
    assert (line, path) == (16, "actors[3].usename")
    assert "did you mean 'username'?" in message and "allowed: id, role, kind" in message


def test_missing_required_keys(tmp_path):
    """Missing required keys are reported at the line of their mapping."""
    found = problems(tmp_path, "meta:\n  summary: x\nsites:\n  - id: s\n    kind: wiki\n" + EX)
    assert found == [
        (1, "meta.title", "required but missing"),
        (4, "sites[0].name", "required but missing"),
    ]


T = "meta:\n  title: T\n"


@pytest.mark.parametrize(
    ("text", "line", "path", "expected"),
    [
        (
            T + "world:\n  days: ninety\n",
            4,
            "world.days",
            "expected a whole number, got text ('ninety')",
        ),
        (T + "world:\n  days: '90'\n", 4, "world.days", "(remove the quotes)"),
        (
            T + "world:\n  days: 2.5\n",
            4,
            "world.days",
            "expected a whole number, got a number (2.5)",
        ),
        (
            T + "world:\n  seed: yes\n",
            4,
            "world.seed",
            "YAML reads yes/no/on/off/true/false as booleans",
        ),
        (
            T + "world:\n  start: 2026-02-30\n",
            4,
            "world.start",
            "'2026-02-30' is not a date in the form YYYY-MM-DD",
        ),
        (
            T + "world:\n  start: 1 March\n",
            4,
            "world.start",
            "is not a date in the form YYYY-MM-DD",
        ),
        (T + "world:\n  start: 2026-03-01 10:00\n", 4, "world.start", "is not a date"),
        (
            T + "world:\n  fee_rate: fast\n",
            4,
            "world.fee_rate",
            "expected a number or a mapping {min, max}",
        ),
        (
            T + "world:\n  fee_rate: {min: 0, max: 3}\n",
            4,
            "world.fee_rate.min",
            "must be more than 0",
        ),
        (
            T + "world:\n  fee_rate: {min: 9, max: 3}\n",
            4,
            "world.fee_rate.min",
            "min (9) is more than max (3)",
        ),
        (T + "world:\n  days: 0\n", 4, "world.days", "must be at least 1, got 0"),
        (T + "world:\n  transactions: 0\n", 4, "world.transactions", "must be at least 1, got 0"),
        (
            T + "world:\n  block_interval: .inf\n",
            4,
            "world.block_interval",
            "expected a finite number",
        ),
        (T + "world: [1, 2]\n", 3, "world", "expected a mapping, got a list"),
        (T + "actors:\n  kestrel: {}\n", 3, "actors", "expected a list, got a mapping"),
        (
            T + "version: 3\n",
            3,
            "version",
            "unsupported format version 3; this sandbox reads versions 1 and 2",
        ),
        ("meta:\n  title: T\n  locale: xx_YY\n", 3, "meta.locale", "unknown locale 'xx_YY'"),
        ("meta:\n  title: T\n  locale: en_us\n", 3, "meta.locale", "did you mean 'en_US'?"),
        (
            "meta:\n  title: T\n  locale: no\n",
            3,
            "meta.locale",
            "booleans; put the value in quotes",
        ),
        ("meta:\n  title: ''\n", 2, "meta.title", "must not be empty"),
        ("meta: T\n", 1, "meta", "expected a mapping, got text ('T')"),
    ],
)
def test_world_and_meta_values(tmp_path, text, line, path, expected):
    """Wrong types, formats and ranges in meta and world are reported at their line."""
    found = one(tmp_path, text if "actors" in text else text + EX)
    assert found[:2] == (line, path)
    assert expected in found[2]


@pytest.mark.parametrize(
    ("old", "new", "line", "path", "expected"),
    [
        (
            "    role: vendor\n",
            "    role: Vendor\n",
            10,
            "actors[2].role",
            "did you mean 'vendor'?",
        ),
        (
            "    role: vendor\n",
            "    role: seller\n",
            10,
            "actors[2].role",
            "'seller' is not a valid role",
        ),
        (
            "    kind: organisation\n",
            "    kind: company\n",
            6,
            "actors[0].kind",
            "not a valid kind",
        ),
        ("    count: 10\n", "    count: 0\n", 14, "actors[3].count", "must be at least 1, got 0"),
        (
            "    role: mixer\n",
            "    role: mixer\n    count: 2\n",
            9,
            "actors[1].count",
            "a mixer is one organisation",
        ),
        (
            "    operator: kestrel\n",
            "    operator: buyers\n",
            24,
            "sites[1].operator",
            "is a group (count: 10)",
        ),
        ("    balance: 1\n", "    balance: -1\n", 15, "actors[3].balance", "must be at least 0"),
        (
            "    exchange: coinvault\n",
            "    exchange: coinvault\n    opsec: [email_in_pgp, reuse_username]\n",
            12,
            "actors[2].opsec[1]",
            "'reuse_username' is not a valid OPSEC trait; did you mean 'reuses_username'?",
        ),
        (
            "    exchange: coinvault\n",
            "    exchange: coinvault\n    opsec:\n      - exif_gps\n      - exif_gps\n",
            12,
            "actors[2].opsec",
            "lists 'exif_gps' more than once",
        ),
        (
            "    exchange: coinvault\n",
            "    exchange: coinvault\n    username: 1234\n",
            12,
            "actors[2].username",
            "(put the value in quotes)",
        ),
        (
            "    exchange: coinvault\n",
            "    exchange: coinvault\n    locale: de_XX\n",
            12,
            "actors[2].locale",
            "unknown locale 'de_XX'",
        ),
        (
            "    kind: organisation\n",
            "    kind: organisation\n    domain: coinvault.com\n",
            7,
            "actors[0].domain",
            "not a host name under .test",
        ),
        (
            "  - id: kestrel\n",
            "  - id: Kestrel\n",
            9,
            "actors[2].id",
            "'Kestrel' is not a valid id",
        ),
        ("    kind: market\n", "    kind: shopp\n", 18, "sites[0].kind", "did you mean 'shop'?"),
        (
            "    featured: [kestrel]\n",
            "    featured: [kestrel]\n    mistakes: [server_status, open_dir]\n",
            21,
            "sites[0].mistakes[1]",
            "'open_dir' is not a valid site mistake; did you mean 'open_directory'?",
        ),
        (
            "    featured: [kestrel]\n",
            "    featured: [kestrel]\n    currencies: [BTC, ETH]\n",
            21,
            "sites[0].currencies[1]",
            "'ETH' is not a valid currency",
        ),
        (
            "    featured: [kestrel]\n",
            "    featured: [kestrel]\n    currencies: []\n",
            21,
            "sites[0].currencies",
            "must list at least 1 value",
        ),
        (
            "    featured: [kestrel]\n",
            "    featured: [kestrel]\n    commission: 1\n",
            21,
            "sites[0].commission",
            "must be less than 1, got 1",
        ),
        (
            "    featured: [kestrel]\n",
            "    featured: [kestrel]\n    captcha: maybe\n",
            21,
            "sites[0].captcha",
            "expected true or false, got text ('maybe')",
        ),
        (
            "    featured: [kestrel]\n",
            "    featured: [kestrel]\n    listings: -5\n",
            21,
            "sites[0].listings",
            "must be at least 0, got -5",
        ),
        (
            "    name: Test Fund\n",
            "    name: Test Fund\n    domain: fund.test\n",
            24,
            "sites[1].domain",
            "domain is only for clearnet sites",
        ),
    ],
)
def test_actor_and_site_values(tmp_path, old, new, line, path, expected):
    """Wrong values of actors and sites are reported at their line and path."""
    assert old in BASE
    found = one(tmp_path, BASE.replace(old, new, 1))
    assert found[:2] == (line, path)
    assert expected in found[2]


@pytest.mark.parametrize(
    ("flow", "line", "path", "expected"),
    [
        ("- {kind: gift, from: buyers, to: kestrel}", 26, "flows[0].kind", "not a valid kind"),
        (
            "- {kind: transfer, from: buyers, to: kestrel, amount: 0}",
            26,
            "flows[0].amount",
            "more than 0",
        ),
        (
            "- kind: transfer\n  from: buyers\n  to: kestrel\n  amount: {min: -1, max: 2}\n",
            29,
            "flows[0].amount.min",
            "must be more than 0, got -1",
        ),
        (
            "- kind: transfer\n  from: buyers\n  to: kestrel\n  amount: {min: 2, max: 1}\n",
            29,
            "flows[0].amount.min",
            "min (2) is more than max (1)",
        ),
        (
            "- kind: transfer\n  from: buyers\n  to: kestrel\n  amount: {min: 1}\n",
            29,
            "flows[0].amount.max",
            "required but missing",
        ),
        (
            "- kind: transfer\n  from: buyers\n  to: kestrel\n  amount: {low: 1, max: 2, min: 1}\n",
            29,
            "flows[0].amount.low",
            "unknown key 'low'",
        ),
        (
            "- kind: transfer\n  from: buyers\n  to: kestrel\n  amount: 1 BTC\n",
            29,
            "flows[0].amount",
            "expected a number or a mapping {min, max}, got text ('1 BTC')",
        ),
        (
            "- {kind: transfer, from: buyers, to: kestrel, count: 0}",
            26,
            "flows[0].count",
            "at least 1",
        ),
        (
            "- kind: transfer\n  from: buyers\n  to: kestrel\n  start_day: 91\n",
            29,
            "flows[0].start_day",
            "start_day 91 is after the world's last day (world.days: 90)",
        ),
        (
            "- kind: transfer\n  from: buyers\n  to: kestrel\n  start_day: 10\n  end_day: 5\n",
            30,
            "flows[0].end_day",
            "end_day (5) is before start_day (10)",
        ),
        (
            "- {kind: transfer, from: buyers, to: kestrel, start_day: -1}",
            26,
            "flows[0].start_day",
            "at least 0",
        ),
        (
            "- {kind: transfer, from: buyers, to: kestrel, hops: 2}",
            26,
            "flows[0].hops",
            "only applies to peel_chain",
        ),
        (
            "- {kind: peel_chain, from: kestrel, to: coinvault}",
            26,
            "flows[0].hops",
            "needs hops: 1 or more",
        ),
        (
            "- {kind: peel_chain, from: kestrel, to: coinvault, hops: 0}",
            26,
            "flows[0].hops",
            "needs hops",
        ),
        (
            "- {kind: mixing, from: kestrel, to: kestrel}",
            26,
            "flows[0].via",
            "needs via: the id of a mixer",
        ),
        (
            "- {kind: mixing, from: kestrel, to: kestrel, via: coinvault}",
            26,
            "flows[0].via",
            "'coinvault' is a exchange, not a mixer",
        ),
        (
            "- {kind: mixing, from: kestrel, to: kestrel, via: tumbel}",
            26,
            "flows[0].via",
            "did you mean 'tumble'?",
        ),
        (
            "- {kind: transfer, from: kestrel, to: coinvault, via: tumble}",
            26,
            "flows[0].via",
            "only applies to mixing",
        ),
        (
            "- {kind: cash_out, from: kestrel, to: buyers}",
            26,
            "flows[0].to",
            "a cash_out goes to an exchange, but 'buyers' is a buyer",
        ),
        (
            "- {kind: transfer, from: kestrel, to: kestrel}",
            26,
            "flows[0].to",
            "only consolidation, mixing, commission and swap",
        ),
        (
            "- kind: transfer\n  from: kestrl\n  to: coinvault\n",
            27,
            "flows[0].from",
            "no actor 'kestrl'; did you mean 'kestrel'?",
        ),
        ("- {kind: transfer, from: kestrel, to: bank}", 26, "flows[0].to", "no actor 'bank'"),
        (
            "- {kind: purchase, from: buyers, to: kestrel, site: fund}",
            26,
            "flows[0].site",
            "a purchase must be made on a market or shop site, but 'fund' is a donation",
        ),
        (
            "- {kind: donation, from: buyers, to: kestrel, site: market}",
            26,
            "flows[0].site",
            "a donation must be made on a donation site, but 'market' is a market",
        ),
        (
            "- {kind: purchase, from: buyers, to: kestrel}",
            26,
            "flows[0].site",
            "a purchase is made on a site",
        ),
        (
            "- {kind: donation, from: buyers, to: kestrel, site: fnd}",
            26,
            "flows[0].site",
            "no site 'fnd'",
        ),
        (
            "- {kind: purchase, from: buyers, to: coinvault, site: market}",
            26,
            "flows[0].to",
            "'coinvault' does not sell on 'market'",
        ),
        (
            "- {kind: donation, from: buyers, to: coinvault, site: fund}",
            26,
            "flows[0].to",
            "donations on 'fund' go to its operator 'kestrel', not 'coinvault'",
        ),
        (
            "- {kind: transfer, from: buyers, to: kestrel, site: market}",
            26,
            "flows[0].site",
            "only applies to",
        ),
        (
            "- {id: a, kind: transfer, from: buyers, to: kestrel}\n- {id: a, kind: transfer, from: buyers, to: kestrel}",
            27,
            "flows[1].id",
            "duplicate flow id 'a' (first defined at line 26)",
        ),
        (
            "- {kind: transfer, from: buyers, to: kestrel, colour: red}",
            26,
            "flows[0].colour",
            "unknown key",
        ),
        ("- {kind: transfer, to: kestrel}", 26, "flows[0].from", "required but missing"),
        ("- just a string", 26, "flows[0]", "expected a mapping, got text ('just a string')"),
    ],
)
def test_flow_values(tmp_path, flow, line, path, expected):
    """Wrong values and references of flows are reported at their line and path."""
    found = one(tmp_path, flows(flow))
    assert found[:2] == (line, path)
    assert expected in found[2]


MARKET = """\
meta: {title: Commission}
actors:
  - {id: ex, role: exchange}
  - {id: boss, role: admin}
  - {id: other, role: admin}
  - {id: seller, role: vendor}
  - {id: crowd, role: buyer, count: 5, balance: 1}
sites:
  - {id: mkt, kind: market, name: M, operator: boss, featured: [seller], commission: 0.05}
  - {id: fund, kind: donation, name: F, operator: boss}
flows:
  - {id: sales, kind: purchase, from: crowd, to: seller, site: mkt, amount: 0.1, count: 20}
"""  # 12 lines; 20 sales of 0.1 BTC at 5% leave at most 0.1 BTC of commission


@pytest.mark.parametrize(
    ("flow", "path", "expected"),
    [
        (
            "{kind: commission, from: boss, to: boss, site: mkt, amount: 0.2}",
            "flows[1].amount",
            "commission flows need at least 0.2 BTC from the escrow of 'mkt', whose 5% cut of every "
            "purchase made there can never come to more than 0.1 BTC",
        ),
        (
            "{kind: commission, from: other, to: other, site: mkt}",
            "flows[1].from",
            "the escrow of 'mkt' belongs to its operator 'boss', so from: must be 'boss', not 'other'",
        ),
        (
            "{kind: commission, from: other, to: boss}",
            "flows[1].site",
            "give site: the market whose escrow pays this commission",
        ),
        (
            "{kind: commission, from: boss, to: boss, site: fund}",
            "flows[1].site",
            "a commission must be made on a market site, but 'fund' is a donation",
        ),
        (
            "{kind: consolidation, from: boss, to: boss, amount: 1}",
            "flows[1].amount",
            "a consolidation always sweeps everything; remove amount",
        ),
        (
            "{kind: consolidation, from: boss, to: boss, site: mkt}",
            "flows[1].site",
            "a consolidation must be made on a donation site, but 'mkt' is a market",
        ),
        (
            "{kind: consolidation, from: other, to: other, site: fund}",
            "flows[1].from",
            "the donation wallet of 'fund' belongs to its operator 'boss'",
        ),
        (
            "{kind: transfer, from: boss, to: seller, amount: 0.2}",
            "flows[1].amount",
            "flow 'transfer-2' needs at least 0.2 BTC from 'boss', who can never hold more than 0 BTC",
        ),
    ],
)
def test_commission_and_consolidation(tmp_path, flow, path, expected):
    """Commission and consolidation flows follow their market's escrow and donation wallet."""
    found = one(tmp_path, MARKET + f"  - {flow}\n")
    assert found[:2] == (13, path)
    assert found[2].startswith(expected)


def test_commission_defaults_to_the_operators_market(tmp_path):
    """A commission without site is paid from the one market its source runs."""
    text = MARKET + "  - {kind: commission, from: boss, to: boss, count: 4}\n"
    text += "  - {kind: transfer, from: boss, to: other, amount: 0.09}\n"
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.flows[1].site == "mkt"


def test_a_world_needs_an_exchange(tmp_path):
    """A world without an exchange is reported."""
    assert one(tmp_path, "meta: {title: T}\n") == (
        1,
        "actors",
        "a world needs at least one actor with role: exchange, where everyone buys and cashes "
        "out their coins",
    )
    assert one(tmp_path, "meta: {title: T}\nactors:\n  - {id: a, role: user}\n")[:2] == (
        2,
        "actors",
    )


@pytest.mark.parametrize(
    ("actor_id", "clash"),
    [
        ("bg-7", "bg-N and pool-N"),
        ("pool-1", "bg-N and pool-N"),
        ("buyers-3", "buyers-N names the members of the group 'buyers'"),
        ("market-vendor-2", "market-vendor-N names the generated vendors of site 'market'"),
    ],
)
def test_ids_the_builder_generates_are_reserved(tmp_path, actor_id, clash):
    """Actor ids that look like the builder's generated ids are refused."""
    found = one(tmp_path, BASE.replace("  - id: tumble\n", f"  - id: {actor_id}\n"))
    assert found[:2] == (7, "actors[1].id")
    assert found[2].startswith(
        f"'{actor_id}' could clash with an id the builder generates ({clash}"
    )


def test_analytics_id_needs_an_operator_and_a_clearnet_site(tmp_path):
    """The analytics_id mistake needs an operator and a social or paste site."""
    text = BASE.replace(
        "    featured: [kestrel]\n", "    featured: [kestrel]\n    mistakes: [analytics_id]\n"
    )
    assert one(tmp_path, text)[:2] == (21, "sites[0].mistakes[0]")
    assert "needs an operator" in one(tmp_path, text)[2]
    text = text.replace("    kind: market\n", "    kind: market\n    operator: kestrel\n")
    assert one(tmp_path, text)[1:] == (
        "sites[0].mistakes[0]",
        "analytics_id needs a social or paste site, where the operator's blog snippet with the "
        "same analytics id is posted",
    )
    text += "  - {id: paste, kind: paste, name: Pastebox}\n"
    assert load_scenario(write(tmp_path, text)).site("paste").onion is False


def test_duplicate_ids(tmp_path):
    """Duplicate actor and site ids are reported at the second one, naming the first."""
    text = BASE + "  - id: market\n    kind: wiki\n    name: Again\n"
    text = text.replace("  - id: tumble\n", "  - id: kestrel\n")
    assert problems(tmp_path, text) == [
        (9, "actors[2].id", "duplicate actor id 'kestrel' (first defined at line 7)"),
        (25, "sites[2].id", "duplicate site id 'market' (first defined at line 17)"),
    ]


def test_references_of_actors_and_sites(tmp_path):
    """References from actors and sites to missing or wrong actors are reported."""
    text = BASE.replace("    exchange: coinvault\n", "    exchange: tumble\n")
    text = text.replace("featured: [kestrel]", "featured: [kestrel, ghost]")
    text = text.replace("    operator: kestrel\n", "    operator: nobody\n")
    text = text.replace("    balance: 1\n", "    balance: 1\n    exchange: coinvalt\n")
    found = problems(tmp_path, text)
    assert [f[:2] for f in found] == [
        (11, "actors[2].exchange"),
        (16, "actors[3].exchange"),
        (21, "sites[0].featured[1]"),
        (25, "sites[1].operator"),
    ]
    assert found[0][2] == "'tumble' is a mixer, not an exchange (role: exchange)"
    assert found[1][2].startswith("no actor 'coinvalt'; did you mean 'coinvault'? (actors: ")
    assert "no actor 'ghost'" in found[2][2]
    assert "no actor 'nobody'" in found[3][2]


def test_group_with_fixed_name_or_username(tmp_path):
    """A group with a fixed name or username is reported at each key."""
    text = BASE.replace(
        "    count: 10\n", "    count: 10\n    name: Bob Smith\n    username: bob\n"
    )
    found = problems(tmp_path, text)
    assert [f[:2] for f in found] == [(15, "actors[3].name"), (16, "actors[3].username")]
    assert "a group (count: 10) cannot share one fixed name" in found[0][2]


def test_reserved_background_id(tmp_path):
    """No actor may be called 'background'."""
    text = BASE.replace("  - id: tumble\n", "  - id: background\n")
    assert one(tmp_path, text)[:2] == (7, "actors[1].id")


def test_background_users_may_be_named_in_flows(tmp_path):
    """Flows may pay or be paid by the background users."""
    scenario = load_scenario(
        write(tmp_path, flows("- {kind: transfer, from: background, to: kestrel, amount: 5}"))
    )
    assert scenario.flows[0].source == "background"


def test_duplicate_yaml_key(tmp_path):
    """A key given twice in one mapping is reported at the second."""
    line, path, message = one(tmp_path, "meta:\n  title: A\n  title: B\n" + EX)
    assert (line, path, message) == (
        3,
        "meta.title",
        "duplicate key 'title' (first given at line 2)",
    )


def test_unsupported_tag(tmp_path):
    """Python-specific YAML tags are refused, not executed."""
    assert one(tmp_path, "meta:\n  title: !!python/name:os.system x\n" + EX)[:2] == (
        2,
        "meta.title",
    )


def test_scientific_notation_is_a_number(tmp_path):
    """5e-4 is read as a number, as in YAML 1.2."""
    scenario = load_scenario(
        write(tmp_path, flows("- {kind: transfer, from: background, to: kestrel, amount: 5e-4}"))
    )
    assert scenario.flows[0].amount == Amount(0.0005, 0.0005)


def test_anchors_and_merge_keys(tmp_path):
    """Anchors, aliases and merge keys work, explicit keys overriding merged ones."""
    text = flows(
        """\
        - &sale {kind: purchase, from: buyers, to: kestrel, site: market, amount: 0.01, count: 5}
        - &more
          <<: *sale
          count: 7
        - *more
        """
    )
    scenario = load_scenario(write(tmp_path, text))
    assert [f.count for f in scenario.flows] == [5, 7, 7]
    assert [f.id for f in scenario.flows] == ["purchase-1", "purchase-2", "purchase-3"]


def test_recursive_alias_does_not_hang(tmp_path):
    """An alias to its own ancestor is reported instead of recursing forever."""
    found = problems(tmp_path, "meta: &m\n  title: T\n  self: *m\n" + EX)
    assert found[0][:2] == (3, "meta.self")


# --- the funds analysis ---------------------------------------------------------------


def test_funds_message(tmp_path):
    """A flow an actor cannot afford is reported at its amount with both figures."""
    text = BASE.replace(
        "  - id: kestrel\n    role: vendor\n",
        "  - id: kestrel\n    role: vendor\n    balance: 0.2\n",
    )
    text += """\
flows:
  - id: sales
    kind: purchase
    from: buyers
    to: kestrel
    site: market
    amount: {min: 0.1, max: 1}
    count: 3
  - id: cashout
    kind: cash_out
    from: kestrel
    to: coinvault
    amount: 12.5
"""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert str(problem) == (
        f"{path}:38: flows[1].amount: flow 'cashout' needs at least 12.5 BTC from 'kestrel', "
        "who can never hold more than 3.2 BTC"
    )


def test_funds_of_a_group_sum_over_flows(tmp_path):
    """A group's outgoing flows are summed against what the group can hold."""
    found = one(
        tmp_path,
        flows(
            """\
            - {id: a, kind: transfer, from: buyers, to: kestrel, amount: 0.5, count: 12}
            - {id: b, kind: transfer, from: buyers, to: kestrel, amount: 0.5, count: 12}
            """
        ),
    )
    assert found[:2] == (27, "flows[1].amount")
    assert found[2] == (
        "flow 'b' with 'a' before it needs at least 12 BTC from 'buyers' (a group of 10), "
        "who can never hold more than 10 BTC"
    )


def test_funds_follow_flows_without_amount(tmp_path):
    """A flow without amount passes on at most what its source can hold."""
    text = flows(
        """\
        - {kind: transfer, from: buyers, to: kestrel}
        - {kind: transfer, from: kestrel, to: tumble, amount: 10}
        - {kind: transfer, from: kestrel, to: tumble, amount: 0.001}
        """
    )
    found = one(tmp_path, text)
    assert found[:2] == (28, "flows[2].amount")
    assert "can never hold more than 10 BTC" in found[2]


def test_flows_cannot_start_at_a_service(tmp_path):
    """An exchange or mixer moves coins by its own behaviour, never as a flow's source.

    The builder has no personal wallet for a service, so such a flow used to crash it.
    """
    text = flows(
        """\
        - {id: buy, kind: transfer, from: coinvault, to: kestrel, amount: 1}
        - {id: pay, kind: transfer, from: tumble, to: kestrel, amount: 1}
        """
    )
    found = problems(tmp_path, text)
    assert (
        26,
        "flows[0].from",
        "'coinvault' is an exchange: flows cannot start at a service; "
        "give the receiving actor a balance instead",
    ) in found
    assert any(p[:2] == (27, "flows[1].from") and "is a mixer" in p[2] for p in found)


def test_exchanges_and_mixers_are_unlimited_as_payees(tmp_path):
    """Whatever reaches an exchange or a mixer never exceeds what it can hold."""
    text = flows(
        """\
        - {kind: transfer, from: background, to: kestrel, amount: 1}
        - {kind: cash_out, from: kestrel, to: coinvault}
        - {kind: mixing, from: kestrel, to: kestrel, via: tumble, amount: 0.0001}
        """
    )
    assert load_scenario(write(tmp_path, text)).flows[1].target == "coinvault"


def test_cycles_do_not_blow_up(tmp_path):
    """A cycle of amount-less flows ends the iteration and leaves its actors unbounded."""
    pair = "  - id: a\n    role: user\n    balance: 1\n  - id: b\n    role: user\n"
    text = flows(
        """\
        - {kind: transfer, from: a, to: b}
        - {kind: transfer, from: b, to: a}
        - {kind: transfer, from: a, to: b, amount: 5}
        - {kind: peel_chain, from: kestrel, to: kestrel, hops: 1, amount: 1}
        """
    ).replace("sites:\n", pair + "sites:\n")
    found = problems(tmp_path, text)
    # a <-> b grow without bound, so only kestrel's self-transfer and its funds are reported.
    assert [f[1] for f in found] == ["flows[3].amount", "flows[3].to"]
    assert "who can never hold more than 0 BTC" in found[0][2]


def test_finite_chain_of_flows_without_amount(tmp_path):
    """Chains of amount-less flows are followed to a finite bound."""
    text = flows(
        """\
        - {kind: transfer, from: buyers, to: kestrel}
        - {kind: consolidation, from: kestrel, to: kestrel}
        - {kind: cash_out, from: kestrel, to: coinvault, amount: 10}
        """
    )
    assert load_scenario(write(tmp_path, text)).flows[0].amount is None


def test_broken_flow_does_not_cause_follow_on_funds_errors(tmp_path):
    """A flow with a rejected amount does not make its payee look poor."""
    text = flows(
        """\
        - {kind: transfer, from: background, to: kestrel, amount: {min: 9, max: 1}}
        - {kind: cash_out, from: kestrel, to: coinvault, amount: 5}
        """
    )
    assert [f[1] for f in problems(tmp_path, text)] == ["flows[0].amount.min"]


# --- many problems at once ------------------------------------------------------------


def test_every_problem_is_reported(tmp_path):
    """Every problem of a file is reported, sorted by line."""
    text = """\
    version: 1
    meta:
      title: Many mistakes
      locale: xx_XX
    world:
      days: 30
      colour: blue
    actors:
      - id: kestrel
        role: vender
        exchange: nowhere
      - id: kestrel
        role: buyer
        count: 5
        name: Bob
    sites:
      - id: mkt
        kind: market
        name: M
        operator: ghost
    flows:
      - kind: cash_out
        from: kestrel
        to: kestrel
        start_day: 40
    """
    found = problems(tmp_path, text)
    assert [f[:2] for f in found] == [
        (4, "meta.locale"),
        (7, "world.colour"),
        (10, "actors[0].role"),
        (11, "actors[0].exchange"),
        (12, "actors[1].id"),
        (15, "actors[1].name"),
        (20, "sites[0].operator"),
        (24, "flows[0].to"),
        (25, "flows[0].start_day"),
    ]


# --- the schema ---------------------------------------------------------------------------


def _schema() -> dict:
    """The JSON Schema of format v1."""
    return json.loads((SCENARIOS / "schema.json").read_text(encoding="utf-8"))


def test_schema_enums_equal_model_tuples():
    """The schema's enums are exactly the model's tuples, in order."""
    defs = _schema()["$defs"]
    actor, site, flow = (
        defs["actor"]["properties"],
        defs["site"]["properties"],
        defs["flow"]["properties"],
    )
    assert tuple(actor["role"]["enum"]) == ACTOR_ROLES
    assert tuple(actor["kind"]["enum"]) == ACTOR_KINDS
    assert tuple(actor["opsec"]["items"]["enum"]) == OPSEC_TRAITS
    assert tuple(site["kind"]["enum"]) == SITE_KINDS
    assert tuple(site["mistakes"]["items"]["enum"]) == SITE_MISTAKES
    assert tuple(site["currencies"]["items"]["enum"]) == CURRENCIES
    assert tuple(flow["kind"]["enum"]) == FLOW_KINDS


def test_schema_keys_match_model_fields():
    """The schema's keys are exactly the model's fields (from/to for source/target; a
    forum's list of boards is `boards` in the file, `forum_boards` in the model)."""
    from dataclasses import fields

    from sandbox.scenario import Actor, Flow, Site

    defs = _schema()["$defs"]
    assert set(defs["actor"]["properties"]) == {f.name for f in fields(Actor)} - {"line"}
    assert set(defs["site"]["properties"]) == {f.name for f in fields(Site)} - {
        "line",
        "description_line",
        "forum_boards",
    }
    renamed = {"source": "from", "target": "to"}
    assert set(defs["flow"]["properties"]) == {
        renamed.get(f.name, f.name) for f in fields(Flow)
    } - {"line"}
    assert set(defs["world"]["properties"]) == {f.name for f in fields(WorldKnobs)}
    assert set(defs["meta"]["properties"]) == {f.name for f in fields(Meta)}


def test_default_validates_against_schema_alone():
    """The default is valid for any JSON Schema tool, not only our loader."""
    import jsonschema

    data = yaml.safe_load((SCENARIOS / "default.yaml").read_text(encoding="utf-8"))
    data["world"]["start"] = data["world"]["start"].isoformat()
    jsonschema.Draft202012Validator(_schema()).validate(data)


def test_format_reference_example_is_valid(tmp_path):
    """The example in FORMAT.md is a valid scenario."""
    reference = (SCENARIOS / "FORMAT.md").read_text(encoding="utf-8")
    example = reference.split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = load_scenario(write(tmp_path, example, "example.yaml"))
    assert scenario.meta.title == "Operation Lantern"
    assert {f.kind for f in scenario.flows} >= {"purchase", "commission", "mixing", "cash_out"}


def test_format_reference_mentions_every_value():
    """FORMAT.md documents every allowed value."""
    reference = (SCENARIOS / "FORMAT.md").read_text(encoding="utf-8")
    for value in ACTOR_ROLES + OPSEC_TRAITS + SITE_KINDS + SITE_MISTAKES + FLOW_KINDS + CURRENCIES:
        assert f"`{value}`" in reference, value


# --- robustness ---------------------------------------------------------------------------

_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(st.text())
def test_garbage_text_raises_only_scenario_error(tmp_path, text):
    """Random text loads or raises ScenarioError, never anything else."""
    path = tmp_path / "garbage.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems


_keys = st.sampled_from(
    [
        "id",
        "role",
        "kind",
        "name",
        "count",
        "from",
        "to",
        "amount",
        "min",
        "max",
        "site",
        "via",
        "hops",
        "featured",
        "operator",
        "exchange",
        "balance",
        "start_day",
        "end_day",
        "days",
        "opsec",
    ]
)
_ids = st.sampled_from(
    ["kestrel", "coinvault", "tumble", "buyers", "market", "fund", "ghost", "background"]
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    _ids,
    st.sampled_from(ACTOR_ROLES + SITE_KINDS + FLOW_KINDS),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.slow  # many generated documents
@_settings
@given(
    st.lists(st.dictionaries(_keys, _values, max_size=8), max_size=4),
    st.lists(st.dictionaries(_keys, _values, max_size=8), max_size=4),
    st.dictionaries(_keys, _values, max_size=4),
)
def test_random_documents_raise_only_scenario_error(tmp_path, extra_actors, extra_flows, world):
    """Random well-formed YAML in the sections raises only ScenarioError, with lines."""
    data = yaml.safe_load(BASE)
    data["actors"] += extra_actors
    data["flows"] = extra_flows
    data["world"] = world
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems
        assert all(p.line >= 1 for p in exc.problems)
    else:
        assert all(not math.isnan(f.start_day) for f in scenario.flows)


def test_service_site_ids_and_names_are_reserved(tmp_path):
    """The explorer and the exchanges' portals are sites of every world (architecture rule 6)."""
    text = BASE + (
        "  - {id: explorer, kind: wiki, name: Links}\n"
        "  - {id: coinvault, kind: paste, name: Paste, onion: false, domain: explorer.test}\n"
    )
    found = problems(tmp_path, text)
    assert [(line, path) for line, path, _ in found] == [
        (25, "sites[2].id"),
        (26, "sites[3].domain"),
        (26, "sites[3].id"),
    ]
    assert (
        "block explorer" in found[0][2] and "already the name of the block explorer" in found[1][2]
    )
