"""`sandbox check`: prove that a scenario can be solved, the way a trainee would solve it.

The check builds the scenario's world, starts the whole sandbox on free loopback ports,
and runs the scenario's reference solution for one or more seats. The solution is a
Python file whose `SOLVERS` maps objective ids to functions `solve(ctx) -> answer`; it
may use only the trainee's toolkit (`investigator_tools`) and what the seat is handed
(its brief, artefacts and training wallet), never the world. Each answer is compared
with the key under the objective's comparison. An objective without a solver, whose
solver fails, or whose answer differs from the key makes the check fail, naming it.

Before solving, the check reads what each seat is shown without looking for anything:
its brief, its text artefacts, its questions, the landing pages of the sites of its
case and every channel page of the social sites (fetched through the gateway, like a
trainee). A seat's answer showing there
(sandbox/leaks.py says what counts) fails the check too, naming the objective, the seat
and the place, unless the objective says `given: true`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from bs4 import BeautifulSoup

from .classroom.compare import answer_matches as judge
from .classroom.course import Course, load_course
from .errors import CheckError
from .leaks import shown
from .scenario.model import Scenario
from .serve import Sandbox
from .world.build import build_world
from .world.store import exchange_names, open_world, site_rows

Report = Callable[["Outcome"], None]
PAGE_TIMEOUT = 60  # seconds for one landing page through the gateway


@dataclass
class SeatContext:
    """What a reference solution is given: the network, a case file and the seat's papers."""

    case: object  # investigator_tools.Case
    proxy: str  # socks5h://host:port of the gateway
    explorer: object  # investigator_tools.Esplora on the explorer's direct URL
    seat: int
    seat_code: str
    wallet_address: str | None
    wallet_wif: str | None
    brief: str
    artefacts: dict[str, bytes]
    questions: dict[str, str]
    memo: dict = field(default_factory=dict)  # shared between one seat's solvers
    # The seat's Tron training wallet (a world whose story uses Tron), as on its brief:
    # where a reissue at the USDT issuer pays (`seize` objectives).
    tron_address: str | None = None
    tron_key: str | None = None


@dataclass
class Outcome:
    """One objective of one seat: what the solution answered and whether it matches the key."""

    seat: int
    objective: str
    ok: bool
    answer: object = None
    expected: object = None
    reason: str = ""
    seconds: float = 0.0
    leak: bool = False  # not a solver's outcome: the answer shows on the seat's screens
    # not a solver's outcome either: whether the seat's page shows the objective's texts
    # in this language (sandbox check --language)
    language: str | None = None

    def line(self) -> str:
        """A one-line summary for the terminal."""
        if self.leak:
            return f"LEAK seat {self.seat} {self.objective}: {self.reason}"
        if self.language is not None:
            mark = "ok  " if self.ok else "FAIL"
            return f"{mark} seat {self.seat} {self.objective} [{self.language}]: {self.reason}"
        mark = "ok  " if self.ok else "FAIL"
        detail = f"{self.answer!r}" if self.ok else self.reason
        return f"{mark} seat {self.seat} {self.objective}: {detail} ({self.seconds:.1f} s)"


def load_solution(path: str | Path) -> dict[str, Callable]:
    """The SOLVERS of a reference solution file; CheckError naming the file if it has none."""
    path = Path(path)
    if not path.is_file():
        raise CheckError(f"{path}: no such reference solution")
    spec = importlib.util.spec_from_file_location(f"solution_{path.stem.replace('-', '_')}", path)
    if spec is None or spec.loader is None:
        raise CheckError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # a broken solution file is the instructor's to fix: say where
        raise CheckError(f"{path}: cannot load the reference solution: {e!r}") from e
    solvers = getattr(module, "SOLVERS", None)
    if not isinstance(solvers, dict):
        raise CheckError(f"{path}: defines no SOLVERS = {{objective id: function}}")
    return solvers


def check_scenario(
    scenario: Scenario,
    seats: list[int] | None = None,
    workdir: str | Path | None = None,
    report: Report | None = None,
    progress=None,
    language: str | None = None,
) -> list[Outcome]:
    """Build, serve and solve a scenario for some seats (default: the first); the outcomes.

    language: the seats join the classroom in it, and their case pages must show the
    objectives' texts in it (the scenario must be written in it).
    """
    if not scenario.objectives:
        raise CheckError(f"{scenario.source}: the scenario has no objectives to check")
    if not scenario.solution:
        raise CheckError(
            f"{scenario.source}: no reference solution (set `solution:` or add "
            f"scenarios/solutions/{scenario.name}.py)"
        )
    if language is not None and language not in scenario.languages:
        raise CheckError(
            f"{scenario.source}: the scenario is not written in {language!r} "
            f"(meta.languages: {', '.join(scenario.languages)})"
        )
    solvers = load_solution(scenario.solution)
    with tempfile.TemporaryDirectory(prefix="sandbox-check-", dir=workdir) as tmp:
        world = Path(tmp) / f"{scenario.name}.db"
        build_world(scenario, world, progress)
        return check_world(world, solvers, seats, Path(tmp), report, scenario, language)


def check_world(
    world: Path,
    solvers: dict[str, Callable],
    seats: list[int] | None,
    workdir: Path,
    report: Report | None = None,
    scenario: Scenario | None = None,
    language: str | None = None,
) -> list[Outcome]:
    """Serve a built world, look for answers shown to each seat, run the solvers for it.

    The leak check needs the scenario (which objectives are `given`, where answers come
    from); without it only the solvers run. With a language each seat first joins the
    classroom portal in it and its case page is read for the texts in that language.
    """
    from investigator_tools import Case, Esplora

    course = load_course(world)
    wanted = seats or [min(course.seats)]
    unknown = [n for n in wanted if n not in course.seats]
    if unknown:
        raise CheckError(f"{world}: no seat {unknown[0]} (seats 1..{len(course.seats)})")
    outcomes: list[Outcome] = []
    state = workdir / "state"
    # A block right after each broadcast: solvers need not wait out the classroom's pace.
    with Sandbox(
        world, socks_port=0, http_port=0, explorer_port=0, state=state, live_block_seconds=0
    ) as sandbox:
        assert sandbox.gateway is not None  # entering the with started it
        socks = sandbox.gateway.socks_address
        assert socks is not None  # listening since the start
        host, port = socks
        explorer = Esplora(sandbox.describe()["explorer"])
        for n in wanted:
            if language is not None:
                classroom = sandbox.describe()["classroom"]
                for outcome in _in_language(course, n, classroom, language):
                    outcomes.append(outcome)
                    if report:
                        report(outcome)
            with Case(workdir / f"case-seat{n}.db", operator="sandbox check") as case:
                ctx = _context(course, n, case, f"socks5h://{host}:{port}", explorer)
                if scenario is not None:
                    for outcome in _leaks(course, scenario, ctx, world):
                        outcomes.append(outcome)
                        if report:
                            report(outcome)
                for objective in course.objectives:
                    outcome = _solve(course, ctx, objective, solvers, state / "chain.db")
                    outcomes.append(outcome)
                    if report:
                        report(outcome)
    return outcomes


def _in_language(course: Course, n: int, portal: str, language: str) -> list[Outcome]:
    """Join seat n on the classroom portal in a language; an outcome per objective (and
    the brief) saying whether the case page shows its text in that language."""
    web = requests.Session()
    try:
        form = BeautifulSoup(web.get(f"{portal}join", timeout=PAGE_TIMEOUT).text, "html.parser")
        token = form.find("input", attrs={"name": "csrf"})
        joined = web.post(
            f"{portal}join",
            data={
                "csrf": token.get("value") if token else "",
                "code": course.seats[n].code,
                "name": f"sandbox check ({language})",
                "pin": f"check-{n}-{language}",
                "language": language,
            },
            timeout=PAGE_TIMEOUT,
        )
        if joined.status_code != 200 or "/join" in joined.url:
            raise CheckError(f"seat {n} could not join the classroom: {joined.status_code}")
        page = " ".join(BeautifulSoup(joined.text, "html.parser").get_text(" ").split())
    finally:
        web.close()
    expected = [(o.id, course.question(n, o.id, language), "question") for o in course.objectives]
    brief = next((a for a in course.artefacts.get(n, []) if a.kind == "brief"), None)
    if brief is not None:
        expected.append((brief.id, course.artefact_title(brief, language), "title"))
    out = []
    for what, text, noun in expected:
        wanted = " ".join(text.split())
        shown = wanted in page
        reason = (
            f"the case page shows its {noun}"
            if shown
            else (f"the case page does not show its {noun} {wanted[:80]!r}")
        )
        out.append(Outcome(n, what, shown, answer=wanted, reason=reason, language=language))
    return out


def _context(course: Course, n: int, case, proxy: str, explorer) -> SeatContext:
    """The papers of seat n, as the classroom portal hands them to its trainee."""
    seat = course.seats[n]
    artefacts = {a.id: course.artefact_content(n, a.id) for a in course.artefacts.get(n, [])}
    brief = next(
        (
            artefacts[a.id].decode("utf-8", "replace")
            for a in course.artefacts.get(n, [])
            if a.kind == "brief"
        ),
        "",
    )
    return SeatContext(
        case=case,
        proxy=proxy,
        explorer=explorer,
        seat=n,
        seat_code=seat.code,
        wallet_address=seat.wallet_address,
        wallet_wif=seat.wallet_wif,
        brief=brief,
        artefacts=artefacts,
        questions={o.id: course.questions[(n, o.id)] for o in course.objectives},
        tron_address=seat.tron_address,
        tron_key=seat.tron_key,
    )


def _leaks(course: Course, scenario: Scenario, ctx: SeatContext, world: Path) -> list[Outcome]:
    """An outcome for every place where one of the seat's answers shows (see leaks.py)."""
    conn = open_world(world)
    try:
        rows = site_rows(conn)
        sites = {r["id"]: {k: r[k] for k in ("id", "kind", "address")} for r in rows}
        exchanges = tuple(exchange_names(conn))
    finally:
        conn.close()
    bindings = course.seats[ctx.seat].bindings
    places = _papers(course, ctx)
    for site_id in _case_sites(scenario, bindings, sites):
        url = f"http://{sites[site_id]['address']}/"
        places.append((f"on the landing page of {site_id} ({url})", _page(ctx, url), site_id))
    for site_id, channel_id, url in _channel_pages(rows):
        where = f"on the channel '{channel_id}' of {site_id} ({url})"
        places.append((where, _page(ctx, url), site_id))
    out = []
    for objective in scenario.objectives:
        if objective.given:
            continue
        key = course.key[(ctx.seat, objective.id)]
        about = _bound(objective.answer.id, bindings) if objective.answer.of == "site" else None
        for where, text, page_site in places:
            if page_site is not None and page_site == about:
                continue  # a site's own name, address, published addresses: read off it
            found = shown(
                key,
                objective.compare,
                text,
                tolerance=objective.tolerance,
                relative=objective.tolerance_relative,
                field=objective.answer.field,
                exchanges=exchanges,
            )
            if found:
                out.append(
                    Outcome(
                        ctx.seat,
                        objective.id,
                        False,
                        answer=found,
                        expected=key,
                        reason=f"the answer {found!r} shows {where}",
                        leak=True,
                    )
                )
    return out


def _papers(course: Course, ctx: SeatContext) -> list[tuple[str, str, str | None]]:
    """(where, text, None) of the seat's brief, text artefacts and questions."""
    places: list[tuple[str, str, str | None]] = []
    for a in course.artefacts.get(ctx.seat, []):
        if not a.mime.startswith("text/"):
            continue
        text = ctx.artefacts[a.id].decode("utf-8", "replace")
        where = "in the brief" if a.kind == "brief" else f"in the artefact '{a.id}'"
        places.append((f"{where} ({a.filename})", text, None))
    for objective_id, question in ctx.questions.items():
        places.append((f"in the question of objective '{objective_id}'", question, None))
    # The same papers in the scenario's other languages.
    for (seat, item), versions in sorted(course.texts.items()):
        kind, _, what = item.partition(":")
        if seat != ctx.seat or kind not in ("question", "artefact"):
            continue
        for language, text in sorted(versions.items()):
            where = (
                f"in the question of objective '{what}'"
                if kind == "question"
                else f"in the artefact '{what}'"
            )
            places.append((f"{where} ({language})", text, None))
    return places


def _bound(ref: str, bindings: dict) -> str | None:
    """What an id or a $variable stands for at a seat."""
    return bindings.get(ref[1:]) if ref.startswith("$") else ref


def _case_sites(scenario: Scenario, bindings: dict, sites: dict) -> list[str]:
    """The sites of a seat's case: those its bindings name, and those its answers are about.

    An answer is about a site when it is a field of the site, or of a flow made on it.
    """
    flows = {f.id: f for f in scenario.flows}
    found = [v for v in bindings.values() if v in sites]
    for objective in scenario.objectives:
        ref = objective.answer
        target = _bound(ref.id, bindings)
        if ref.of == "flow" and target in flows:
            target = flows[target].site
        elif ref.of != "site":
            target = None
        if target in sites:
            found.append(target)
    return list(dict.fromkeys(s for s in found if sites[s]["kind"] not in ("explorer",)))


def _channel_pages(rows: list[dict]) -> list[tuple[str, str, str]]:
    """(site id, channel id, URL) of every channel of the world's social sites: public
    pages every seat reaches, so each seat's check reads them all."""
    pages = []
    for row in rows:
        for channel in json.loads(row["config"] or "{}").get("channels") or ():
            url = f"http://{row['address']}/c/{channel['id']}"
            pages.append((row["id"], channel["id"], url))
    return pages


def _page(ctx: SeatContext, url: str) -> str:
    """What a trainee reads on a page fetched through the gateway: its text and its links."""
    try:
        response = requests.get(url, proxies={"http": ctx.proxy}, timeout=PAGE_TIMEOUT)
    except requests.RequestException as e:
        raise CheckError(f"seat {ctx.seat}: cannot fetch {url} through the gateway: {e}") from e
    soup = BeautifulSoup(response.text, "lxml")
    links = [str(a.get("href", "")) for a in soup.find_all("a")]
    return " ".join([soup.get_text(" "), *links])


def _solve(course: Course, ctx: SeatContext, objective, solvers: dict, chain_db: Path) -> Outcome:
    """Run one objective's solver and judge its answer against the key."""
    expected = course.key[(ctx.seat, objective.id)]
    outcome = Outcome(ctx.seat, objective.id, False, expected=expected)
    started = time.perf_counter()
    solver = solvers.get(objective.id)
    try:
        # No empty key reaches here: the build fails naming any answer it cannot derive.
        if solver is None:
            outcome.reason = "the reference solution has no solver for it"
        else:
            outcome.answer = solver(ctx)
            outcome.ok = judge(
                objective.compare,
                _text(outcome.answer),
                expected,
                tolerance=objective.tolerance,
                relative=objective.tolerance_relative,
                chain_db=chain_db,
                accept=objective.accept,
                spellings=objective.spellings,
            )
            if not outcome.ok:
                outcome.reason = (
                    f"answered {outcome.answer!r}, the key says {json.dumps(expected)[:200]}"
                )
    except Exception as e:  # any failure of a solver is the finding: the objective is unsolved
        outcome.reason = f"could not be solved: {type(e).__name__}: {e}"
    outcome.seconds = time.perf_counter() - started
    return outcome


def _text(answer) -> str:
    """An answer as a trainee would type it."""
    if isinstance(answer, list | tuple | set):
        return ", ".join(str(a) for a in answer)
    return str(answer)


def print_outcome(outcome: Outcome) -> None:
    """Print one outcome as it arrives."""
    print(outcome.line(), file=sys.stderr if not outcome.ok else sys.stdout, flush=True)
