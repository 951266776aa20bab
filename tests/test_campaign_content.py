"""Campaign content the scenario writes (tests/data/campaign.yaml), served through the gateway.

A channel on the social site with a pinned donation address and a bot that gives each
visitor a fresh address of a donation flow's campaign; an OTC broker's chat with his USDT
address and rates; a forum holding exactly the scenario's boards, threads and posts; site
descriptions on front pages and in the link directory; the phone notes' own text. Every
`{id.field}` is filled with the world's value, the pages carry the texts' language, and no
built-in drug-market text is left where the scenario wrote its own.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup

from marketplaces.common.addresses import fresh_tron_address
from sandbox.errors import BuildError, ScenarioError
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.tron import address as tron_address
from sandbox.world.build import build_world
from sandbox.world.read import world_info
from sandbox.world.secret import keyed_seed
from tests.course_secret import SECRET

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
SCENARIO = DATA / "campaign.yaml"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """The campaign world, built once."""
    out = tmp_path_factory.mktemp("campaign") / "world.db"
    build_world(load_scenario(SCENARIO), out, secret=SECRET)
    return out


def _one(world: Path, sql: str, *args):
    """The first column of the first row of a query on the world."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        row = conn.execute(sql, args).fetchone()
        return None if row is None else row[0]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def facts(world) -> dict:
    """The world's values the scenario's placeholders stand for."""
    return {
        "ashes_address": _one(
            world,
            "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
            " WHERE w.site_id = 'ashes' AND w.kind = 'donation' AND a.purpose = 'published'",
        ),
        "broker_tron": _one(
            world,
            "SELECT address FROM tron_accounts WHERE actor_id = 'sarraf'"
            " AND wallet = 'personal' AND purpose = 'receive'",
        ),
        # The seed the sites derive fresh addresses from: the public one keyed by the secret.
        "seed": keyed_seed(int(_one(world, "SELECT value FROM meta WHERE key = 'seed'")), SECRET),
    }


@pytest.fixture(scope="module")
def served(world, tmp_path_factory):
    """The world served on free loopback ports; a GET through the gateway's SOCKS port."""
    state = tmp_path_factory.mktemp("campaign-state")
    with Sandbox(
        world, socks_port=0, http_port=0, explorer_port=0, state=state, classroom_port=None
    ) as sb:
        host, port = sb.gateway.socks_address
        proxies = {"http": f"socks5h://{host}:{port}"}
        addresses = {s.site_id: s.address for s in sb.sites}
        yield {"proxies": proxies, "addresses": addresses}


def _url(served, site_id: str, path: str = "/") -> str:
    """The URL of a page of a world site."""
    return f"http://{served['addresses'][site_id]}{path}"


def _get(served, site_id: str, path: str = "/", session=None) -> requests.Response:
    """GET a page through the gateway, as a trainee's browser would."""
    client = session or requests
    response = client.get(_url(served, site_id, path), proxies=served["proxies"], timeout=30)
    assert response.status_code == 200, (site_id, path, response.status_code)
    return response


def _text(response: requests.Response) -> str:
    """What the page says."""
    return BeautifulSoup(response.text, "lxml").get_text(" ")


def _lang(response: requests.Response) -> str:
    """The page's lang attribute."""
    return BeautifulSoup(response.text, "lxml").html["lang"]


def test_channel_shows_pinned_post_on_top_then_posts_in_time_order(served, facts):
    """Pinned first; the posts by their days (not the order written); placeholders filled."""
    page = _get(served, "chirp", "/c/sadaqa")
    assert _lang(page) == "ky"  # the channel's actor writes Kyrgyz
    soup = BeautifulSoup(page.text, "lxml")
    first = soup.select_one(".status")
    assert "pinned" in first["class"]
    assert "Закреплено" in first.get_text() and facts["ashes_address"] in first.get_text()
    feed = [s.get_text(" ") for s in soup.select(".status:not(.pinned):not(.bot)")]
    assert [next(w for w in ("Закреплено", "Сбор", "Спасибо") if w in s) for s in feed] == [
        "Закреплено",  # day 0.5
        "Сбор",  # day 1, written after the post of day 2
        "Спасибо",  # day 2
    ]
    text = _text(page)
    assert "Садака Cinder Relief" in text and "Канал сбора" in text
    assert "{" not in text and "}" not in text


def test_bot_gives_each_session_its_own_fresh_address_of_the_flow(served, world, facts):
    """Two visitors get two fresh USDT addresses of the campaign; asking again, the same."""
    got = []
    for _visitor in range(2):
        with requests.Session() as session:
            answers = [_ask_bot(served, session) for _ in range(2)]
            assert answers[0] == answers[1]  # the same session, the same address
            got.append(answers[0])
    assert got[0] != got[1]
    fresh = {fresh_tron_address(facts["seed"], "cinder", n) for n in range(1, 10)}
    for address in got:
        assert tron_address.is_address(address) and address in fresh
    # The campaign's own site numbers its donors in the same sequence: a third address.
    with requests.Session() as session:
        page = _text(_get(served, "cinder", "/", session))
    third = next(a for a in fresh if a in page)
    assert third not in got


def _ask_bot(served, session: requests.Session) -> str:
    """Ask the channel's bot (its form, with the page's CSRF token); the address it gives."""
    page = _get(served, "chirp", "/c/sadaqa", session)
    token = BeautifulSoup(page.text, "lxml").select_one("#bot input[name=csrf_token]")["value"]
    response = session.post(
        _url(served, "chirp", "/c/sadaqa/donate"),
        data={"csrf_token": token},
        proxies=served["proxies"],
        timeout=30,
    )
    assert response.status_code == 200  # after the redirect back to the channel
    bot = BeautifulSoup(response.text, "lxml").select_one("#bot")
    assert "Ваш личный адрес для USDT (TRC-20):" in bot.get_text(" ")
    return bot.select_one(".address").get_text(strip=True)


def test_bot_refuses_a_form_without_its_token_and_hands_out_nothing(served):
    """A POST without the CSRF token is a 400; a channel without a bot has no /donate."""
    with requests.Session() as session:
        response = session.post(
            _url(served, "chirp", "/c/sadaqa/donate"), proxies=served["proxies"], timeout=30
        )
        assert response.status_code == 400
        page = _get(served, "chirp", "/c/sadaqa", session)
        assert BeautifulSoup(page.text, "lxml").select_one("#bot .address") is None
    response = requests.get(
        _url(served, "chirp", "/c/nowhere"), proxies=served["proxies"], timeout=30
    )
    assert response.status_code == 404


def test_otc_chat_shows_the_brokers_address_and_rates_under_handles(served, facts):
    """The chat lines name their writers (their handles on the site) and hold the address."""
    page = _get(served, "chirp", "/c/obmen")
    assert _lang(page) == "ru"
    text = _text(page)
    assert facts["broker_tron"] in text and "курс 0.97" in text and "485 наличными" in text
    soup = BeautifulSoup(page.text, "lxml")
    handles = [a.get_text(strip=True) for a in soup.select(".status .who a")]
    assert len(handles) == 3 and handles[0] == handles[2] != handles[1]
    profile = _get(served, "chirp", f"/u/{handles[0][1:]}")
    assert profile.status_code == 200


def test_social_home_lists_the_channels(served):
    """The timeline's side panel says the site's description and links every channel."""
    home = _get(served, "chirp")
    assert "/c/sadaqa" in home.text and "/c/obmen" in home.text
    text = _text(home)
    assert "Сеть для своих: Steppe Hall, Cinder Relief." in text
    assert "Share what's happening" not in text and "posts and counting" not in text
    index = _text(_get(served, "chirp", "/c/"))
    assert "Садака Cinder Relief" in index and "Обмен USDT" in index


def test_forum_holds_the_scenarios_boards_and_threads_only(served, facts):
    """Boards, the thread and its posts as written, in Russian; no generated drug board."""
    home = _get(served, "hall")
    assert _lang(home) == "ru"
    text = _text(home)
    assert "Объявления" in text and "Новости сбора" in text and "Разговоры" in text
    assert "Форум общины" in text and "is a discussion forum" not in text
    for built_in in ("Drugs", "Harm reduction", "Vendors", "Marketplaces"):
        assert built_in not in text
    soup = BeautifulSoup(home.text, "lxml")
    board = next(a["href"] for a in soup.select("a") if "Объявления" in a.get_text())
    board_page = _get(served, "hall", board)
    thread = next(
        a["href"] for a in BeautifulSoup(board_page.text, "lxml").select("a")
        if "Сбор для Cinder Relief" in a.get_text()
    )  # fmt: skip
    posts = _text(_get(served, "hall", thread))
    assert f"Новый адрес для пожертвований: {facts['ashes_address']}" in posts
    assert "Отправил, да вознаградит Аллах" in posts
    assert posts.index("Новый адрес") < posts.index("Отправил")


def test_descriptions_replace_the_built_in_texts(served, facts):
    """A donation site's front page and the link directory show the scenario's words."""
    cinder = _get(served, "cinder")
    text = _text(cinder)
    assert "Жетимдерге жардам. Кайрымдуулук Cinder Relief аркылуу." in text
    assert "funded entirely by its supporters" not in text
    description = BeautifulSoup(cinder.text, "lxml").select_one(".site-description")
    assert description["lang"] == "ky"
    assert f"Бир дарек: {facts['ashes_address']}" in _text(_get(served, "ashes"))
    directory = _text(_get(served, "atlas"))
    assert "Жетимдерге жардам" in directory and f"Бир дарек: {facts['ashes_address']}" in directory


def test_phone_notes_hold_the_scenarios_notes_and_the_wallet_backup(world, facts):
    """The notes are the scenario's, filled; the wallet backup note is still there."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        (content,) = conn.execute("SELECT content FROM artefacts WHERE id = 'phone'").fetchone()
    finally:
        conn.close()
    notes = content.decode()
    assert "Позвонить брату насчёт Ashes Appeal" in notes
    assert f"{facts['broker_tron']} курс 0.97" in notes
    assert "wallet backup - DO NOT DELETE" in notes and "seed words:" in notes
    assert "Shopping" not in notes and "Todo" not in notes
    assert "Items: 3" in notes


def test_built_in_scenario_worlds_are_unchanged(tmp_path):
    """A scenario that writes no texts of its own builds the world it built before them.

    The intro world's digest under a fixed secret, as it was before scenarios could write
    site texts (and with every later change to the build: update it when a change to the
    world is meant, never to make this pass otherwise). Last changed by world format 4:
    meta's format, and tron_blocks without its witness_signature column (readers sign a
    block's header on demand); every other table is as it was.
    """
    out = tmp_path / "intro.db"
    build_world(
        load_scenario("intro"), out, secret=bytes.fromhex("00112233445566778899aabbccddeeff")
    )
    assert world_info(out)["digest"] == INTRO_DIGEST


INTRO_DIGEST = "d5b98874ecd6d554183f32777b2666e60052f546fdb896791541ce94431c3eca"


# --- validation ---------------------------------------------------------------------


def _problems(tmp_path: Path, old: str, new: str) -> list[tuple[int, str, str]]:
    """(line, path, message) of the problems of campaign.yaml with one text replaced."""
    text = SCENARIO.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "campaign.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert all(p.file == str(path) for p in info.value.problems)
    return [(p.line, p.path, p.message) for p in info.value.problems]


def _line_of(part: str, text: str | None = None) -> int:
    """The line of campaign.yaml (or of text) holding this part."""
    lines = (text or SCENARIO.read_text(encoding="utf-8")).splitlines()
    return next(n for n, line in enumerate(lines, 1) if part in line)


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            '{sarraf.tron_address}"}',
            '{sarraf.tron_adress}"}',
            "sites[4].channels[1].chat[0].text",
            "has no field 'tron_adress'; did you mean 'tron_address'?",
        ),
        (
            '{ashes.published_address}", pinned',
            '{ashez.published_address}", pinned',
            "sites[4].channels[0].posts[0].text",
            "no seat variable, actor, site or flow 'ashez'; did you mean 'ashes'?",
        ),
        (
            "Спасибо всем, кто отправил USDT.",
            "Спасибо {seat.code}",
            "sites[4].channels[0].posts[1].text",
            "the same for every seat, so it cannot name the seat",
        ),
        (
            "Кайрымдуулук {cinder.name}",
            "Кайрымдуулук {cinder name}",
            "sites[0].description",
            "is not a placeholder",
        ),
        (
            "pinned: true}",
            "pinned: often}",
            "sites[4].channels[0].posts[0].pinned",
            "expected true or false",
        ),
        (
            "flow: usdt-cinder",
            "flow: btc-ashes",
            "sites[4].channels[0].donation_bot.flow",
            "publishes one address",
        ),
        (
            "flow: usdt-cinder",
            "flow: usdt-ember",
            "sites[4].channels[0].donation_bot.flow",
            "no flow 'usdt-ember'",
        ),
        (
            "flow: usdt-cinder",
            "flow: otc",
            "sites[4].channels[0].donation_bot.flow",
            "is a otc_sale flow",
        ),
        (
            "from: ember, text",
            "from: embr, text",
            "sites[4].channels[1].chat[1].from",
            "no actor 'embr'",
        ),
        (
            "by: donors-2",
            "by: donors",
            "sites[2].boards[0].threads[0].posts[1].by",
            "is a group of 12",
        ),
        (
            "day: 1.5}",
            "day: 0.5}",
            "sites[2].boards[0].threads[0].posts[1].day",
            "before the thread starts",
        ),
        (
            "{day: 2, text",
            "{day: 9, text",
            "sites[4].channels[0].posts[1].day",
            "after the world's last day",
        ),
        (
            "      - name: Разговоры",
            "      - name: Разговоры\n        topic: x",
            "sites[2].boards[1].topic",
            "unknown key 'topic'",
        ),
        (
            "    language: ru\n",
            "    language: Russian\n",
            "sites[2].language",
            "is not a language tag",
        ),
        (
            "    posts: 20\n",
            "    posts: 20\n    boards: [{name: X}]\n",
            "sites[4].boards",
            "is for forums",
        ),
        (
            "      - name: Разговоры",
            "      - description: Болтовня",
            "sites[2].boards[1].name",
            "required but missing",
        ),
    ],
)
def test_bad_content_fails_validation_naming_file_and_line(tmp_path, old, new, path, message):
    """Every mistake in the scenario's texts is one problem at its own line."""
    found = _problems(tmp_path, old, new)
    assert len(found) == 1, found
    line, where, text = found[0]
    assert where == path and message in text, found[0]
    # The line of the mistake: of the text put in (its last line, for a key added).
    changed = SCENARIO.read_text(encoding="utf-8").replace(old, new, 1)
    assert line == _line_of(new.strip().splitlines()[-1].strip(), changed)


def test_channels_and_board_lists_on_the_wrong_kind_of_site(tmp_path):
    """Channels are for social sites; a forum's list of boards leaves no room for counts."""
    found = _problems(
        tmp_path, "    captcha: false\n    language: ru", "    threads: 5\n    language: ru"
    )
    assert [(p, "threads counts" in m) for _, p, m in found] == [("sites[2].threads", True)]
    found = _problems(
        tmp_path, "  - {id: atlas, kind: wiki, name: Onion Atlas, captcha: false}",
        "  - {id: atlas, kind: wiki, name: Onion Atlas, channels: [{id: c, name: C, actor: ember}]}",
    )  # fmt: skip
    assert [(line, p) for line, p, _ in found] == [(56, "sites[3].channels")]
    assert "channels are on social sites" in found[0][2]


def test_an_unfillable_placeholder_fails_the_build_naming_its_line(tmp_path):
    """A placeholder the world has no value for (a per-donor campaign publishes no address)."""
    text = SCENARIO.read_text(encoding="utf-8").replace(
        "Бир дарек: {ashes.published_address}", "Бир дарек: {cinder.published_address}"
    )
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    where = rf"campaign.yaml:{_line_of('Бир дарек')}: sites\[1\]\.description: "
    with pytest.raises(BuildError, match=where + "site 'cinder' has no published_address"):
        build_world(load_scenario(path), tmp_path / "world.db", secret=SECRET)
    assert not (tmp_path / "world.db").exists()


@pytest.mark.check
@pytest.mark.parametrize("given", [True, False])
def test_check_reads_the_channel_pages(tmp_path, given):
    """A channel page is a page every seat reaches: `sandbox check` fails when it shows a
    seat's answer, naming the channel, unless the objective says `given: true`."""
    text = SCENARIO.read_text(encoding="utf-8").replace(
        "version: 2\n", f"version: 2\nsolution: {DATA / 'campaign_solution.py'}\n", 1
    )
    # The phone notes give the address too: keep them off the seat's papers here.
    text = text[: text.index("  - id: phone\n")]
    if not given:
        text = text.replace("    given: true\n", "")
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    output = result.stdout + result.stderr
    if given:
        assert result.returncode == 0, output
        assert "ok   seat 1 broker" in result.stdout
        return
    assert result.returncode == 1, output
    assert re.search(
        r"objective 'broker', seat 1: the answer 'T[1-9A-HJ-NP-Za-km-z]{33}' shows on the "
        r"channel 'obmen' of chirp \(http://chirp\.test/c/obmen\)",
        result.stderr,
    ), output
