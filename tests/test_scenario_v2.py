"""Scenario format v2: seats, objectives, hints, injects, artefacts, solution, each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.errors import ScenarioError
from sandbox.scenario import (
    ANSWER_FIELDS,
    ARTEFACT_KINDS,
    COMPARISONS,
    INJECT_ACTIONS,
    Artefact,
    Hint,
    Inject,
    Objective,
    Ref,
    Seats,
    load_scenario,
    resolve_solution,
)
from tests.test_scenario import write

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

# A valid v2 base that the error tests change; its lines are counted in the tests below.
BASE = """\
version: 2
meta:
  title: Test course
actors:
  - {id: coinvault, role: exchange, kind: organisation}
  - {id: boss, role: admin, exchange: coinvault}
  - {id: kestrel, role: vendor, exchange: coinvault, balance: 1}
  - {id: vendors, role: vendor, count: 4, balance: 0.5}
  - {id: buyers, role: buyer, count: 10, balance: 1}
sites:
  - {id: market, kind: market, name: Test Market, operator: boss, featured: [kestrel, vendors]}
  - {id: forum, kind: forum, name: Test Forum}
flows:
  - {id: sales, kind: purchase, from: buyers, to: kestrel, site: market, count: 5, amount: 0.1}
  - {id: cashout, kind: cash_out, from: kestrel, to: coinvault}
seats:
  count: 8
  group: vendors
objectives:
  - id: name
    question: "Who is {subject.username}?"
    answer: {actor: $subject, field: name}
    hints:
      - {text: "Read the PGP key.", cost: 2}
  - id: total
    question: "How much did kestrel sell?"
    answer: {flow: sales, field: total}
injects:
  - {id: tip, solved: name, action: message, text: "Well done."}
artefacts:
  - {id: brief, kind: brief, title: Brief, text: "Find {subject.username}."}
"""  # 31 lines

CASES = """\
seats:
  cases:
    - {suspect: kestrel, place: market}
    - {suspect: boss, place: forum}
"""


def problems(tmp_path: Path, text: str) -> list[tuple[int, str, str]]:
    """(line, path, message) of every problem the loader reports for `text`."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    for problem in info.value.problems:
        assert str(problem).startswith(f"{path}:{problem.line}: {problem.path}: ")
    return [(p.line, p.path, p.message) for p in info.value.problems]


def changed(old: str, new: str) -> str:
    """BASE with one unique piece of text replaced."""
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


# --- a valid file ------------------------------------------------------------------------


def test_valid_v2_loads_into_the_dataclasses(tmp_path):
    """Every v2 section becomes its dataclass, with the defaults filled in."""
    text = changed(
        "{id: vendors, role: vendor, count: 4, balance: 0.5}",
        "{id: vendors, role: vendor, count: 4, balance: 0.5, exchange: coinvault}",
    ) + (
        "  - {id: phone, kind: phone_notes, title: Phone, actor: $subject}\n"
        "  - {id: shot, kind: screenshot, title: 'Shot of {market.name}', site: market,"
        " actor: $subject}\n"
    )
    text = text.replace(
        '  - {id: tip, solved: name, action: message, text: "Well done."}\n',
        '  - {id: tip, solved: name, action: message, text: "Well done."}\n'
        "  - {id: exit, at: 30, action: exit_scam, site: market}\n"
        "  - {id: move, action: move_funds, actor: $subject, to: coinvault, amount: 0.05}\n"
        "  - {id: post, manual: true, action: forum_post, site: forum, actor: boss,"
        " title: 'New {{rules}}', text: 'From {boss.username}'}\n",
    )
    text = text.replace(
        "    answer: {flow: sales, field: total}\n",
        "    answer: {flow: sales, field: total, member: kestrel}\n"
        "    points: 30\n    tolerance: 2%\n    attempts: 0\n",
    )
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.version == 2
    assert scenario.seats == Seats(count=8, group="vendors", cases=(), wallet=0.01, line=16)
    name, total = scenario.objectives
    assert name == Objective(
        id="name",
        question="Who is {subject.username}?",
        answer=Ref("actor", "$subject", "name"),
        hints=(Hint("Read the PGP key.", 2),),
        line=20,
    )
    assert total.answer == Ref("flow", "sales", "total", "kestrel")
    assert (total.points, total.compare, total.attempts) == (30, "number", 0)
    assert total.tolerance == pytest.approx(0.02) and total.tolerance_relative
    tip, exit_scam, move, post = scenario.injects
    assert tip == Inject(id="tip", action="message", solved="name", text="Well done.", line=32)
    assert (exit_scam.at, exit_scam.manual, exit_scam.site) == (30.0, False, "market")
    assert move.manual and (move.actor, move.to, move.amount) == ("$subject", "coinvault", 0.05)
    assert post.manual and post.title == "New {{rules}}"
    assert scenario.artefacts == (
        Artefact("brief", "brief", "Brief", text="Find {subject.username}.", line=37),
        Artefact("phone", "phone_notes", "Phone", actor="$subject", line=38),
        Artefact(
            "shot", "screenshot", "Shot of {market.name}", site="market", actor="$subject", line=39
        ),
    )
    assert scenario.solution is None


def test_cases_become_sorted_pairs(tmp_path):
    """seats.cases become tuples of sorted (variable, id) pairs; wallet and count are kept."""
    text = changed("seats:\n  count: 8\n  group: vendors\n", CASES + "  wallet: 0\n")
    text = text.replace("$subject", "$suspect").replace("{subject.", "{suspect.")
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.seats.cases == (
        (("place", "market"), ("suspect", "kestrel")),
        (("place", "forum"), ("suspect", "boss")),
    )
    assert (scenario.seats.count, scenario.seats.wallet, scenario.seats.group) == (20, 0.0, None)


def test_seats_default_and_compare_by_field(tmp_path):
    """Without seats the defaults apply; compare defaults by the answer's field."""
    text = changed("seats:\n  count: 8\n  group: vendors\n", "").replace("$subject", "kestrel")
    text = text.replace("{subject.username}", "{kestrel.username}")
    text = text.replace(
        "    answer: {flow: sales, field: total}\n",
        "    answer: {flow: sales, field: total}\n"
        "  - {id: a, question: Q, answer: {actor: kestrel, field: addresses}}\n"
        "  - {id: b, question: Q, answer: {site: market, field: address}, compare: exact}\n",
    )
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.seats == Seats()
    assert [o.compare for o in scenario.objectives] == ["nocase", "number", "set", "exact"]


def test_solution_is_resolved_against_the_scenario_folder(tmp_path):
    """solution: is relative to the file's folder and becomes an absolute path."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "mine.py").write_text("print('solved')\n", encoding="utf-8")
    scenario = load_scenario(write(tmp_path, "solution: solutions/mine.py\n" + BASE))
    assert scenario.solution == str((tmp_path / "solutions" / "mine.py").resolve())
    assert resolve_solution(tmp_path / "no-such-builtin-name.yaml") is None


def test_v1_files_still_load(tmp_path):
    """A v1 file keeps version 1 and gets empty course sections."""
    scenario = load_scenario(Path(__file__).parent / "data" / "tiny.yaml")
    assert scenario.version == 1
    assert (scenario.objectives, scenario.injects, scenario.artefacts) == ((), (), ())
    assert all(not f.each for f in scenario.flows)


# --- the version rule ----------------------------------------------------------------------


def test_v2_sections_in_a_version_1_file(tmp_path):
    """Every v2 section and flows' each in a version 1 file needs version: 2, at its line."""
    text = changed("version: 2\n", "version: 1\n").replace(
        "to: coinvault}", "to: coinvault, each: false}"
    )
    found = problems(tmp_path, text)
    assert [(line, path) for line, path, _ in found] == [
        (15, "flows[1].each"),
        (16, "seats"),
        (19, "objectives"),
        (28, "injects"),
        (30, "artefacts"),
    ]
    assert all(message.startswith("needs version: 2") for _, _, message in found)


def test_v2_sections_without_version(tmp_path):
    """Without version a file is version 1, and the message says so."""
    found = problems(tmp_path, changed("version: 2\n", ""))
    assert [path for _, path, _ in found] == ["seats", "objectives", "injects", "artefacts"]
    assert "without it a file is version 1" in found[0][2]


def test_unsupported_version(tmp_path):
    """Only versions 1 and 2 exist."""
    found = problems(tmp_path, changed("version: 2\n", "version: 3\n"))
    assert found == [
        (1, "version", "unsupported format version 3; this sandbox reads versions 1 and 2")
    ]


# --- one test per validation error -----------------------------------------------------------

ERRORS = [
    # structure (schema.json)
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: $subject, field: name, feild: x}",
        22,
        "objectives[0].answer.feild",
        "unknown key 'feild'; did you mean 'field'?",
    ),
    (
        "  count: 8\n",
        "  count: 8\n  cont: 3\n",
        18,
        "seats.cont",
        "unknown key 'cont'; did you mean 'count'? (allowed: count, group, cases, wallet)",
    ),
    ("  count: 8\n", "  count: 300\n", 17, "seats.count", "must be at most 200, got 300"),
    ("  count: 8\n", "  count: 0\n", 17, "seats.count", "must be at least 1, got 0"),
    ("  count: 8\n", "  count: 8\n  wallet: -1\n", 18, "seats.wallet", "must be at least 0"),
    (
        '    question: "Who is {subject.username}?"\n',
        '    question: "Who is {subject.username}?"\n    points: ten\n',
        22,
        "objectives[0].points",
        "expected a whole number, got text ('ten')",
    ),
    (
        '    question: "Who is {subject.username}?"\n',
        '    question: "Who is {subject.username}?"\n    attempts: -1\n',
        22,
        "objectives[0].attempts",
        "must be at least 0, got -1",
    ),
    (
        "cost: 2}",
        "cost: -2}",
        24,
        "objectives[0].hints[0].cost",
        "must be at least 0, got -2",
    ),
    (
        '    question: "Who is {subject.username}?"\n',
        '    question: "Who is {subject.username}?"\n    compare: nocse\n',
        22,
        "objectives[0].compare",
        "'nocse' is not a valid comparison; did you mean 'nocase'? (allowed: exact, nocase",
    ),
    (
        "action: message",
        "action: mesage",
        29,
        "injects[0].action",
        "'mesage' is not a valid inject action; did you mean 'message'?",
    ),
    (
        "kind: brief",
        "kind: breif",
        31,
        "artefacts[0].kind",
        "'breif' is not a valid kind; did you mean 'brief'?",
    ),
    (
        "answer: {flow: sales, field: total}",
        "answer: {flow: sales, field: total}\n    tolerance: 2 %",
        28,
        "objectives[1].tolerance",
        "'2 %' is not a tolerance: give a number, or a percentage like 2%",
    ),
    (
        "answer: {flow: sales, field: total}",
        "answer: {flow: sales, field: total}\n    tolerance: yes",
        28,
        "objectives[1].tolerance",
        "expected a number or a percentage like 2%, got a boolean",
    ),
    (
        "actor: $subject, field: name",
        "actor: $Subject, field: name",
        22,
        "objectives[0].answer.actor",
        "'$Subject' is not a valid id or seat variable",
    ),
    (
        "  - {id: tip, solved: name,",
        "  - {id: tip, at: -1,",
        29,
        "injects[0].at",
        "must be at least 0, got -1",
    ),
    # unknown ids, with did you mean
    (
        "actor: $subject, field: name",
        "actor: kestrl, field: name",
        22,
        "objectives[0].answer.actor",
        "no actor 'kestrl'; did you mean 'kestrel'?",
    ),
    (
        "flow: sales",
        "flow: sale",
        27,
        "objectives[1].answer.flow",
        "no flow 'sale'; did you mean 'sales'?",
    ),
    (
        "solved: name",
        "solved: nme",
        29,
        "injects[0].solved",
        "no objective 'nme'; did you mean 'name'? (objectives: name, total)",
    ),
    (
        "  group: vendors\n",
        "  group: vendor\n",
        18,
        "seats.group",
        "no actor 'vendor'; did you mean 'vendors'?",
    ),
    # fields and answers
    (
        "field: name}",
        "field: nam}",
        22,
        "objectives[0].answer.field",
        "'nam' is not a field of an actor; did you mean 'name'? (actor fields: name, username",
    ),
    (
        "answer: {flow: sales, field: total}",
        "answer: {flow: sales, field: name}",
        27,
        "objectives[1].answer.field",
        "'name' is not a field of a flow (flow fields: total, count, txids, addresses, exchange, "
        "payout_txids, payout_addresses, payout_total)",
    ),
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: $subject, site: market, field: name}",
        22,
        "objectives[0].answer.site",
        "give one of actor, site and flow, not actor and site",
    ),
    (
        "answer: {actor: $subject, field: name}",
        "answer: {field: name}",
        22,
        "objectives[0].answer",
        "name where the answer comes from: one of actor:, site: or flow:",
    ),
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: vendors, field: name}",
        22,
        "objectives[0].answer.actor",
        "'vendors' is a group of 4; name one actor, a member such as 'vendors-1'",
    ),
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: $subject, field: name, member: kestrel}",
        22,
        "objectives[0].answer.member",
        "member only applies to flow answers",
    ),
    (
        "answer: {flow: sales, field: total}",
        "answer: {flow: sales, field: total, member: boss}",
        27,
        "objectives[1].answer.member",
        "boss neither pays nor receives in flow 'sales' (from: buyers, to: kestrel)",
    ),
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: $suspect, field: name}",
        22,
        "objectives[0].answer.actor",
        "no seat variable '$suspect'; did you mean '$subject'? (seat variables: $subject)",
    ),
    (
        "answer: {flow: sales, field: total}",
        "answer: {flow: $subject, field: total}",
        27,
        "objectives[1].answer.flow",
        "'$subject' stands for an actor (see seats), not a flow",
    ),
    # compare and tolerance
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: $subject, field: name}\n    tolerance: 0.1",
        23,
        "objectives[0].tolerance",
        "tolerance only applies to compare: number (this objective compares nocase)",
    ),
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: $subject, field: name}\n    compare: number",
        23,
        "objectives[0].compare",
        "compare: number needs a number, but actor field 'name' is text",
    ),
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: $subject, field: addresses}\n    compare: nocase",
        23,
        "objectives[0].compare",
        "actor field 'addresses' is a list of values: compare it with compare: set",
    ),
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: $subject, field: name}\n    compare: sweep",
        23,
        "objectives[0].compare",
        "compare: sweep checks a transaction",
    ),
    (
        "answer: {actor: $subject, field: name}",
        "answer: {actor: $subject, field: sweep}\n    compare: exact",
        23,
        "objectives[0].compare",
        "field sweep is checked with compare: sweep",
    ),
    # seats
    (
        "  group: vendors\n",
        "  group: kestrel\n",
        18,
        "seats.group",
        "'kestrel' is not a group (count: 1); seats.group needs an actor with count: 2 or more",
    ),
    (
        "  group: vendors\n",
        "  group: vendors\n  cases: [{subject: kestrel}]\n",
        19,
        "seats.cases",
        "give either group (each seat investigates one member) or cases, not both",
    ),
    (
        "seats:\n  count: 8\n  group: vendors\n",
        "seats:\n  cases:\n    - {subject: kestrel}\n    - {subject: boss, extra: forum}\n",
        19,
        "seats.cases[1]",
        "every case needs the same variables, but this one adds extra (cases[0] has: subject)",
    ),
    (
        "seats:\n  count: 8\n  group: vendors\n",
        "seats:\n  cases:\n    - {subject: kestrel}\n    - {subject: kestral}\n",
        19,
        "seats.cases[1].subject",
        "no actor, site or flow 'kestral'; did you mean 'kestrel'?",
    ),
    (
        "seats:\n  count: 8\n  group: vendors\n",
        "seats:\n  cases:\n    - {subject: kestrel}\n    - {subject: forum}\n",
        19,
        "seats.cases[1].subject",
        "'forum' is a site, but subject is an actor in cases[0]",
    ),
    (
        "seats:\n  count: 8\n  group: vendors\n",
        "seats:\n  cases:\n    - {subject: kestrel, seat: market}\n",
        18,
        "seats.cases[0].seat",
        "'seat' is not a valid variable name",
    ),
    (
        "seats:\n  count: 8\n  group: vendors\n",
        "seats:\n  cases:\n    - {subject: vendors}\n",
        18,
        "seats.cases[0].subject",
        "'vendors' is a group of 4; a case names one actor",
    ),
    (
        "  - {id: buyers,",
        "  - {id: trainees, role: user, count: 2}\n  - {id: buyers,",
        9,
        "actors[4].id",
        "'trainees' is reserved for the trainees' training wallets",
    ),
    # injects
    (
        "solved: name, action",
        "at: 5, solved: name, action",
        29,
        "injects[0].solved",
        "give either at (minutes after the start) or solved (a milestone), not both",
    ),
    (
        "solved: name, action",
        "solved: name, manual: true, action",
        29,
        "injects[0].manual",
        "manual: true is for injects only the instructor fires",
    ),
    (
        "solved: name, action",
        "manual: false, action",
        29,
        "injects[0].manual",
        "this inject would never fire: give at:, solved: or manual: true",
    ),
    (
        ', text: "Well done."}',
        "}",
        29,
        "injects[0].text",
        "a message inject needs text: the words shown",
    ),
    (
        'action: message, text: "Well done."}',
        "action: site_offline}",
        29,
        "injects[0].site",
        "a site_offline inject needs site: a site id or seat variable",
    ),
    (
        'action: message, text: "Well done."}',
        "action: forum_post, site: market, text: Hi}",
        29,
        "injects[0].site",
        "a forum_post goes on a forum, but 'market' is a market",
    ),
    (
        'action: message, text: "Well done."}',
        "action: move_funds, actor: $subject}",
        29,
        "injects[0].to",
        "a move_funds inject needs to: the receiving actor",
    ),
    (
        'action: message, text: "Well done."}',
        "action: move_funds, actor: coinvault, to: kestrel}",
        29,
        "injects[0].actor",
        "move_funds moves a suspect's coins, but this actor is an exchange",
    ),
    (
        'action: message, text: "Well done."}',
        "action: exit_scam, site: markt}",
        29,
        "injects[0].site",
        "no site 'markt'; did you mean 'market'?",
    ),
    (
        'text: "Well done."}',
        'text: "Well done.", site: market}',
        29,
        "injects[0].site",
        "site does not apply to a message inject (it uses: text)",
    ),
    # artefacts
    (
        'kind: brief, title: Brief, text: "Find {subject.username}."}',
        "kind: phone_notes, title: Phone}",
        31,
        "artefacts[0].actor",
        "a phone_notes artefact needs actor: an actor id or seat variable",
    ),
    (
        'kind: brief, title: Brief, text: "Find {subject.username}."}',
        "kind: screenshot, title: Shot, actor: $subject}",
        31,
        "artefacts[0].site",
        "a screenshot artefact needs site: a site id or seat variable",
    ),
    (
        'kind: brief, title: Brief, text: "Find {subject.username}."}',
        "kind: screenshot, title: Shot, site: market}",
        31,
        "artefacts[0].actor",
        "a screenshot artefact needs actor: an actor id or seat variable",
    ),
    (
        'kind: brief, title: Brief, text: "Find {subject.username}."}',
        "kind: brief, title: Brief}",
        31,
        "artefacts[0].text",
        "a brief artefact needs text",
    ),
    (
        'text: "Find {subject.username}."}',
        'text: "Find {subject.username}.", actor: kestrel}',
        31,
        "artefacts[0].actor",
        "actor does not apply to a brief artefact (it uses: text)",
    ),
    # duplicate ids
    (
        "  - id: total\n",
        "  - id: name\n",
        25,
        "objectives[1].id",
        "duplicate objective id 'name' (first defined at line 20)",
    ),
    (
        'text: "Well done."}\n',
        'text: "Well done."}\n  - {id: tip, manual: true, action: message, text: Again}\n',
        30,
        "injects[1].id",
        "duplicate inject id 'tip' (first defined at line 29)",
    ),
    # placeholders
    (
        "Who is {subject.username}?",
        "Who is {subjekt.username}?",
        21,
        "objectives[0].question",
        "'{subjekt.username}': no seat variable, actor, site or flow 'subjekt'; did you mean 'subject'?",
    ),
    (
        "Who is {subject.username}?",
        "Who is {subject.usrname}?",
        21,
        "objectives[0].question",
        "'{subject.usrname}': the seat variable 'subject' has no field 'usrname'; "
        "did you mean 'username'?",
    ),
    (
        "Who is {subject.username}?",
        "Who is {seat.number}?",
        21,
        "objectives[0].question",
        "'{seat.number}': the seat has no field 'number' (fields: code, wallet)",
    ),
    (
        "Who is {subject.username}?",
        "Who is {market.operator_name} on {market.owner}?",
        21,
        "objectives[0].question",
        "'{market.owner}': a site has no field 'owner'",
    ),
    (
        "Who is {subject.username}?",
        "Who is {vendors.name}?",
        21,
        "objectives[0].question",
        "'{vendors.name}': 'vendors' is a group of 4",
    ),
    (
        "Who is {subject.username}?",
        "Who is {subject}?",
        21,
        "objectives[0].question",
        "'{subject}' is not a placeholder: write {name.field}",
    ),
    (
        "Who is {subject.username}?",
        "Who is {$subject.username}?",
        21,
        "objectives[0].question",
        "write the variable without $, as {subject.username}",
    ),
    (
        "Who is {subject.username}?",
        "Who is subject.username}?",
        21,
        "objectives[0].question",
        "a lone '}' (character 24); write }} for a literal brace",
    ),
    (
        '"Read the PGP key."',
        '"Read {boss.pgp}."',
        24,
        "objectives[0].hints[0].text",
        "'{boss.pgp}': an actor has no field 'pgp'",
    ),
    (
        '"Well done."',
        '"Well done, {seat.cod}."',
        29,
        "injects[0].text",
        "'{seat.cod}': the seat has no field 'cod'; did you mean 'code'?",
    ),
    (
        "title: Brief,",
        "title: 'Brief for {nobody.name}',",
        31,
        "artefacts[0].title",
        "no seat variable, actor, site or flow 'nobody'",
    ),
    # flows: each
    (
        "to: coinvault}",
        "to: coinvault, each: true}",
        15,
        "flows[1].each",
        "each repeats the flow for every member of a group, but 'kestrel' is not a group",
    ),
    # solution
    (
        "version: 2\n",
        "version: 2\nsolution: solutions/missing.py\n",
        2,
        "solution",
        "no such file: ",
    ),
]


@pytest.mark.parametrize(("old", "new", "line", "path", "expected"), ERRORS)
def test_validation_error(tmp_path, old, new, line, path, expected):
    """Each v2 mistake is the file's only problem, at its line and field."""
    found = problems(tmp_path, changed(old, new))
    assert len(found) == 1, found
    assert found[0][:2] == (line, path)
    assert expected in found[0][2], found[0][2]


def test_variables_of_cases_have_kinds(tmp_path):
    """A case variable that stands for a site cannot be an answer's actor, and vice versa."""
    text = changed("seats:\n  count: 8\n  group: vendors\n", CASES)
    text = text.replace("{subject.username}", "{suspect.username} on {place.name}")
    text = text.replace("actor: $subject", "actor: $place")
    text = text.replace('text: "Well done."}', 'text: "On {place.username}."}')
    text = text.replace("Find {suspect.username} on {place.name}.", "Find {subject.name}.")
    found = problems(tmp_path, text)
    assert [(line, path) for line, path, _ in found] == [
        (23, "objectives[0].answer.actor"),
        (30, "injects[0].text"),
        (32, "artefacts[0].text"),
    ]
    assert "'$place' stands for a site (see seats), not an actor" in found[0][2]
    assert "'{place.username}': the seat variable 'place' has no field 'username'" in found[1][2]
    assert "no seat variable, actor, site or flow 'subject'" in found[2][2]


def test_cases_may_name_flows(tmp_path):
    """A case variable may stand for a flow, used as $name in flow answers."""
    text = changed("seats:\n  count: 8\n  group: vendors\n", CASES)
    text = text.replace("{subject.username}", "{suspect.username}").replace("$subject", "$suspect")
    text = text.replace("place: market}", "place: market, money: sales}")
    text = text.replace("place: forum}", "place: forum, money: cashout}")
    text = text.replace("{flow: sales, field: total}", "{flow: $money, field: total}")
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.objectives[1].answer == Ref("flow", "$money", "total")
    bad = text.replace("money: cashout}", "money: cashot}")
    found = problems(tmp_path, bad)
    assert [(line, path) for line, path, _ in found] == [(19, "seats.cases[1].money")]
    assert "no actor, site or flow 'cashot'; did you mean 'cashout'?" in found[0][2]


def test_sweep_needs_a_training_wallet(tmp_path):
    """An answer field sweep needs seats with a wallet."""
    text = changed("  group: vendors\n", "  group: vendors\n  wallet: 0\n")
    text = text.replace("field: name}", "field: sweep}")
    found = problems(tmp_path, text)
    assert found == [
        (
            23,
            "objectives[0].answer.field",
            "a sweep pays the seat's training wallet, but seats.wallet is 0 (no wallets)",
        )
    ]


def test_literal_braces_are_not_placeholders(tmp_path):
    """{{ and }} stand for literal braces."""
    text = changed("Who is {subject.username}?", "Who is {{not.this}} but {subject.username}?")
    assert load_scenario(write(tmp_path, text)).objectives[0].question.startswith("Who is {{")


def test_every_problem_at_once(tmp_path):
    """Problems of every section are reported together, sorted by line."""
    text = changed("  count: 8\n", "  count: 0\n")
    text = text.replace("field: name}", "field: nam}").replace("solved: name", "solved: nope")
    text = text.replace("kind: brief", "kind: nope")
    found = problems(tmp_path, text)
    assert [(line, path) for line, path, _ in found] == [
        (17, "seats.count"),
        (22, "objectives[0].answer.field"),
        (29, "injects[0].solved"),
        (31, "artefacts[0].kind"),
    ]


# --- funds of `each` flows --------------------------------------------------------------------

FUNDS = """\
version: 2
meta:
  title: Each
actors:
  - {id: coinvault, role: exchange}
  - {id: kestrel, role: vendor}
  - {id: donors, role: donor, count: 10, balance: 0.5}
flows:
  - {id: gifts, kind: transfer, from: donors, to: kestrel, each: true, count: 2, amount: AMOUNT}
"""


def test_each_flow_needs_count_times_min_from_every_member(tmp_path):
    """10 members paying 2 x 0.25 each need 5 BTC: exactly what they hold."""
    scenario = load_scenario(write(tmp_path, FUNDS.replace("AMOUNT", "0.25")))
    assert scenario.flows[0].each and scenario.flows[0].count == 2


def test_each_flow_beyond_the_groups_funds(tmp_path):
    """10 members paying 2 x 0.3 each need 6 BTC, more than the group's 5."""
    found = problems(tmp_path, FUNDS.replace("AMOUNT", "0.3"))
    assert found == [
        (
            9,
            "flows[0].amount",
            "flow 'gifts' needs at least 6 BTC from 'donors' (a group of 10), "
            "who can never hold more than 5 BTC",
        )
    ]


def test_each_flow_brings_every_members_payments(tmp_path):
    """The payee of an each flow can spend what all members bring: 10 x 2 x 0.25 = 5 BTC."""
    text = FUNDS.replace("AMOUNT", "0.25")
    ok = text + "  - {id: out, kind: transfer, from: kestrel, to: coinvault, amount: 5}\n"
    load_scenario(write(tmp_path, ok))
    over = text + "  - {id: out, kind: transfer, from: kestrel, to: coinvault, amount: 5.1}\n"
    found = problems(tmp_path, over)
    assert [(line, path) for line, path, _ in found] == [(10, "flows[1].amount")]


# --- the schema and the reference -------------------------------------------------------------


def _schema() -> dict:
    """The JSON Schema of formats v1 and v2."""
    return json.loads((SCENARIOS / "schema.json").read_text(encoding="utf-8"))


def test_schema_v2_enums_equal_model_tuples():
    """The schema's v2 enums are exactly the model's tuples, in order."""
    defs = _schema()["$defs"]
    assert tuple(defs["objective"]["properties"]["compare"]["enum"]) == COMPARISONS
    assert tuple(defs["inject"]["properties"]["action"]["enum"]) == INJECT_ACTIONS
    assert tuple(defs["artefact"]["properties"]["kind"]["enum"]) == ARTEFACT_KINDS
    assert set(defs["answer"]["properties"]) == set(ANSWER_FIELDS) | {"field", "member"}
    assert _schema()["properties"]["version"]["enum"] == [1, 2]


def test_schema_v2_keys_match_model_fields():
    """The schema's v2 keys are exactly the model's fields."""
    from dataclasses import fields

    defs = _schema()["$defs"]

    def names(cls, *extra):
        """The dataclass's field names, without line and `extra`."""
        return {f.name for f in fields(cls)} - {"line", *extra}

    assert set(defs["objective"]["properties"]) == names(
        Objective, "tolerance_relative", "spellings"
    )  # spellings: lists in accept
    assert set(defs["hint"]["properties"]) == names(Hint)
    assert set(defs["seats"]["properties"]) == names(Seats)
    assert set(defs["inject"]["properties"]) == names(Inject)
    assert set(defs["artefact"]["properties"]) == names(Artefact)


def test_format_reference_documents_v2():
    """FORMAT.md covers v2: every comparison, action, kind and answer field, and its example loads."""
    reference = (SCENARIOS / "FORMAT.md").read_text(encoding="utf-8")
    assert reference.startswith("# Scenario format, versions 1 and 2")
    values = COMPARISONS + INJECT_ACTIONS + ARTEFACT_KINDS
    values += tuple(f for fields in ANSWER_FIELDS.values() for f in fields)
    for value in values + ("seats", "objectives", "hints", "injects", "artefacts", "solution"):
        assert f"`{value}`" in reference, value


def test_format_reference_v2_example_is_valid(tmp_path):
    """The v2 example in FORMAT.md is a valid scenario with every course section."""
    reference = (SCENARIOS / "FORMAT.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in reference.split("```yaml\n")[1:]]
    example = next(b for b in blocks if b.startswith("version: 2"))
    scenario = load_scenario(write(tmp_path, example, "example.yaml"))
    assert scenario.version == 2
    assert scenario.objectives and scenario.injects and scenario.artefacts
    assert scenario.seats.group or scenario.seats.cases


# --- robustness -------------------------------------------------------------------------------

_keys = st.sampled_from(
    [
        "id", "question", "answer", "actor", "site", "flow", "field", "member", "compare",
        "tolerance", "hints", "text", "cost", "action", "at", "solved", "manual", "title",
        "to", "amount", "kind", "count", "group", "cases", "wallet", "subject",
    ]
)  # fmt: skip
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 300),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["$subject", "$x", "kestrel", "vendors", "vendors-2", "market", "forum", "sales", "name"]
        + ["{subject.name}", "{seat.code}", "{x.y}", "{", "2%", "total", "addresses", "sweep"]
        + list(COMPARISONS + INJECT_ACTIONS + ARTEFACT_KINDS)
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=14,
)


@pytest.mark.slow  # 200 generated documents
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(_keys, _values, max_size=5),
    st.lists(st.dictionaries(_keys, _values, max_size=6), max_size=3),
    st.lists(st.dictionaries(_keys, _values, max_size=6), max_size=3),
    st.lists(st.dictionaries(_keys, _values, max_size=6), max_size=3),
)
def test_random_course_sections_raise_only_scenario_error(
    tmp_path, seats, objectives, injects, artefacts
):
    """Random course sections load or raise ScenarioError with lines, never anything else."""
    data = yaml.safe_load(BASE)
    data.update(seats=seats, objectives=objectives, injects=injects, artefacts=artefacts)
    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems and all(p.line >= 1 for p in exc.problems)
