"""The course of a world, read once from world.db: seats, objectives, the key, hints, injects.

These tables are written by `sandbox build` and never change while the sandbox runs, so
everything but the artefacts' content is kept in memory. A world built before format v2
(or from a scenario without objectives) simply has an empty course.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InjectError, WorldError
from ..scenario.i18n import localized
from ..world import store
from ..world.requesters import Requester, read_requesters
from ..world.store import open_world

__all__ = ["Artefact", "Course", "Hint", "Inject", "Objective", "Seat", "load_course"]


@dataclass(frozen=True)
class Hint:
    """One hint of an objective; its text differs per seat (Course.hint_texts)."""

    position: int
    cost: int


@dataclass(frozen=True)
class Objective:
    """What every seat must find; the question and the answer differ per seat."""

    id: str
    position: int
    points: int
    compare: str
    tolerance: float
    tolerance_relative: bool
    attempts: int
    hints: tuple[Hint, ...] = ()
    accept: tuple[str, ...] = ()  # answers right besides the seat's key
    spellings: tuple[tuple[str, ...], ...] = ()  # groups of spellings of one answer


@dataclass(frozen=True)
class Seat:
    """One trainee's place in the class: a code to join with, a case, a wallet."""

    n: int
    code: str
    bindings: dict
    wallet_address: str | None
    wallet_wif: str | None
    tron_address: str | None = None  # the Tron training wallet (a world with Tron)
    tron_key: str | None = None


@dataclass(frozen=True)
class Inject:
    """One row of the world's injects table; configs maps seat number to its config."""

    id: str
    position: int
    trigger: str  # at | solved | manual | disclosed
    at_minutes: float | None
    objective_id: str | None
    action: str
    configs: dict[int | None, dict]  # None: one config for every seat (no seats)

    @property
    def shared(self) -> dict | None:
        """The config when every seat has the same one, else None."""
        values = list(self.configs.values())
        if not values:
            return {}
        first = values[0]
        return first if all(v == first for v in values[1:]) else None

    def config(self, seat: int | None) -> dict:
        """The config to fire with for a seat (None: the class; needs a shared config)."""
        if seat is not None:
            if seat in self.configs:
                return self.configs[seat]
            if None in self.configs or not self.configs:
                return self.configs.get(None, {})
            raise InjectError(f"inject {self.id!r}: no seat {seat}")
        shared = self.shared
        if shared is None:
            raise InjectError(f"inject {self.id!r}: its config differs by seat: fire it per seat")
        return shared


def _configs(raw: str | None) -> dict[int | None, dict]:
    """Parse a config column: {"<seat n>": {...}} per seat, or one flat config for all."""
    data = json.loads(raw or "{}")
    if not isinstance(data, dict):
        raise WorldError(f"inject config is not a JSON object: {raw!r}")
    if data and all(isinstance(k, str) and k.isdigit() for k in data):
        return {int(k): v for k, v in data.items()}
    return {None: data} if data else {}


@dataclass(frozen=True)
class Artefact:
    """A file handed to one seat (its content is read on demand)."""

    seat: int
    id: str
    position: int
    kind: str
    title: str
    filename: str
    mime: str


@dataclass
class Course:
    """Everything the classroom needs from the world."""

    world: Path
    title: str = ""
    brief_title: str = ""
    seats: dict[int, Seat] = field(default_factory=dict)
    objectives: list[Objective] = field(default_factory=list)
    questions: dict[tuple[int, str], str] = field(default_factory=dict)
    hint_texts: dict[tuple[int, str, int], str] = field(default_factory=dict)
    key: dict[tuple[int, str], object] = field(default_factory=dict)
    injects: list[Inject] = field(default_factory=list)
    artefacts: dict[int, list[Artefact]] = field(default_factory=dict)
    requesters: dict[int, Requester] = field(default_factory=dict)  # by seat: portal logins
    language: str = "en"  # the default language of the scenario's texts
    languages: tuple[str, ...] = ("en",)  # the languages the scenario is written in
    # texts given in several languages, by (seat, item) (seat 0: every seat's), see
    # world.db's course_texts
    texts: dict[tuple[int, str], dict[str, str]] = field(default_factory=dict)
    _briefs: dict[tuple[int, str], str] = field(default_factory=dict, repr=False)

    def text(self, seat: int, item: str, default: str, language: str | None) -> str:
        """A text of the course in a language: its translation, else the default text."""
        versions = self.texts.get((seat, item))
        if not versions:
            return default
        return localized(versions, language, self.language) or default

    def question(self, seat: int, objective_id: str, language: str | None = None) -> str:
        """A seat's question in a language (else the default language)."""
        default = self.questions.get((seat, objective_id), "")
        return self.text(seat, f"question:{objective_id}", default, language)

    def hint_text(self, seat: int, objective_id: str, position: int, language: str | None) -> str:
        """A seat's hint in a language (else the default language)."""
        default = self.hint_texts.get((seat, objective_id, position), "")
        return self.text(seat, f"hint:{objective_id}:{position}", default, language)

    def read_in(self, language: str | None) -> Course:
        """The course with its title in a language (None: as it is), for the pages."""
        if language is None or (0, "title") not in self.texts:
            return self
        return replace(self, title=self.title_in(language))

    def title_in(self, language: str | None) -> str:
        """The scenario's title in a language."""
        return self.text(0, "title", self.title, language)

    def artefact_title(self, artefact: Artefact, language: str | None) -> str:
        """An artefact's title in a language."""
        return self.text(artefact.seat, f"artefact-title:{artefact.id}", artefact.title, language)

    def brief_in(self, seat: int, artefact_id: str, language: str | None) -> str:
        """A seat's brief (or note) as text, in a language when it is given in several."""
        versions = self.texts.get((seat, f"artefact:{artefact_id}"))
        if versions:
            return localized(versions, language, self.language)
        return self.brief_text(seat, artefact_id)

    @property
    def by_id(self) -> dict[str, Objective]:
        """Objectives by id."""
        return {o.id: o for o in self.objectives}

    @property
    def max_score(self) -> int:
        """The points of every objective together."""
        return sum(o.points for o in self.objectives)

    def seat_by_code(self, code: str) -> Seat | None:
        """The seat a typed code names, forgiving case, spaces and dashes."""
        wanted = _canonical(code)
        if not wanted:
            return None
        for seat in self.seats.values():
            if _canonical(seat.code) == wanted:
                return seat
        return None

    def inject(self, inject_id: str) -> Inject | None:
        """An inject by id."""
        return next((i for i in self.injects if i.id == inject_id), None)

    def artefact(self, seat: int, artefact_id: str) -> Artefact | None:
        """One of a seat's artefacts by id."""
        return next((a for a in self.artefacts.get(seat, []) if a.id == artefact_id), None)

    def brief_text(self, seat: int, artefact_id: str) -> str:
        """A seat's brief as text, read once (the world never changes while served)."""
        cached = self._briefs.get((seat, artefact_id))
        if cached is None:
            raw = self.artefact_content(seat, artefact_id)
            cached = self._briefs[(seat, artefact_id)] = raw.decode("utf-8", "replace")
        return cached

    def artefact_content(self, seat: int, artefact_id: str) -> bytes:
        """The bytes of a seat's artefact."""
        conn = open_world(self.world)
        try:
            content = store.artefact_content(conn, seat, artefact_id)
        finally:
            conn.close()
        if content is None:
            raise KeyError(artefact_id)
        return content


def _canonical(code: str) -> str:
    """A seat code without separators, upper case."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def load_course(world: str | Path) -> Course:
    """Read the course tables of a world."""
    world = Path(world).resolve()
    conn = open_world(world)
    try:
        meta = store.meta(conn)
        course = Course(world, meta.get("title", ""), meta.get("brief_title", "") or "Case brief")
        # Worlds built before scenarios had languages are in English.
        course.language = meta.get("language") or "en"
        course.languages = tuple((meta.get("languages") or course.language).split())
        for r in store.course_texts(conn):
            course.texts.setdefault((r["seat"], r["item"]), {})[r["language"]] = r["text"]
        for r in store.course_seats(conn):
            course.seats[r["n"]] = Seat(
                r["n"],
                r["code"],
                json.loads(r["bindings"] or "{}"),
                r["wallet_address"],
                r["wallet_wif"],
                dict(r).get("tron_address"),  # absent in a world built before Tron wallets
                dict(r).get("tron_key"),
            )
        hints: dict[str, dict[int, Hint]] = {}
        for r in store.course_hints(conn):
            course.hint_texts[(r["seat"], r["objective_id"], r["position"])] = r["text"]
            hints.setdefault(r["objective_id"], {})[r["position"]] = Hint(r["position"], r["cost"])
        for r in store.course_objectives(conn):
            accept = json.loads(dict(r).get("accept") or "[]")  # none in older worlds
            course.objectives.append(
                Objective(
                    r["id"],
                    r["position"],
                    r["points"],
                    r["compare"],
                    float(r["tolerance"] or 0),
                    bool(r["tolerance_relative"]),
                    int(r["attempts"]),
                    tuple(hints.get(r["id"], {}).values()),
                    tuple(a for a in accept if isinstance(a, str)),
                    tuple(tuple(a) for a in accept if isinstance(a, list)),
                )
            )
        for r in store.seat_objectives(conn):
            course.questions[(r["seat"], r["objective_id"])] = r["question"]
            course.key[(r["seat"], r["objective_id"])] = json.loads(r["answer"])
        for r in store.course_injects(conn):
            course.injects.append(
                Inject(
                    r["id"],
                    r["position"],
                    r["trigger"],
                    r["at_minutes"],
                    r["objective_id"],
                    r["action"],
                    _configs(r["config"]),
                )
            )
        for r in store.artefact_index(conn):
            course.artefacts.setdefault(r["seat"], []).append(
                Artefact(
                    r["seat"], r["id"], r["position"], r["kind"], r["title"], r["filename"],
                    r["mime"],
                )
            )  # fmt: skip
        course.requesters = {r.seat: r for r in read_requesters(conn) if r.seat is not None}
    finally:
        conn.close()
    return course
