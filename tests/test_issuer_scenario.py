"""The scenario keys of the USDT issuer's course parts: freeze and seize objectives,
move_usdt and `when: disclosed` injects, world.issuer_answer_minutes, with the errors
their misuse gets (file, line, path, message)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sandbox.errors import ScenarioError
from sandbox.issuer import Portal
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from tests.course_secret import SECRET

ROOT = Path(__file__).resolve().parent.parent
TF = (ROOT / "scenarios" / "tf-donations.yaml").read_text()
COURSE = (ROOT / "tests" / "data" / "course.yaml").read_text()


def _with(text: str, section: str, items: str) -> str:
    """The scenario with items added at the start of a top-level list section."""
    head, tail = text.split(f"\n{section}:\n", 1)
    return f"{head}\n{section}:\n{items.strip(chr(10))}\n{tail}"


def _problems(tmp_path: Path, text: str) -> list[str]:
    """Every problem the loader reports, as `path: message`."""
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def test_freeze_and_seize_objectives_load(tmp_path):
    """Fields freeze and seize default to their own comparisons."""
    text = _with(
        TF,
        "objectives",
        """
  - id: f
    question: "Freeze ember's USDT."
    answer: {actor: ember, field: freeze}
  - id: s
    question: "Seize ember's USDT."
    answer: {actor: ember, field: seize}
""",
    )
    path = tmp_path / "ok.yaml"
    path.write_text(text)
    scenario = load_scenario(str(path))
    by_id = {o.id: o for o in scenario.objectives}
    assert by_id["f"].compare == "freeze" and by_id["s"].compare == "seize"


@pytest.mark.parametrize(
    ("items", "wanted"),
    [
        (
            '  - {id: f, question: "q", answer: {actor: ember, field: freeze}, compare: nocase}',
            "field freeze is checked with compare: freeze",
        ),
        (
            '  - {id: f, question: "q", answer: {actor: ember, field: name}, compare: seize}',
            "compare: seize checks the issuer's reference",
        ),
    ],
)
def test_objective_misuse(tmp_path, items, wanted):
    """A freeze or seize field with another comparison, or the comparison on another field."""
    found = _problems(tmp_path, _with(TF, "objectives", items))
    assert any(wanted in p and p.startswith("objectives[0].compare") for p in found), found


def test_freeze_needs_a_story_on_tron(tmp_path):
    """A world whose story does not use Tron has no issuer to ask."""
    items = '  - {id: f, question: "q", answer: {actor: $subject, field: freeze}}'
    found = _problems(tmp_path, _with(COURSE, "objectives", items))
    assert any("objectives[0].answer.field" in p and "uses Tron" in p for p in found), found


@pytest.mark.parametrize(
    ("items", "wanted"),
    [
        (
            "  - {id: t, action: move_usdt, actor: ember, when: disclosed, at: 5}",
            "injects[0].when: give one trigger",
        ),
        (
            '  - {id: t, action: message, text: "hi", when: disclosed}',
            "injects[0].when: when: disclosed fires when a seat asks",
        ),
        ("  - {id: t, action: move_usdt, actor: ember, when: later}", "injects[0].when"),
        ("  - {id: t, action: move_usdt, actor: harbor, when: disclosed}", "this actor is"),
    ],
)
def test_inject_misuse(tmp_path, items, wanted):
    """One trigger; disclosed needs the actor; only `disclosed`; not a service's funds."""
    found = _problems(tmp_path, _with(TF, "injects", items))
    assert any(wanted in p for p in found), found


def test_move_usdt_needs_a_story_on_tron(tmp_path):
    """move_usdt in a world whose story does not use Tron."""
    text = _with(COURSE, "injects", "  - {id: t, action: move_usdt, actor: $subject}")
    found = _problems(tmp_path, text)
    assert any("injects[0].action" in p and "Tron" in p for p in found), found


def test_answer_minutes_reach_the_portal(tmp_path):
    """world.issuer_answer_minutes is the portal's delay; a negative one is refused."""
    text = TF.replace("\nworld:\n", "\nworld:\n  issuer_answer_minutes: 2.5\n", 1)
    assert "issuer_answer_minutes" in text
    bad = text.replace("issuer_answer_minutes: 2.5", "issuer_answer_minutes: -1")
    assert any("issuer_answer_minutes" in p for p in _problems(tmp_path, bad))
    source = tmp_path / "tf.yaml"
    source.write_text(text)
    world = tmp_path / "tf.db"
    build_world(load_scenario(str(source)), world, secret=SECRET)
    portal = Portal(world, tmp_path / "state")
    assert portal.delay == 150
    portal.close()


def test_no_issuer_without_a_story_on_tron(tiny_world):
    """A world whose story stays on Bitcoin has no tether.test, and its seats no Tron wallet."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    try:
        kinds = {k for (k,) in conn.execute("SELECT kind FROM sites")}
        tron_seats = conn.execute("SELECT count(*) FROM seats WHERE tron_address IS NOT NULL")
        assert "issuer" not in kinds and "exchange" in kinds
        assert tron_seats.fetchone()[0] == 0
    finally:
        conn.close()
