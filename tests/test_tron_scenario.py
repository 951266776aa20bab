"""The scenario format's Tron parts: actors' Tron wallets, flows' chain and asset, the Tron
noise knob, and the FILE:LINE: path: message errors for each Tron mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.errors import ScenarioError
from sandbox.scenario import TronWallet, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

BASE = """\
meta: {title: Tron case}
world: {tron_transactions: 500}
actors:
  - {id: ex, role: exchange, kind: organisation}
  - {id: fund, role: fundraiser, exchange: ex, tron: {USDT: 100, TRX: 50}}
  - {id: donors, role: donor, count: 5, exchange: ex, tron: {USDT: 40}}
  - {id: bystander, role: user, exchange: ex}
  - {id: relay, role: user, exchange: ex, tron: true}
flows:
"""  # 9 lines: the first flow is on line 10


def write(tmp_path: Path, flows: str) -> Path:
    """The base scenario with these flow lines."""
    path = tmp_path / "case.yaml"
    path.write_text(BASE + flows, encoding="utf-8")
    return path


def problems(tmp_path: Path, flows: str) -> list[str]:
    """Every problem the loader reports, as FILE:LINE: path: message lines."""
    path = write(tmp_path, flows)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def test_tron_wallets_flows_and_knob_are_read(tmp_path):
    """tron: on actors, chain and asset on flows, and tron_transactions land in the model."""
    scenario = load_scenario(
        write(
            tmp_path,
            "  - {id: gifts, kind: transfer, from: donors, to: fund, chain: tron, amount: 5,"
            " count: 4}\n"
            "  - {id: fuel, kind: transfer, from: fund, to: relay, chain: tron, asset: TRX,"
            " amount: 10}\n"
            "  - {id: cash, kind: cash_out, from: fund, to: ex, start_day: 30}\n",
        )
    )
    assert scenario.world.tron_transactions == 500
    by_id = {a.id: a for a in scenario.actors}
    assert by_id["fund"].tron == TronWallet(usdt=100, trx=50)
    assert by_id["donors"].tron == TronWallet(usdt=40)
    assert by_id["relay"].tron == TronWallet()
    assert by_id["bystander"].tron is None
    assert by_id["ex"].tron == TronWallet()  # exchanges always have one
    flows = {f.id: f for f in scenario.flows}
    assert (flows["gifts"].chain, flows["gifts"].asset) == ("tron", "USDT")
    assert (flows["fuel"].chain, flows["fuel"].asset) == ("tron", "TRX")
    assert (flows["cash"].chain, flows["cash"].asset) == ("btc", "BTC")


def test_asset_on_the_wrong_chain(tmp_path):
    """USDT without chain: tron, and BTC on Tron, are named at the asset's line."""
    file = tmp_path / "case.yaml"
    found = problems(
        tmp_path,
        "  - {kind: transfer, from: fund, to: relay, asset: USDT, amount: 1}\n"
        "  - {kind: transfer, from: fund, to: relay, chain: tron, asset: BTC, amount: 1}\n",
    )
    assert found == [
        f"{file}:10: flows[0].asset: USDT moves on Tron: add chain: tron "
        "(without it a flow is on btc, in BTC)",
        f"{file}:11: flows[1].asset: BTC is not an asset of chain: tron (its assets: USDT, "
        "TRX); BTC moves on chain: btc",
    ]


def test_tron_flow_needs_tron_wallets(tmp_path):
    """A Tron flow from (or to) an actor without a Tron wallet is an error naming it."""
    file = tmp_path / "case.yaml"
    found = problems(
        tmp_path,
        "  - {kind: transfer, from: bystander, to: relay, chain: tron, amount: 1}\n"
        "  - {kind: transfer, from: relay, to: bystander, chain: tron, amount: 1}\n",
    )
    hint = "give the actor tron: true (or tron: {USDT: ..., TRX: ...} with a starting balance)"
    assert found == [
        f"{file}:10: flows[0].from: 'bystander' has no Tron wallet for this chain: tron flow; "
        + hint,
        f"{file}:11: flows[1].to: 'bystander' has no Tron wallet for this chain: tron flow; "
        + hint,
    ]


def test_tron_amounts_that_cannot_be_paid(tmp_path):
    """The funds analysis counts each asset apart, in its own units."""
    file = tmp_path / "case.yaml"
    found = problems(
        tmp_path,
        # fund holds at most 100 USDT (its balance) + 5 donations of at most 30 = 250
        "  - {id: gifts, kind: transfer, from: donors, to: fund, chain: tron, amount: 30,"
        " count: 5}\n"
        "  - {id: out, kind: transfer, from: fund, to: relay, chain: tron, amount: 100,"
        " count: 3}\n"
        # TRX is counted apart from USDT: 50 TRX at most
        "  - {id: fuel, kind: transfer, from: fund, to: relay, chain: tron, asset: TRX,"
        " amount: 60}\n",
    )
    assert found == [
        f"{file}:11: flows[1].amount: flow 'out' needs at least 300 USDT from 'fund', "
        "who can never hold more than 250 USDT on Tron",
        f"{file}:12: flows[2].amount: flow 'fuel' needs at least 60 TRX from 'fund', "
        "who can never hold more than 50 TRX on Tron",
    ]


def test_btc_funds_do_not_pay_tron_flows(tmp_path):
    """A BTC balance does not pay USDT: an actor with only BTC cannot send USDT."""
    file = tmp_path / "case.yaml"
    text = BASE.replace(
        "{id: relay, role: user, exchange: ex, tron: true}",
        "{id: relay, role: user, exchange: ex, tron: true, balance: 5}",
    )
    path = tmp_path / "case.yaml"
    path.write_text(text + "  - {kind: transfer, from: relay, to: fund, chain: tron, amount: 1}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p) for p in info.value.problems] == [
        f"{file}:10: flows[0].amount: flow 'transfer-1' needs at least 1 USDT from 'relay', "
        "who can never hold more than 0 USDT on Tron"
    ]


def test_kinds_the_tron_chain_does_not_carry(tmp_path):
    """Mixing and commission are the ledger's; a Tron purchase is not made on a market."""
    file = tmp_path / "case.yaml"
    text = BASE.replace(
        "flows:\n",
        "sites:\n  - {id: bazaar, kind: market, name: Bazaar, featured: [relay]}\nflows:\n",
    )
    path = tmp_path / "case.yaml"
    path.write_text(
        text + "  - {kind: purchase, from: fund, to: relay, site: bazaar, chain: tron, amount: 1}\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p) for p in info.value.problems] == [
        f"{file}:12: flows[0].site: a market's escrow takes BTC only; a purchase with "
        "chain: tron is paid straight to the vendor, on a shop (and 'bazaar' is a market)"
    ]
    found = problems(
        tmp_path,
        "  - {kind: consolidation, from: fund, to: fund, chain: tron}\n"
        "  - {kind: mixing, from: fund, to: fund, via: ex, chain: tron, amount: 1}\n",
    )
    assert found[0] == (
        f"{file}:11: flows[1].chain: a mixing flow runs on the Bitcoin-like ledger only (Tron "
        "flows: donation, purchase, consolidation, peel_chain, cash_out, transfer, otc_sale, swap)"
    )


def test_otc_sale(tmp_path):
    """An OTC sale is read on Tron (to an actor or to background: one of the world's OTC
    desks); on btc, or to an exchange, it is an error at its line."""
    scenario = load_scenario(
        write(
            tmp_path,
            "  - {id: sell, kind: otc_sale, from: fund, to: background, chain: tron, amount: 50}\n"
            "  - {id: desk, kind: otc_sale, from: fund, to: relay, chain: tron, amount: 20}\n",
        )
    )
    flows = {f.id: f for f in scenario.flows}
    assert (flows["sell"].kind, flows["sell"].target, flows["sell"].asset) == (
        "otc_sale",
        "background",
        "USDT",
    )
    file = tmp_path / "case.yaml"
    found = problems(
        tmp_path,
        "  - {kind: otc_sale, from: fund, to: relay, amount: 1}\n"
        "  - {kind: otc_sale, from: fund, to: ex, chain: tron, amount: 1}\n",
    )
    assert found == [
        f"{file}:10: flows[0].kind: an otc_sale is paid on Tron (OTC desks buy USDT and TRX): "
        "add chain: tron",
        f"{file}:11: flows[1].to: an otc_sale goes to an OTC broker (an actor, or background "
        "for one of the world's OTC desks), not to the exchange 'ex': use cash_out",
    ]


def test_bad_tron_values(tmp_path):
    """Structural mistakes in the Tron keys get the usual messages."""
    path = tmp_path / "case.yaml"
    path.write_text(
        BASE.replace("tron: true}", "tron: yes please}").replace(
            "tron: {USDT: 40}", "tron: {USDT: 40, ETH: 1}"
        )
        + "  - {kind: transfer, from: fund, to: relay, chain: trom, amount: 1}\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:6: actors[2].tron.ETH: unknown key 'ETH' (allowed: USDT, TRX)",
        f"{path}:8: actors[4].tron: expected true or false or a mapping {{USDT, TRX}}, "
        "got text ('yes please')",
        f"{path}:10: flows[0].chain: 'trom' is not a valid chain; did you mean 'tron'? "
        "(allowed: btc, tron)",
    ]


def test_schema_documents_the_tron_keys():
    """schema.json and FORMAT.md both describe the Tron keys."""
    schema = json.loads((SCENARIOS / "schema.json").read_text())
    defs = schema["$defs"]
    assert defs["flow"]["properties"]["chain"]["enum"] == ["btc", "tron"]
    assert defs["flow"]["properties"]["asset"]["enum"] == ["BTC", "USDT", "TRX"]
    assert "tron" in defs["actor"]["properties"]
    assert "tron_transactions" in defs["world"]["properties"]
    text = (SCENARIOS / "FORMAT.md").read_text()
    assert "otc_sale" in defs["flow"]["properties"]["kind"]["enum"]
    for needle in ("`chain`", "`asset`", "`tron`", "`tron_transactions`", "`otc_sale`"):
        assert needle in text, needle


@pytest.mark.parametrize("name", ["default", "tf-donations"])
def test_builtin_worlds_have_tron_activity(name):
    """The default world and tf-donations have Tron noise and Tron story flows."""
    scenario = load_scenario(name)
    assert scenario.world.tron_transactions >= (50_000 if name == "default" else 1)
    assert any(f.chain == "tron" for f in scenario.flows)
