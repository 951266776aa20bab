"""Files handed to trainees, generated from the built world for each seat.

- brief: Markdown (brief.md): the scenario's title and summary, the artefact's text, the
  seat code, the training wallet (address and WIF) and the seat's agency with its
  law-enforcement portal login, password and API token. The seat's case shows only as the
  text's placeholders name it: an automatic list of the bindings would hand out answers
  (a site's .onion) and internal ids.
- text: the artefact's text as plain text (<id>.txt).
- phone_notes: a notes-app export of a seized phone (phone-notes.txt): a few everyday
  notes written with the world's Faker locale, and a "wallet backup" note holding the 12
  BIP39 recovery words of the actor's personal wallet, or of the seat's own stash of it
  when seats share the actor (whose keys the ledger derived from them, see ledger/hd.py
  and seats.py), and the wallet's receiving address.
- screenshot: a PNG (screenshot.png) of the site's page of the actor's account: browser
  frame with the .onion address, the site's name, the handle and its PGP fingerprint.

Placeholders are filled per seat. The same world gives the same bytes: every random draw
is seeded from the world seed, and the PNG carries no time stamp.
"""

from __future__ import annotations

import functools
import io
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from faker import Faker
from PIL import Image, ImageDraw, ImageFont

from ..errors import BuildError
from ..ledger.hd import recovery_words
from ..scenario.i18n import Text, localized
from ..scenario.model import Artefact, Scenario
from .answers import Answers
from .seats import Seat

FILENAMES = {
    "brief": ("brief.md", "text/markdown"),
    "text": ("{id}.txt", "text/plain"),
    "phone_notes": ("phone-notes.txt", "text/plain"),
    "screenshot": ("screenshot.png", "image/png"),
}
PROFILE_PATHS = {"market": "/vendor/{h}", "forum": "/user/{h}", "social": "/u/{h}"}
PROFILE_PATHS["paste"] = "/u/{h}"
GREY = (130, 130, 130)


def make_artefacts(
    answers: Answers,
    scenario: Scenario,
    seat: Seat,
    cache: dict | None = None,
    language: str | None = None,
    only: Callable[[Artefact], bool] | None = None,
) -> list[tuple[str, str, str, str, str, bytes]]:
    """(id, kind, title, filename, mime, content) of every artefact of one seat (or those
    `only` picks), in order, with the texts in language (None: the scenario's default).

    Phone notes and screenshots depend only on the actor and site they show; pass one
    cache dict for all seats and seats sharing them share the work.
    """
    cache = {} if cache is None else cache
    out, used = [], set()
    picked = {a.id for a in scenario.artefacts if only is None or only(a)}
    scenario = in_language(scenario, language)
    for art in scenario.artefacts:
        name, mime = FILENAMES[art.kind]
        name = name.format(id=art.id)
        if name in used:
            name = f"{art.id}-{name}"
        used.add(name)
        if art.id not in picked:
            continue
        title = answers.fill(art.title, seat)
        try:
            shared = None
            if art.kind in ("phone_notes", "screenshot"):
                actor = answers.resolve(art.actor or "", seat)
                # Seats sharing an actor each get their own share of its coins (seats.py).
                stash = seat.stashes.get(actor) if art.kind == "phone_notes" else None
                # The notes' own text may name the seat: seats share only what they share.
                text = answers.fill(art.text, seat) if art.text else ""
                shared = (art.id, actor, answers.resolve(art.site or "", seat), stash, text)
            if shared in cache:
                content = cache[shared]
            else:
                if art.kind == "brief":  # the only file with words of its own
                    content = _brief(answers, scenario, seat, art, title, language)
                else:
                    content = _MAKERS[art.kind](answers, scenario, seat, art, title)
                if shared is not None:
                    cache[shared] = content
        except BuildError as e:
            raise BuildError(f"artefact '{art.id}' (line {art.line}), seat {seat.n}: {e}") from e
        out.append((art.id, art.kind, title, name, mime, content))
    return out


def translated(art: Artefact, scenario: Scenario) -> bool:
    """Whether an artefact's file differs by language: a brief or text whose texts (a
    brief's with the scenario's title and summary) are given in several languages."""
    texts = [art.title, art.text]
    if art.kind == "brief":
        texts += [scenario.meta.title, scenario.meta.summary]
    return art.kind in ("brief", "text") and any(not isinstance(t, str) for t in texts)


def in_language(scenario: Scenario, language: str | None) -> Scenario:
    """The scenario with its title, summary and artefacts' texts in one language."""
    if language is None:
        language = scenario.language

    def one(value: Text) -> str:
        """The value in the language, else the default."""
        return localized(value, language, scenario.language)

    meta = replace(
        scenario.meta, title=one(scenario.meta.title), summary=one(scenario.meta.summary)
    )
    artefacts = tuple(replace(a, title=one(a.title), text=one(a.text)) for a in scenario.artefacts)
    return replace(scenario, meta=meta, artefacts=artefacts)


def _brief(
    answers: Answers,
    scenario: Scenario,
    seat: Seat,
    art: Artefact,
    title: str,
    language: str | None = None,
) -> bytes:
    """The case brief in Markdown, its own words in language (None: English)."""
    words = BRIEF_WORDS.get(language or "en", {})

    def t(english: str) -> str:
        """The brief's words in the language, English where they are not translated."""
        return words.get(english, english)

    summary = localized(scenario.meta.summary, None, scenario.language)
    lines = [f"# {localized(scenario.meta.title, None, scenario.language)}", ""]
    if summary:
        lines += [summary.strip(), ""]
    lines += [f"## {title}", ""]
    if art.text:
        lines += [answers.fill(art.text, seat).strip(), ""]
    lines += [f"## {t('Your seat')}", "", f"- {t('Seat code')}: `{seat.code}`"]
    if seat.wallet_address:
        lines += [
            f"- {t('Training wallet address')}: `{seat.wallet_address}`",
            f"- {t('Training wallet private key (WIF)')}: `{seat.wallet_wif}`",
            "",
            t("Seized funds go to the training wallet. Keep its key to yourself."),
        ]
    if seat.tron_address:
        lines += [
            f"- {t('Tron training wallet address')}: `{seat.tron_address}`",
            f"- {t('Tron training wallet private key (hex)')}: `{seat.tron_key}`",
            "",
            t(_TRON_NOTE),
            "",
        ]
    lines += _requester_lines(answers, seat, t)
    return ("\n".join(lines).rstrip() + "\n").encode()


def _requester_lines(answers: Answers, seat: Seat, t: Callable[[str], str]) -> list[str]:
    """The seat's agency and its credentials at the exchanges' law-enforcement portals."""
    row = answers.conn.execute(
        "SELECT agency, officer_name, officer_email, login, password, token"
        " FROM requesters WHERE seat = ?",
        (seat.n,),
    ).fetchone()
    if row is None:
        return []
    agency, officer, email, login, password, token = row
    return [
        "",
        f"## {t('Your agency at the exchanges')}",
        "",
        f"- {t('Agency')}: {agency}",
        f"- {t('Officer')}: {officer}",
        f"- {t(_EMAIL)}: `{email}`",
        f"- {t('Law-enforcement portal login')}: `{login}`",
        f"- {t('Portal password')}: `{password}`",
        f"- {t(_TOKEN)}: `{token}`",
        "",
        t(_PORTALS),
    ]


def _text(answers: Answers, scenario: Scenario, seat: Seat, art: Artefact, title: str) -> bytes:
    """A plain note: its title and text."""
    return f"{title}\n\n{answers.fill(art.text, seat).strip()}\n".encode()


@functools.cache
def _faker(locale: str) -> Faker:
    """One Faker per locale (slow to make), reseeded before every use."""
    return Faker(locale)


def _world_span(answers: Answers) -> tuple[int, int]:
    """Start and end time of the world."""
    meta = dict(answers.conn.execute("SELECT key, value FROM meta"))
    return int(meta["start_time"]), int(meta["end_time"])


def _stamp(t: int) -> str:
    """A note time as a notes app shows it."""
    return datetime.fromtimestamp(t, UTC).strftime("%d/%m/%Y, %H:%M")


def _phone_notes(
    answers: Answers, scenario: Scenario, seat: Seat, art: Artefact, title: str
) -> bytes:
    """A seized phone's notes, one of them the actor's wallet backup."""
    actor = answers.resolve(art.actor or "", seat)
    if actor not in answers.actor_ids:
        raise BuildError(f"no actor {actor!r} in the world")
    seed = scenario.world.seed
    rng = random.Random(f"phone:{seed}:{actor}:{art.id}")
    fk = _faker(scenario.meta.locale)
    fk.seed_instance(f"phone:{seed}:{actor}:{art.id}")
    start, end = _world_span(answers)
    held = answers.holdings(actor, seat)
    if not held:
        raise BuildError(f"actor {actor!r} holds no coins at the end of the world")
    stash = seat.stashes.get(actor)
    receive = held[0][1] if stash else _receiving_address(answers, actor, held)
    first = answers.actor(actor, "name").split()[0]
    device = rng.choice(("iPhone 12", "iPhone 13 mini", "iPhone 14", "iPhone SE"))
    notes: list[tuple[str, list[str]]] = []

    def when() -> int:
        """A time during the world's span."""
        return rng.randint(start, max(start, end - 3600))

    if art.text:
        # The scenario's notes, in its words, instead of the everyday ones made up here.
        notes += scenario_notes(answers.fill(art.text, seat))
    else:
        notes += everyday_notes(rng, fk)
    words = recovery_words(seed, actor, stash[0] if stash else 0).split()
    backup = ["wallet backup - DO NOT DELETE", "", f"receive: {receive}", "", "seed words:"]
    backup += [" ".join(words[:6]), " ".join(words[6:])]
    backup += ["", "(no passphrase; restore in any wallet app, default account)"]
    notes.append(("wallet backup", backup))
    if not art.text:
        notes.append(("Todo", [f"- {x}" for x in rng.sample(TODOS, 3)]))
    order = notes[:]
    rng.shuffle(order)
    created = sorted(when() for _ in order)
    lines = [
        "Notes export",
        f'Device: {device} ("{first}\'s iPhone")',
        "Account: On My iPhone",
        f"Items: {len(order)}",
        "",
    ]
    for (heading, body), t in zip(order, created, strict=True):
        modified = min(end, t + rng.randint(60, 4 * 86_400))
        lines += ["=" * 40, heading, f"Created: {_stamp(t)}   Modified: {_stamp(modified)}", ""]
        lines += body
        lines.append("")
    return ("\n".join(lines).rstrip() + "\n").encode()


def everyday_notes(rng: random.Random, fk: Faker) -> list[tuple[str, list[str]]]:
    """A shopping list, a call-back and an address: notes everyone's phone has."""
    return [
        ("Shopping", [f"- {x}" for x in rng.sample(GROCERIES, 5)]),
        (
            "Call back",
            [
                f"{fk.first_name()} {fk.phone_number()} re the {rng.choice(ERRANDS)}",
                f"{fk.first_name()} wants it done by {rng.choice(DAYS)}",
            ],
        ),
        (
            rng.choice(("Address", "Meet")),
            [
                fk.street_address(),
                f"{fk.postcode()} {fk.city()}" if hasattr(fk, "postcode") else fk.city(),
                f"{rng.choice(DAYS)} {rng.randint(8, 21)}:{rng.choice(('00', '15', '30', '45'))}"
                f", ask for {fk.first_name()}",
            ],
        ),
    ]


def scenario_notes(text: str) -> list[tuple[str, list[str]]]:
    """The notes a scenario writes: separated by lines of `---`, each headed by its first line."""
    notes: list[tuple[str, list[str]]] = []
    chunk: list[str] = []
    for line in [*text.strip().splitlines(), "---"]:
        if line.strip() != "---":
            chunk.append(line.rstrip())
            continue
        while chunk and not chunk[0].strip():
            chunk.pop(0)
        if chunk:
            notes.append((chunk[0].strip(), chunk[1:]))
        chunk = []
    return notes


def _receiving_address(answers: Answers, actor: str, held: list[tuple]) -> str:
    """The wallet's receiving address: the published one, else its latest non-change one."""
    row = answers.conn.execute(
        "SELECT ad.address FROM addresses ad JOIN wallets w ON w.id = ad.wallet_id"
        " WHERE w.actor_id = ? AND w.kind = 'personal' AND coalesce(ad.purpose, '') != 'change'"
        " ORDER BY ad.purpose = 'published' DESC, ad.id DESC LIMIT 1",
        (actor,),
    ).fetchone()
    return row[0] if row else held[0][1]


GROCERIES = (
    "milk",
    "bread",
    "eggs",
    "coffee",
    "bananas",
    "rice",
    "tomatoes",
    "washing-up liquid",
    "batteries AA",
    "cat food",
    "olive oil",
    "cheese",
)
ERRANDS = ("car", "flat viewing", "invoice", "parcel", "gym contract", "boiler", "phone bill")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TODOS = (
    "renew passport",
    "new vacuum bags",
    "scales + bags",
    "pay rent",
    "post office (2 parcels)",
    "change VPN server",
    "back up laptop",
    "dentist",
    "top up burner SIM",
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font (the same on every machine)."""
    return ImageFont.load_default(size)


def _screenshot(
    answers: Answers, scenario: Scenario, seat: Seat, art: Artefact, title: str
) -> bytes:
    """A PNG of the actor's profile page on the site, as a browser shows it."""
    actor = answers.resolve(art.actor or "", seat)
    site = answers.resolve(art.site or "", seat)
    row = answers.conn.execute(
        "SELECT s.name, s.address, s.kind, ac.handle, ac.role, ac.joined, ac.pgp_fingerprint,"
        " ac.sales, ac.rating FROM accounts ac JOIN sites s ON s.id = ac.site_id"
        " WHERE ac.site_id = ? AND ac.actor_id = ? ORDER BY ac.id LIMIT 1",
        (site, actor),
    ).fetchone()
    if row is None:
        raise BuildError(f"actor {actor!r} has no account on site {site!r}")
    name, host, kind, handle, role, joined, fingerprint, sales, rating = row
    if not fingerprint:
        fingerprint = answers.pgp_fingerprint(actor)
    path = PROFILE_PATHS.get(kind, "/").format(h=handle)
    width, height = 1000, 620
    img = Image.new("RGB", (width, height), (236, 236, 236))
    d = ImageDraw.Draw(img)
    # Browser frame: a tab, the address bar.
    d.rectangle((0, 0, width, 40), fill=(222, 222, 226))
    for i, colour in enumerate(((237, 106, 94), (245, 191, 79), (98, 197, 84))):
        d.ellipse((14 + i * 22, 13, 28 + i * 22, 27), fill=colour)
    d.rounded_rectangle((90, 6, 380, 40), 6, fill=(250, 250, 250))
    d.text((104, 14), f"{name} - Tor Browser"[:38], font=_font(14), fill=(40, 40, 40))
    d.rectangle((0, 40, width, 84), fill=(250, 250, 250))
    d.rounded_rectangle((60, 48, width - 20, 78), 14, fill=(236, 236, 240))
    d.text((78, 55), f"http://{host}{path}", font=_font(15), fill=(30, 30, 30))
    # The page.
    accent = (122, 40, 160) if kind == "market" else (40, 90, 160)
    d.rectangle((0, 84, width, 150), fill=(28, 24, 34))
    d.text((30, 100), name, font=_font(30), fill=(245, 245, 245))
    d.rectangle((0, 150, width, 154), fill=accent)
    d.rectangle((30, 180, width - 30, 590), fill=(255, 255, 255), outline=(210, 210, 210))
    d.ellipse((60, 210, 160, 310), fill=accent)
    d.text((110, 260), handle[:1].upper(), font=_font(44), fill=(255, 255, 255), anchor="mm")
    d.text((190, 212), handle, font=_font(34), fill=(20, 20, 20))
    since = datetime.fromtimestamp(joined, UTC).strftime("%B %Y")
    label = {"vendor": "Vendor", "admin": "Administrator", "operator": "Operator"}
    d.text(
        (190, 258),
        f"{label.get(role, 'Member')} · member since {since}",
        font=_font(17),
        fill=(90, 90, 90),
    )
    if role == "vendor":
        stars = f"{rating:.2f}/5" if rating is not None else "no rating yet"
        d.text((190, 284), f"{sales} sales · {stars}", font=_font(17), fill=(90, 90, 90))
    d.line((60, 340, width - 60, 340), fill=(225, 225, 225), width=1)
    d.text((60, 360), "PGP public key", font=_font(20), fill=(20, 20, 20))
    if fingerprint:
        groups = " ".join(fingerprint[i : i + 4] for i in range(0, 40, 4))
        d.text((60, 395), "Fingerprint:", font=_font(17), fill=(90, 90, 90))
        d.text((60, 422), groups, font=_font(19), fill=(20, 20, 20))
    else:
        d.text((60, 395), "No key published.", font=_font(17), fill=(90, 90, 90))
    armored = answers.one(
        "SELECT public_armored FROM pgp_keys WHERE upper(fingerprint) = ?", fingerprint or ""
    )
    if armored:
        body = [ln for ln in armored.splitlines() if ln and ":" not in ln and "-----" not in ln]
        d.text((60, 470), "-----BEGIN PGP PUBLIC KEY BLOCK-----", font=_font(15), fill=GREY)
        for i, line in enumerate(body[:3]):
            d.text((60, 494 + i * 22), line[:72], font=_font(15), fill=GREY)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


_MAKERS = {
    "brief": _brief,
    "text": _text,
    "phone_notes": _phone_notes,
    "screenshot": _screenshot,
}


_TRON_NOTE = (
    "Reissued or swept USDT goes to the Tron training wallet; it holds a little TRX for fees."
)
_EMAIL = "Officer's email"
_TOKEN = "API token (for `investigate request --token`)"
_PORTALS = "Every exchange's portal (/le/) takes this login; it shows you only your own requests."
# The brief's own words in the languages the built-in scenarios are translated into, keyed
# by the English (the brief of a language without them stays in English).
BRIEF_WORDS: dict[str, dict[str, str]] = {
    "ru": {
        "Your seat": "Ваше место",
        "Seat code": "Код места",
        "Training wallet address": "Адрес учебного кошелька",
        "Training wallet private key (WIF)": "Закрытый ключ учебного кошелька (WIF)",
        "Seized funds go to the training wallet. Keep its key to yourself.": (
            "Изъятые средства переводятся на учебный кошелёк. Никому не сообщайте его ключ."
        ),
        "Tron training wallet address": "Адрес учебного кошелька Tron",
        "Tron training wallet private key (hex)": "Закрытый ключ учебного кошелька Tron (hex)",
        _TRON_NOTE: (
            "Перевыпущенные или изъятые USDT поступают на учебный кошелёк Tron; на нём есть "
            "немного TRX для оплаты комиссий."
        ),
        "Your agency at the exchanges": "Ваше ведомство на биржах",
        "Agency": "Ведомство",
        "Officer": "Сотрудник",
        _EMAIL: "Электронная почта сотрудника",
        "Law-enforcement portal login": "Логин портала для правоохранительных органов",
        "Portal password": "Пароль портала",
        _TOKEN: "API-токен (для `investigate request --token`)",
        _PORTALS: (
            "Этот логин действует на портале (/le/) каждой биржи; там видны только ваши "
            "собственные запросы."
        ),
    },
    "kk": {
        "Your seat": "Сіздің орныңыз",
        "Seat code": "Орын коды",
        "Training wallet address": "Оқу әмиянының мекенжайы",
        "Training wallet private key (WIF)": "Оқу әмиянының жабық кілті (WIF)",
        "Seized funds go to the training wallet. Keep its key to yourself.": (
            "Тәркіленген қаражат оқу әмиянына аударылады. Оның кілтін ешкімге бермеңіз."
        ),
        "Tron training wallet address": "Tron оқу әмиянының мекенжайы",
        "Tron training wallet private key (hex)": "Tron оқу әмиянының жабық кілті (hex)",
        _TRON_NOTE: (
            "Қайта шығарылған немесе тәркіленген USDT Tron оқу әмиянына түседі; онда "
            "комиссияларға арналған аздаған TRX бар."
        ),
        "Your agency at the exchanges": "Биржалардағы сіздің ведомствоңыз",
        "Agency": "Ведомство",
        "Officer": "Қызметкер",
        _EMAIL: "Қызметкердің электрондық поштасы",
        "Law-enforcement portal login": "Құқық қорғау органдарына арналған портал логині",
        "Portal password": "Портал құпиясөзі",
        _TOKEN: "API токені (`investigate request --token` үшін)",
        _PORTALS: (
            "Бұл логин әр биржаның порталында (/le/) жарамды; онда тек өз сұрау "
            "салуларыңыз көрінеді."
        ),
    },
    "ur": {
        "Your seat": "آپ کی نشست",
        "Seat code": "نشست کا کوڈ",
        "Training wallet address": "تربیتی والیٹ کا ایڈریس",
        "Training wallet private key (WIF)": "تربیتی والیٹ کی نجی کلید (WIF)",
        "Seized funds go to the training wallet. Keep its key to yourself.": (
            "ضبط شدہ رقم تربیتی والیٹ میں جاتی ہے۔ اس کی کلید کسی کو نہ بتائیں۔"
        ),
        "Tron training wallet address": "Tron تربیتی والیٹ کا ایڈریس",
        "Tron training wallet private key (hex)": "Tron تربیتی والیٹ کی نجی کلید (hex)",
        _TRON_NOTE: (
            "دوبارہ جاری کیے گئے یا ضبط شدہ USDT، Tron تربیتی والیٹ میں جاتے ہیں؛ اس میں "
            "فیس کے لیے تھوڑے سے TRX موجود ہیں۔"
        ),
        "Your agency at the exchanges": "ایکسچینجز پر آپ کا ادارہ",
        "Agency": "ادارہ",
        "Officer": "افسر",
        _EMAIL: "افسر کا ای میل",
        "Law-enforcement portal login": "قانون نافذ کرنے والے اداروں کے پورٹل کا لاگ اِن",
        "Portal password": "پورٹل کا پاس ورڈ",
        _TOKEN: "API ٹوکن (`investigate request --token` کے لیے)",
        _PORTALS: (
            "ہر ایکسچینج کا پورٹل (/le/) یہی لاگ اِن قبول کرتا ہے؛ اس میں آپ کو صرف اپنی "
            "درخواستیں نظر آتی ہیں۔"
        ),
    },
    "ar": {
        "Your seat": "مقعدك",
        "Seat code": "رمز المقعد",
        "Training wallet address": "عنوان المحفظة التدريبية",
        "Training wallet private key (WIF)": "المفتاح الخاص للمحفظة التدريبية (WIF)",
        "Seized funds go to the training wallet. Keep its key to yourself.": (
            "تُحوَّل الأموال المضبوطة إلى المحفظة التدريبية. احتفظ بمفتاحها لنفسك."
        ),
        "Tron training wallet address": "عنوان محفظة Tron التدريبية",
        "Tron training wallet private key (hex)": "المفتاح الخاص لمحفظة Tron التدريبية (hex)",
        _TRON_NOTE: (
            "تُحوَّل عملات USDT المُعاد إصدارها أو المسحوبة إلى محفظة Tron التدريبية، وفيها "
            "قليل من TRX لدفع الرسوم."
        ),
        "Your agency at the exchanges": "جهتك لدى منصات التداول",
        "Agency": "الجهة",
        "Officer": "الموظف",
        _EMAIL: "البريد الإلكتروني للموظف",
        "Law-enforcement portal login": "اسم الدخول إلى بوابة جهات إنفاذ القانون",
        "Portal password": "كلمة مرور البوابة",
        _TOKEN: "رمز API (للأمر `investigate request --token`)",
        _PORTALS: "تقبل بوابة كل منصة تداول (/le/) اسم الدخول هذا، ولا تعرض لك إلا طلباتك.",
    },
}
