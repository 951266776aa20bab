"""Flow kinds, inject actions and answer fields are tables of functions that cover the model.

A kind, action or field the scenario format declares without an entry in its table (or an
entry for one it does not declare) fails here, not in the middle of a class's build.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sandbox.classroom.injects import Injects
from sandbox.ledger.sim.story import FLOW_RUNNERS, Story
from sandbox.scenario.model import (
    ANSWER_FIELDS,
    FLOW_KINDS,
    INJECT_ACTIONS,
    LEDGER_FLOW_KINDS,
    TRON_FLOW_KINDS,
)
from sandbox.tron.sim.story import RUNNERS as TRON_RUNNERS
from sandbox.tron.sim.story import TronStory
from sandbox.world.answers import (
    ACTOR_FIELDS,
    FLOW_FIELDS,
    PAYMENT_STEPS,
    SITE_FIELDS,
    Answers,
)

ROOT = Path(__file__).resolve().parent.parent


def test_every_flow_kind_has_a_runner():
    """FLOW_RUNNERS runs exactly the ledger's flow kinds, each with a method of Story."""
    assert set(FLOW_RUNNERS) == set(LEDGER_FLOW_KINDS)
    for kind, runner in FLOW_RUNNERS.items():
        assert getattr(Story, runner.__name__) is runner, kind


def test_every_tron_flow_kind_has_a_runner():
    """The Tron story's RUNNERS run exactly the Tron flow kinds, each with a TronStory method."""
    assert set(TRON_RUNNERS) == set(TRON_FLOW_KINDS)
    for kind, runner in TRON_RUNNERS.items():
        assert getattr(TronStory, runner.__name__) is runner, kind


def test_every_flow_kind_has_a_payment_step():
    """The answer key knows which step of each flow kind is its payment."""
    assert set(PAYMENT_STEPS) == set(FLOW_KINDS)


def test_every_inject_action_has_a_handler():
    """Injects.ACTIONS does exactly the inject actions, each with a method of Injects."""
    assert set(Injects.ACTIONS) == set(INJECT_ACTIONS)
    for action, handler in Injects.ACTIONS.items():
        assert getattr(Injects, handler.__name__) is handler, action


@pytest.mark.parametrize(
    ("of", "table"), [("actor", ACTOR_FIELDS), ("site", SITE_FIELDS), ("flow", FLOW_FIELDS)]
)
def test_every_answer_field_has_a_look_up(of, table):
    """Each answer field the format offers is looked up, and no field it does not offer."""
    assert set(table) == set(ANSWER_FIELDS[of])
    assert all(callable(f) for f in table.values())


def test_the_answer_key_refuses_a_field_without_a_look_up():
    """A field outside the tables is a BuildError naming it, not an AttributeError."""
    from sandbox.errors import BuildError

    answers = Answers.__new__(Answers)
    answers.actor_ids, answers.site_ids, answers.flows = {"a"}, {"s"}, {"f": None}
    for look_up, target in ((answers.actor, "a"), (answers.site, "s"), (answers.flow, "f")):
        with pytest.raises(BuildError, match="field 'colour'"):
            look_up(target, "colour")


def _names_built_at_run_time() -> list[str]:
    """getattr calls whose attribute name is built from strings (f-string or +), by place."""
    found = []
    for package in ("sandbox", "marketplaces", "investigator_tools"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("getattr", "hasattr")
                    and len(node.args) >= 2
                    and isinstance(node.args[1], (ast.JoinedStr, ast.BinOp))
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_dispatch_by_a_name_built_from_strings():
    """No method is found by a name made at run time: a reader could not link it to a caller."""
    assert _names_built_at_run_time() == []
