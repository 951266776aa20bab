"""Semantic checks of format v2's course sections: seats, objectives, injects, artefacts.

They run after the world checks of `_checks` on the same `Doc`, so values the schema
rejected stay hidden and ids that were given but rejected are not reported again.
"""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass, field

from ..errors import Problem
from ._checks import UNLIMITED_ROLES, Doc, Path, _ids, _unknown, check_world, suggest
from ._content import Texts, check_content
from .model import ANSWER_FIELDS

# Top-level sections only a `version: 2` file may have (flows' `each` key too).
V2_SECTIONS = ("solution", "seats", "objectives", "injects", "artefacts")
SEAT_FIELDS = ("code", "wallet")  # {seat.code}, {seat.wallet}
SUBJECT = "subject"  # the variable seats.group binds
DEFAULT_WALLET = 0.01
# Answer fields that are numbers, and the ones that are lists of values.
ACCEPT_COMPARES = ("exact", "nocase")  # the comparisons an objective's accept: list applies to
NUMBER_FIELDS = {"actor": ("balance",), "site": (), "flow": ("total", "count", "payout_total")}
LIST_FIELDS = {
    "actor": ("addresses",),
    "site": ("donation_addresses", "tron_donation_addresses"),
    "flow": ("txids", "addresses", "payout_txids", "payout_addresses"),
}
_VARIABLE = re.compile(r"[a-z][a-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PLACEHOLDER_BODY = re.compile(r"(\$?)([a-z0-9_-]+)\.([a-z_]+)")

# What each inject action needs, and every key it uses.
INJECT_NEEDS = {
    "message": ("text",),
    "site_offline": ("site",),
    "site_online": ("site",),
    "exit_scam": ("site",),
    "forum_post": ("site", "text"),
    "move_funds": ("actor", "to"),
    "move_usdt": ("actor",),
}
INJECT_USES = {
    "message": ("text",),
    "site_offline": ("site",),
    "site_online": ("site",),
    "exit_scam": ("site", "text"),
    "forum_post": ("site", "actor", "title", "text"),
    "move_funds": ("actor", "to", "amount"),
    "move_usdt": ("actor", "to", "amount"),
}
ARTEFACT_NEEDS = {
    "brief": ("text",),
    "text": ("text",),
    "phone_notes": ("actor",),
    "screenshot": ("site", "actor"),  # the page of the actor's account on the site
}
ARTEFACT_USES = {
    "brief": ("text",),
    "text": ("text",),
    "phone_notes": ("actor", "text"),  # text: the phone's other notes
    "screenshot": ("site", "actor"),
}
_WHAT = {
    "text": "text: the words shown",
    "site": "site: a site id or seat variable",
    "actor": "actor: an actor id or seat variable",
    "to": "to: the receiving actor",
}


def _a(word: str) -> str:
    """The indefinite article for `word`."""
    return "an" if word[0] in "aeiou" else "a"


# Answer fields judged on what the trainee did while the class runs, each with the
# comparison of the same name: a sweep on the live chain, a freeze or seize at the issuer.
JUDGED_LIVE = {
    "sweep": "a transaction that moves an actor's coins to the seat's wallet",
    "freeze": "the USDT issuer's reference of the seat's freeze of an actor's address",
    "seize": "the issuer's reference of the seat's reissue of an actor's frozen USDT",
}


def default_compare(of: str, answer_field: str) -> str:
    """How an objective is compared when it gives no `compare`: by the kind of its field."""
    if answer_field in JUDGED_LIVE:
        return answer_field
    if answer_field in NUMBER_FIELDS.get(of, ()):
        return "number"
    if answer_field in LIST_FIELDS.get(of, ()):
        return "set"
    return "nocase"


def find_problems(data: dict, lines: dict[Path, int], bad: set[Path], file: str) -> list[Problem]:
    """Every semantic problem of a scenario document, of the world and of the course."""
    doc = Doc(data, lines, bad, file)
    actors, sites = check_world(doc)
    _Course(doc, actors, sites).run()
    return doc.problems


@dataclass
class _Variable:
    """A seat variable: the kinds (actor, site, flow) it can stand for, and its values."""

    kinds: set[str]
    values: list[str] | None  # actor, site or flow ids; for `subject`, the group


@dataclass
class _Course:
    """The course checks of one document, with what they share."""

    doc: Doc
    actors: dict[str, dict]
    sites: dict[str, dict]
    flows: dict[str, dict] = field(default_factory=dict)  # id -> {from, to}
    variables: dict[str, _Variable] = field(default_factory=dict)
    vague: bool = False  # the seats' variables are unknown: do not report $names
    wallet: float | None = DEFAULT_WALLET  # None: rejected
    objectives: dict[str, tuple[int, dict]] = field(default_factory=dict)

    def run(self) -> None:
        """Run every course check."""
        self._version()
        self._solution()
        self._flows()
        self._seats()
        self._objectives()
        self._injects()
        self._artefacts()
        check_content(
            Texts(
                self.doc,
                self.actors,
                self.sites,
                self.flows,
                self.placeholders_shared,
                lambda path, ref: self._resolve(path, ref, "actor"),
            )
        )

    def _uses_tron(self) -> bool:
        """Whether the story uses Tron (as sandbox.world.actors.uses_tron decides from the
        loaded scenario): a flow with chain: tron, or a non-exchange actor with tron:."""
        data = self.doc.data
        flows = data.get("flows") or []
        actors = data.get("actors") or []
        if not isinstance(flows, list) or not isinstance(actors, list):
            return False
        return any(isinstance(f, dict) and f.get("chain") == "tron" for f in flows) or any(
            isinstance(a, dict)
            and a.get("tron") not in (None, False)
            and a.get("role") != "exchange"
            for a in actors
        )

    # --- the version rule and the solution --------------------------------------------

    def _version(self) -> None:
        """v2 sections and flows' `each` in a version 1 file."""
        doc = self.doc
        if doc.version != 1:
            return
        if "version" in doc.data:
            why = "needs version: 2 (this file says version: 1)"
        else:
            why = "needs version: 2 at the top of the file (without it a file is version 1)"
        for key in V2_SECTIONS:
            if key in doc.data:
                doc.report((key,), why)
        for i, item in doc.items("flows"):
            if "each" in item:
                doc.report(("flows", i, "each"), why)

    def _solution(self) -> None:
        """`solution:` names an existing file, relative to the scenario's folder."""
        given = self.doc.get("solution", kind=str)
        if given is None:
            return
        path = pathlib.Path(self.doc.file).parent / given
        if not path.is_file():
            self.doc.report(
                ("solution",),
                f"no such file: {path} (solution: is relative to the scenario file's folder)",
            )

    # --- references ------------------------------------------------------------------

    def _flows(self) -> None:
        """The flow ids, as given or defaulted, with their parties."""
        for i, item in self.doc.items("flows"):
            given = self.doc.get("flows", i, "id", kind=str)
            if given is None and isinstance(item.get("id"), str):
                self.doc.ghosts["flow"].add(item["id"])
                continue
            kind = self.doc.get("flows", i, "kind", kind=str)
            flow_id = given or f"{kind or 'flow'}-{i + 1}"
            self.flows.setdefault(
                flow_id,
                {
                    "from": self.doc.get("flows", i, "from", kind=str),
                    "to": self.doc.get("flows", i, "to", kind=str),
                },
            )

    def _group_of(self, actor_id: str) -> str | None:
        """The group whose member `actor_id` is (`vendors-3`), or None."""
        match = re.fullmatch(r"(.+)-([0-9]+)", actor_id)
        if not match:
            return None
        group, n = match.group(1), int(match.group(2))
        info = self.actors.get(group)
        return group if info and 1 <= n <= info["count"] and info["count"] > 1 else None

    def _names(self) -> list[str]:
        """The variables' names as written in references, for messages."""
        return sorted(f"${name}" for name in self.variables)

    def _resolve(self, path: Path, ref: str, kind: str) -> list[str] | None:
        """The ids `ref` can stand for, of `kind` (actor, site, flow); None after a problem."""
        doc = self.doc
        if ref.startswith("$"):
            variable = self.variables.get(ref[1:])
            if variable is None:
                if not self.vague:
                    names = self._names()
                    known = (
                        f"seat variables: {', '.join(names)}"
                        if names
                        else "seats.group defines $subject and the keys of seats.cases define "
                        "the others"
                    )
                    doc.report(path, f"no seat variable '{ref}'{suggest(ref, names)} ({known})")
                return None
            if kind not in variable.kinds:
                other = " or ".join(sorted(variable.kinds))
                doc.report(
                    path,
                    f"'{ref}' stands for {_a(other)} {other} (see seats), not {_a(kind)} {kind}",
                )
                return None
            return variable.values
        if kind == "actor":
            if ref in self.actors:
                count = self.actors[ref]["count"]
                if count > 1:
                    doc.report(
                        path,
                        f"'{ref}' is a group of {count}; name one actor, a member such as "
                        f"'{ref}-1', or a seat variable such as $subject",
                    )
                    return None
                return [ref]
            if self._group_of(ref):
                return [ref]
            _unknown(doc, path, "actor", ref, self.actors)
            return None
        ids = self.sites if kind == "site" else self.flows
        if ref in ids:
            return [ref]
        _unknown(doc, path, kind, ref, ids)
        return None

    def placeholders_shared(self, path: Path, text: str | None) -> None:
        """A site's text, the same for every seat: its placeholders name ids, not seats."""
        self._placeholders(path, text, shared=True)

    def _placeholders(self, path: Path, text: str | dict | None, shared: bool = False) -> None:
        """Every `{name.field}` of a text names a seat variable, the seat, an actor or a site.

        shared: the text is on a site every seat sees, so neither the seat nor a seat
        variable can be named in it. A text in several languages: each of them.
        """
        if isinstance(text, dict):
            for language, version in text.items():
                if isinstance(version, str):
                    self._placeholders(path + (language,), version, shared)
            return
        if text is None:
            return
        doc = self.doc
        for match in _PLACEHOLDER.finditer(text):
            token = match.group(0)
            if token in ("{{", "}}"):
                continue
            if match.group(1) is None:
                doc.report(
                    path,
                    f"a lone '{token}' (character {match.start() + 1}); write {token * 2} for "
                    "a literal brace, or {name.field} for a placeholder",
                )
                return
            body = match.group(1)
            parts = _PLACEHOLDER_BODY.fullmatch(body)
            if parts is None:
                doc.report(
                    path,
                    f"'{{{body}}}' is not a placeholder: write {{name.field}}, like "
                    "{subject.username} or {seat.code} (and {{ }} for literal braces)",
                )
                continue
            dollar, name, wanted = parts.groups()
            if dollar:
                doc.report(
                    path, f"'{{{body}}}': write the variable without $, as {{{name}.{wanted}}}"
                )
                continue
            if shared and (name == "seat" or name in self.variables):
                doc.report(
                    path,
                    f"'{{{body}}}': a site's text is the same for every seat, so it cannot "
                    f"name {'the seat' if name == 'seat' else 'a seat variable'}; name an "
                    "actor, site or flow by its id",
                )
                continue
            found = self._placeholder_fields(path, body, name)
            if found is None:
                continue
            what, fields = found
            if wanted not in fields:
                doc.report(
                    path,
                    f"'{{{body}}}': {what} has no field '{wanted}'{suggest(wanted, fields)} "
                    f"(fields: {', '.join(fields)})",
                )
            elif name == "seat" and wanted == "wallet" and self.wallet == 0:
                doc.report(
                    path, "'{seat.wallet}': the seats have no training wallet (seats.wallet is 0)"
                )

    def _placeholder_fields(
        self, path: Path, body: str, name: str
    ) -> tuple[str, tuple[str, ...]] | None:
        """What a placeholder's name stands for and its fields; None after a problem."""
        doc = self.doc

        def fields(kinds: set[str]) -> tuple[str, ...]:
            """The placeholder fields of these kinds, in order."""
            out: list[str] = []
            for kind in ("actor", "site", "flow"):
                if kind in kinds:
                    out += [f for f in ANSWER_FIELDS[kind] if f not in JUDGED_LIVE and f not in out]
            return tuple(out)

        if name == "seat":
            return "the seat", SEAT_FIELDS
        if name in self.variables:
            return f"the seat variable '{name}'", fields(self.variables[name].kinds)
        kinds = self._kinds_of(
            path,
            name,
            lambda count: (
                f"'{{{body}}}': '{name}' is a group of {count}; name one member such "
                f"as '{name}-1' or a seat variable"
            ),
        )
        if kinds is None:
            return None
        if kinds:
            what = " or ".join(sorted(kinds))
            return f"{_a(what)} {what}", fields(kinds)
        ghosts = doc.ghosts["actor"] | doc.ghosts["site"] | doc.ghosts["flow"]
        if self.vague or name in ghosts:
            return None
        choices = ["seat", *self.variables, *self.actors, *self.sites, *self.flows]
        doc.report(
            path,
            f"'{{{body}}}': no seat variable, actor, site or flow '{name}'"
            f"{suggest(name, choices)} (a placeholder is {{variable.field}}, {{seat.code}}, "
            "{seat.wallet} or {id.field} with the id of an actor, site or flow)",
        )
        return None

    # --- seats -----------------------------------------------------------------------

    def _seats(self) -> None:
        """seats: group or cases, and the variables they define."""
        doc = self.doc
        if ("seats",) in doc.bad:
            self.vague, self.wallet = True, None
            return
        seats = doc.get("seats", kind=dict)
        if seats is None:
            return
        if "wallet" in seats:
            self.wallet = doc.get("seats", "wallet", kind=(int, float))
        if "group" in seats and "cases" in seats:
            doc.report(
                ("seats", "cases"),
                "give either group (each seat investigates one member) or cases, not both",
            )
        if "group" in seats:
            self._seat_group(doc.get("seats", "group", kind=str))
        if "cases" in seats:
            self._seat_cases(doc.get("seats", "cases", kind=list))

    def _seat_group(self, group: str | None) -> None:
        """seats.group: a group actor, bound to the variable `subject`."""
        doc = self.doc
        path: Path = ("seats", "group")
        subject = _Variable({"actor"}, None)
        self.variables[SUBJECT] = subject
        if group is None:
            return
        if group not in self.actors:
            _unknown(doc, path, "actor", group, self.actors)
        elif self.actors[group]["count"] < 2:
            doc.report(
                path,
                f"'{group}' is not a group (count: {self.actors[group]['count']}); seats.group "
                "needs an actor with count: 2 or more, one member per seat",
            )
        else:
            subject.values = [group]

    def _seat_cases(self, cases: list | None) -> None:
        """seats.cases: mappings with the same variables, each naming an actor, site or flow."""
        doc = self.doc
        if cases is None:
            self.vague = True
            return
        first: tuple[int, set[str]] | None = None
        kinds: dict[str, tuple[set[str], int]] = {}
        values: dict[str, list[str] | None] = {}
        for j, case in enumerate(cases):
            path: Path = ("seats", "cases", j)
            if not isinstance(case, dict) or doc.get(*path) is None:
                self.vague = True
                continue
            keys = set(case)
            if first is None:
                first = (j, keys)
            elif keys != first[1]:
                missing, extra = sorted(first[1] - keys), sorted(keys - first[1])
                parts = []
                if missing:
                    parts.append(f"lacks {', '.join(missing)}")
                if extra:
                    parts.append(f"adds {', '.join(extra)}")
                doc.report(
                    path,
                    f"every case needs the same variables, but this one {' and '.join(parts)} "
                    f"(cases[{first[0]}] has: {', '.join(sorted(first[1]))})",
                )
            for key in case:
                here = path + (key,)
                if not _VARIABLE.fullmatch(key) or key == "seat":
                    why = (
                        "'seat' is taken by {seat.code} and {seat.wallet}"
                        if key == "seat"
                        else "use lowercase letters, digits and _, starting with a letter"
                    )
                    doc.report(here, f"'{key}' is not a valid variable name: {why}")
                    continue
                if key in self.actors or key in self.sites:
                    what = "an actor" if key in self.actors else "a site"
                    doc.report(
                        here,
                        f"the variable '{key}' has the name of {what}, so {{{key}.field}} would "
                        "be ambiguous; pick another name",
                    )
                value = doc.get(*here, kind=str)
                found = self._case_value(here, value)
                values.setdefault(key, [])
                if found is None:
                    values[key] = None
                    kinds.setdefault(key, ({"actor", "site", "flow"}, j))
                    continue
                seen = values[key]
                if seen is not None:
                    seen.append(value)
                if key not in kinds:
                    kinds[key] = (found, j)
                    continue
                common = kinds[key][0] & found
                if not common:
                    had = " or ".join(sorted(kinds[key][0]))
                    now = " or ".join(sorted(found))
                    doc.report(
                        here,
                        f"'{value}' is {_a(now)} {now}, but {key} is {_a(had)} {had} in "
                        f"cases[{kinds[key][1]}]; a variable stands for the same kind in every case",
                    )
                    values[key] = None
                else:
                    kinds[key] = (common, kinds[key][1])
        for key, (found, _) in kinds.items():
            self.variables[key] = _Variable(found, values.get(key))

    def _kinds_of(self, path: Path, name: str, group_problem) -> set[str] | None:
        """The kinds (actor, site, flow) an id names; None after reporting a whole group.

        group_problem(count) words the problem of naming a group where one actor is meant.
        """
        kinds = set()
        if name in self.actors:
            count = self.actors[name]["count"]
            if count > 1:
                self.doc.report(path, group_problem(count))
                return None
            kinds.add("actor")
        elif self._group_of(name):
            kinds.add("actor")
        if name in self.sites:
            kinds.add("site")
        if name in self.flows:
            kinds.add("flow")
        return kinds

    def _case_value(self, path: Path, value: str | None) -> set[str] | None:
        """The kinds (actor, site, flow) a case value can be; None after a problem."""
        if value is None:
            return None
        found = self._kinds_of(
            path,
            value,
            lambda count: (
                f"'{value}' is a group of {count}; a case names one actor (such as "
                f"'{value}-1') or one site"
            ),
        )
        if found is None:
            return None
        if found:
            return found
        ghosts = self.doc.ghosts["actor"] | self.doc.ghosts["site"] | self.doc.ghosts["flow"]
        if value not in ghosts:
            names = sorted(set(self.actors) | set(self.sites) | set(self.flows))
            listing = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            self.doc.report(
                path,
                f"no actor, site or flow '{value}'{suggest(value, names)} "
                f"(ids: {listing or 'none'})",
            )
        return None

    # --- objectives ------------------------------------------------------------------

    def _objectives(self) -> None:
        """Objectives: answers that name one thing and one of its fields, compared sensibly."""
        doc = self.doc
        self.objectives = _ids(doc, "objectives", "objective")
        for i, item in doc.items("objectives"):
            p: Path = ("objectives", i)
            self._placeholders(p + ("question",), doc.get(*p, "question", kind=(str, dict)))
            for j, _hint in enumerate(doc.get(*p, "hints", kind=list) or ()):
                self._placeholders(
                    p + ("hints", j, "text"), doc.get(*p, "hints", j, "text", kind=(str, dict))
                )
            of, answer_field = self._answer(p)
            compare = doc.get(*p, "compare", kind=str)
            if "compare" in item and compare is None:
                continue  # rejected by the schema
            if compare is None and of and answer_field:
                compare = default_compare(of, answer_field)
            if "tolerance" in item and compare is not None and compare != "number":
                doc.report(
                    p + ("tolerance",),
                    f"tolerance only applies to compare: number (this objective compares {compare})",
                )
            if "accept" in item and compare is not None and compare not in ACCEPT_COMPARES:
                doc.report(
                    p + ("accept",),
                    "accept lists other answers for compare: exact or nocase "
                    f"(this objective compares {compare})",
                )
            if not (of and answer_field and "compare" in item):
                continue
            here = p + ("compare",)
            if compare in JUDGED_LIVE and answer_field != compare:
                doc.report(
                    here,
                    f"compare: {compare} checks {JUDGED_LIVE[compare]}; it needs answer "
                    f"field: {compare}",
                )
            elif answer_field in JUDGED_LIVE and compare != answer_field:
                doc.report(
                    here,
                    f"field {answer_field} is checked with compare: {answer_field} (or leave "
                    "compare out)",
                )
            elif compare == "number" and answer_field not in NUMBER_FIELDS[of]:
                numbers = ", ".join(NUMBER_FIELDS[of]) or "none"
                doc.report(
                    here,
                    f"compare: number needs a number, but {of} field '{answer_field}' is text "
                    f"(number fields of a {of}: {numbers})",
                )
            elif answer_field in LIST_FIELDS[of] and compare != "set":
                doc.report(
                    here,
                    f"{of} field '{answer_field}' is a list of values: compare it with "
                    "compare: set (or leave compare out)",
                )

    def _answer(self, p: Path) -> tuple[str | None, str | None]:
        """Check an objective's answer; return its kind and field when they are valid."""
        doc = self.doc
        answer = doc.get(*p, "answer", kind=dict)
        if answer is None:
            return None, None
        here = p + ("answer",)
        given = [k for k in ("actor", "site", "flow") if k in answer]
        if not given:
            doc.report(
                here, "name where the answer comes from: one of actor:, site: or flow:, and field:"
            )
            return None, None
        if len(given) > 1:
            doc.report(
                here + (given[1],),
                f"give one of actor, site and flow, not {' and '.join(given)}",
            )
            return None, None
        of = given[0]
        ref = doc.get(*here, of, kind=str)
        targets = self._resolve(here + (of,), ref, of) if ref is not None else None
        answer_field = doc.get(*here, "field", kind=str)
        if answer_field is not None and answer_field not in ANSWER_FIELDS[of]:
            fields = ANSWER_FIELDS[of]
            doc.report(
                here + ("field",),
                f"'{answer_field}' is not a field of {_a(of)} {of}"
                f"{suggest(answer_field, fields)} ({of} fields: {', '.join(fields)})",
            )
            answer_field = None
        if answer_field in ("freeze", "seize") and not self._uses_tron():
            doc.report(
                here + ("field",),
                f"a {answer_field} is asked of the USDT issuer, which a world has only when "
                "its story uses Tron (a flow with chain: tron, or an actor with tron:)",
            )
        if answer_field == "seize" and self.wallet == 0:
            doc.report(
                here + ("field",),
                "a seize pays the seat's Tron training wallet, but seats.wallet is 0 (no wallets)",
            )
        if answer_field == "sweep" and self.wallet == 0:
            doc.report(
                here + ("field",),
                "a sweep pays the seat's training wallet, but seats.wallet is 0 (no wallets)",
            )
        if "member" in answer:
            if of != "flow":
                doc.report(
                    here + ("member",),
                    "member only applies to flow answers (it narrows the flow to one actor's "
                    "payments)",
                )
            elif (member := doc.get(*here, "member", kind=str)) is not None:
                members = self._resolve(here + ("member",), member, "actor")
                for flow_id in targets or []:
                    if members and self._member_of_flow(
                        here + ("member",), member, members, flow_id
                    ):
                        break
        return of, answer_field

    def _member_of_flow(self, path: Path, member: str, members: list[str], flow_id: str) -> bool:
        """Whether a flow answer's member does not pay or receive in that flow, reported."""
        flow = self.flows[flow_id]
        parties = {flow["from"], flow["to"]} - {None}
        if len(parties) < (1 if flow["from"] == flow["to"] else 2):
            return False  # a party was rejected
        for actor in members:
            if actor in parties or self._group_of(actor) in parties:
                continue
            shown = member if actor == member else f"{member} ('{actor}')"
            doc_from, doc_to = flow["from"], flow["to"]
            self.doc.report(
                path,
                f"{shown} neither pays nor receives in flow '{flow_id}' "
                f"(from: {doc_from}, to: {doc_to})",
            )
            return True
        return False

    # --- injects and artefacts -----------------------------------------------------------

    def _injects(self) -> None:
        """Injects: one trigger, an existing milestone, and what the action needs."""
        doc = self.doc
        _ids(doc, "injects", "inject")
        for i, item in doc.items("injects"):
            p: Path = ("injects", i)
            manual = item.get("manual") if isinstance(item.get("manual"), bool) else None
            if "at" in item and "solved" in item:
                doc.report(
                    p + ("solved",),
                    "give either at (minutes after the start) or solved (a milestone), not both",
                )
            elif manual is True and ("at" in item or "solved" in item):
                trigger = "at" if "at" in item else "solved"
                doc.report(
                    p + ("manual",),
                    f"manual: true is for injects only the instructor fires; remove it or "
                    f"{trigger}:",
                )
            elif manual is False and "at" not in item and "solved" not in item:
                doc.report(
                    p + ("manual",),
                    "this inject would never fire: give at:, solved: or manual: true",
                )
            if "when" in item:
                other = next((k for k in ("at", "solved") if k in item), None)
                if other or manual is True:
                    doc.report(
                        p + ("when",),
                        f"give one trigger: when: {item['when']} or {other or 'manual'}:, not both",
                    )
                elif item["when"] == "disclosed" and "actor" not in item:
                    doc.report(
                        p + ("when",),
                        "when: disclosed fires when a seat asks the USDT issuer about an "
                        "address of the inject's actor: give actor",
                    )
                elif item["when"] == "disclosed" and not self._uses_tron():
                    doc.report(
                        p + ("when",),
                        "when: disclosed watches requests to the USDT issuer, which a world "
                        "has only when its story uses Tron (a flow with chain: tron, or an "
                        "actor with tron:)",
                    )
            solved = doc.get(*p, "solved", kind=str)
            if solved is not None and solved not in self.objectives:
                _unknown(doc, p + ("solved",), "objective", solved, self.objectives)
            action = doc.get(*p, "action", kind=str)
            if action is None:
                continue
            uses = self._needs(p, item, action, INJECT_NEEDS[action], INJECT_USES[action], "inject")
            for key in ("text", "title"):
                if key in uses:
                    self._placeholders(p + (key,), doc.get(*p, key, kind=(str, dict)))
            sites = self._ref(p, "site", "site", uses)
            payer = self._ref(p, "actor", "actor", uses)
            payee = self._ref(p, "to", "actor", uses)
            if action == "forum_post" and sites:
                for site in sites:
                    kind = self.sites[site]["kind"]
                    if kind not in (None, "forum"):
                        doc.report(
                            p + ("site",),
                            f"a forum_post goes on a forum, but '{site}' is a {kind}",
                        )
                        break
            if action == "move_usdt" and not self._uses_tron():
                doc.report(
                    p + ("action",),
                    "move_usdt moves the actor's USDT on Tron, but the story does not use "
                    "Tron (a flow with chain: tron, or an actor with tron:)",
                )
            if action in ("move_funds", "move_usdt") and payer:
                roles = [self.actors.get(a, {}).get("role") for a in payer]
                service = next((r for r in roles if r in UNLIMITED_ROLES), None)
                if service:
                    doc.report(
                        p + ("actor",),
                        f"{action} moves a suspect's coins, but this actor is "
                        f"{_a(service)} {service}",
                    )
                elif payee and payer == payee:
                    doc.report(p + ("to",), f"the funds would move from '{payer[0]}' to itself")
                elif payee and action == "move_funds":
                    self._move_to_exchange(p, item, payer, payee)

    def _move_to_exchange(self, p: Path, item: dict, payers: list[str], payees: list[str]) -> None:
        """A move_funds to an exchange needs the payer's account there (for every seat)."""
        if str(item.get("actor", "")).startswith("$") and str(item.get("to")).startswith("$"):
            pairs = list(zip(payers, payees, strict=False))  # both vary with the case
        else:
            pairs = [(a, b) for a in payers for b in payees]
        for payer, exchange in pairs:
            if self.actors.get(exchange, {}).get("role") != "exchange":
                continue
            group = payer if payer in self.actors else self._group_of(payer)
            count = self.actors.get(group or "", {}).get("count", 1)
            whole = payer == group and count > 1  # $subject: every member of the group
            members = [f"{group}-{k}" for k in range(1, count + 1)] if whole else [payer]
            for member in members:
                banks = self._accounts(member, group)
                if exchange in banks:
                    continue
                where = (
                    f"it has accounts at: {', '.join(sorted(banks))}"
                    if banks
                    else ("it has no exchange account the scenario fixes")
                )
                self.doc.report(
                    p + ("to",),
                    f"'{exchange}' is an exchange where '{member}' has no account ({where}); "
                    "the move would pay a stranger's deposit address, and the exchange's "
                    f"records would name an innocent customer. Move it to one of those, or "
                    f"give '{group or member}' exchange: {exchange}",
                )
                return

    def _accounts(self, actor: str, group: str | None) -> set[str]:
        """Exchanges where an actor surely has an account: where it banks, cashes out, peels to."""
        doc = self.doc
        found = set()
        for who in (actor, group):
            info = self.actors.get(who) if who is not None else None
            if info is not None:
                found.add(doc.get("actors", info["index"], "exchange", kind=str))
        for i, _ in doc.items("flows"):
            kind = doc.get("flows", i, "kind", kind=str)
            if kind in ("cash_out", "peel_chain") and doc.get("flows", i, "from") in (actor, group):
                found.add(doc.get("flows", i, "to", kind=str))
        return {e for e in found - {None} if self.actors.get(e, {}).get("role") == "exchange"}

    def _artefacts(self) -> None:
        """Artefacts: each kind with the actor or site it shows."""
        doc = self.doc
        _ids(doc, "artefacts", "artefact")
        for i, item in doc.items("artefacts"):
            p: Path = ("artefacts", i)
            self._placeholders(p + ("title",), doc.get(*p, "title", kind=(str, dict)))
            kind = doc.get(*p, "kind", kind=str)
            if kind is None:
                continue
            uses = self._needs(p, item, kind, ARTEFACT_NEEDS[kind], ARTEFACT_USES[kind], "artefact")
            if "text" in uses:
                self._placeholders(p + ("text",), doc.get(*p, "text", kind=(str, dict)))
            self._ref(p, "site", "site", uses)
            self._ref(p, "actor", "actor", uses)

    def _needs(
        self,
        p: Path,
        item: dict,
        what: str,
        needs: tuple[str, ...],
        uses: tuple[str, ...],
        noun: str,
    ) -> tuple[str, ...]:
        """Report keys an action or kind needs but lacks, or has but does not use."""
        for key in needs:
            if key not in item:
                self.doc.report(p + (key,), f"{_a(what)} {what} {noun} needs {_WHAT[key]}")
        optional = ("text", "title", "site", "actor", "to", "amount")
        for key in optional if noun == "inject" else ("text", "site", "actor"):
            if key in item and key not in uses:
                self.doc.report(
                    p + (key,),
                    f"{key} does not apply to a {what} {noun} (it uses: {', '.join(uses)})",
                )
        return uses

    def _ref(self, p: Path, key: str, kind: str, uses: tuple[str, ...]) -> list[str] | None:
        """Resolve the reference at p.key when the action or kind uses it."""
        if key not in uses:
            return None
        ref = self.doc.get(*p, key, kind=str)
        return self._resolve(p + (key,), ref, kind) if ref is not None else None
