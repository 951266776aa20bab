"""The scenario as the world builder sees it: plain dataclasses with every default filled in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..errors import Problem
from .i18n import Text, default_language

ACTOR_KINDS = ("person", "organisation")
ACTOR_ROLES = (
    "vendor",
    "buyer",
    "donor",
    "fundraiser",
    "admin",
    "exchange",
    "mixer",
    "user",
    "swap",  # an instant cross-chain swap service (BTC <-> USDT on Tron), a hidden service
)
OPSEC_TRAITS = (
    "reuses_username",  # same handle on every site and on the clearnet social site
    "email_in_pgp",  # real email in the PGP key's user id
    "reuses_address",  # one Bitcoin address for every payment received
    "reuses_pgp_key",  # same PGP key on every site
    "exif_gps",  # product photos keep EXIF GPS and camera serial
    "legacy_addresses",  # P2PKH addresses instead of bech32
    "posts_personal_details",  # leaks city, job or family details on the forum / social site
)
SITE_KINDS = (
    "market",
    "shop",
    "forum",
    "donation",
    "wiki",
    "search",
    "social",
    "paste",
    "swap",
)
CLEARNET_KINDS = ("social", "paste")
SITE_MISTAKES = (
    "server_status",  # Apache /server-status showing the real IP and other vhosts
    "open_directory",  # an "Index of /" listing of uploads or backups
    "analytics_id",  # same analytics id as a clearnet site of the operator
    "exif_gps",  # uploaded photos keep their EXIF GPS
)
FLOW_KINDS = (
    "donation",
    "purchase",
    "commission",
    "consolidation",
    "peel_chain",
    "mixing",
    "cash_out",
    "transfer",
    "otc_sale",  # Tron only: USDT sold to an OTC broker for cash
    "swap",  # both chains: a deposit on one, the swap service's payout on the other
)
CURRENCIES = ("BTC", "XMR")
CHAINS = ("btc", "tron")
# The assets each chain's flows may move; the first is a flow's default.
CHAIN_ASSETS = {"btc": ("BTC",), "tron": ("USDT", "TRX")}
# Flow kinds the Tron chain carries out (no mixer or market escrow lives there).
TRON_FLOW_KINDS = (
    "donation",
    "purchase",
    "consolidation",
    "peel_chain",
    "cash_out",
    "transfer",
    "otc_sale",
    "swap",
)
# Flow kinds only Tron carries out (the Bitcoin-like ledger has no OTC desk).
TRON_ONLY_FLOW_KINDS = ("otc_sale",)
# The flow kinds the Bitcoin-like ledger carries out.
LEDGER_FLOW_KINDS = tuple(k for k in FLOW_KINDS if k not in TRON_ONLY_FLOW_KINDS)
# Format v2: the course around the world.
ANSWER_FIELDS = {
    # what an objective's answer can refer to, and the fields each offers
    "actor": (
        "name",
        "username",
        "handle",  # the actor's handle on the sites (its first account there)
        "email",
        "phone",
        "city",
        "country",
        "iban",
        "document_number",
        "exchange",  # name of the exchange the actor banks with
        "exchange_account",  # the actor's account reference there
        "pgp_fingerprint",
        "address",  # the receiving address the actor publishes on its profile
        "addresses",  # every address of the actor's personal wallet that received coins
        "balance",  # BTC left unspent in the actor's personal wallet at the end of the world
        "login_ip",  # the IP the actor last logged in to its exchange from
        "tron_address",  # its first own Tron address (where USDT paid to it arrives)
        "camera_serial",  # the serial number in the EXIF data of the actor's product photos
        "sweep",  # a live transaction spending the actor's coins to the seat's wallet
        "freeze",  # the USDT issuer's reference of this seat's freeze of an actor's address
        "seize",  # ... of its reissue of an actor's frozen USDT to the seat's Tron wallet
    ),
    "site": (
        "name",
        "address",
        "server_ip",
        "analytics_id",
        "operator_name",
        "published_address",  # donation sites: the one address on the site and the forum
        "donation_addresses",
        "tron_published_address",  # donation sites: the one USDT (TRC-20) address published
        "tron_donation_addresses",
    ),
    "flow": (
        "total",
        "count",
        "txids",
        "addresses",
        "exchange",
        "payout_txids",  # swap: the service's payouts on the other chain
        "payout_addresses",
        "payout_total",
    ),
}
COMPARISONS = ("exact", "nocase", "set", "number", "sweep", "freeze", "seize")
INJECT_ACTIONS = (
    "message",
    "site_offline",
    "site_online",
    "exit_scam",
    "forum_post",
    "move_funds",
    "move_usdt",
)
# `when:` triggers of an inject besides at/solved/manual: "disclosed" fires for a seat when
# it asks the USDT issuer about an address of the inject's actor without confidentiality.
INJECT_WHEN = ("disclosed",)
ARTEFACT_KINDS = ("brief", "text", "phone_notes", "screenshot")


@dataclass(frozen=True)
class Amount:
    """A BTC amount range; each payment draws uniformly between min and max."""

    min: float
    max: float

    @property
    def mean(self) -> float:
        """The expected value of one draw."""
        return (self.min + self.max) / 2


@dataclass(frozen=True)
class Meta:
    """Scenario title, one-paragraph summary, the default Faker locale and the languages
    its trainee-facing texts are written in (empty: the locale's language only)."""

    title: Text
    summary: Text = ""
    locale: str = "en_US"
    languages: tuple[str, ...] = ()

    @property
    def language(self) -> str:
        """The default language: the locale's when declared (or none are), else the first."""
        return default_language(self.locale, self.languages)


@dataclass(frozen=True)
class WorldKnobs:
    """Size and timing of the generated world."""

    seed: int = 1
    start: date = date(2026, 1, 1)
    days: int = 90
    background_users: int = 2000
    transactions: int = 100_000
    block_interval: int = 600  # seconds between blocks, on average
    fee_rate: Amount = Amount(2, 40)  # sat/vB
    tor_latency: bool = False  # `sandbox up` simulates Tor's delays and circuit failures
    live_block_seconds: int = 60  # seconds between live blocks; 0: one after each broadcast
    tron_transactions: int = 0  # about how many Tron transactions in all (noise fills up to it)
    btc_usdt: float = 60_000.0  # USDT per BTC: the rate swap services price orders at
    swap_fee: float = 0.01  # share of each swap the service keeps
    issuer_answer_minutes: float = 0  # wall-clock minutes before the issuer acts on a request


@dataclass(frozen=True)
class TronWallet:
    """An actor's Tron wallet, with what each member holds at the start."""

    usdt: float = 0.0  # USDT, bought at the actor's exchange before day 0
    trx: float = 0.0  # TRX


@dataclass(frozen=True)
class Actor:
    """A person or organisation of the story; with count > 1 a group of similar ones."""

    id: str
    role: str
    kind: str = "person"
    count: int = 1
    name: str | None = None  # Faker-generated when absent (only for count == 1)
    username: str | None = None
    locale: str | None = None  # defaults to meta.locale
    opsec: tuple[str, ...] = ()
    exchange: str | None = None  # actor id of the exchange this actor banks with
    balance: float = 0.0  # BTC the actor holds at the start
    domain: str | None = None  # exchanges: the .test name of their site / portal
    tron: TronWallet | None = None  # its Tron wallet; None: none (exchanges always have one)
    language: str | None = None  # language of the texts it writes (BCP 47); None: meta.locale's
    line: int = 0  # line of the actor in the scenario file, for messages


@dataclass(frozen=True)
class Said:
    """A dated text of the scenario on a site: a channel post, a chat line or a forum post.

    `by` is who wrote it (an actor id; a forum post without one: its thread's author), `day`
    when (None on a forum post: an hour after the post before it). Placeholders are filled
    with the world's values when the world is built.
    """

    text: str
    by: str | None = None
    day: float | None = None
    pinned: bool = False  # channel posts: shown at the top of the channel
    line: int = 0


@dataclass(frozen=True)
class DonationBot:
    """A channel's bot that gives each visitor a fresh donation address of a flow's campaign."""

    flow: str  # a donation flow made on a donation site with per-donor addresses
    reply: str = ""  # the bot's words before the address (the address alone when empty)
    line: int = 0


@dataclass(frozen=True)
class Channel:
    """A channel on a social site, run by an actor: posts, chat lines, a donation bot."""

    id: str
    name: str
    actor: str
    language: str | None = None  # None: the actor's language
    description: str = ""
    posts: tuple[Said, ...] = ()  # the channel's own posts (by its actor)
    chat: tuple[Said, ...] = ()  # lines by anyone in the channel's chat
    donation_bot: DonationBot | None = None
    line: int = 0


@dataclass(frozen=True)
class ForumThread:
    """A thread the scenario writes on a forum: its title, opener and posts."""

    title: str
    by: str
    posts: tuple[Said, ...]
    day: float = 0.0
    line: int = 0


@dataclass(frozen=True)
class ForumBoard:
    """A board the scenario writes on a forum, with its threads."""

    name: str
    description: str = ""
    threads: tuple[ForumThread, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Site:
    """A hidden service or a .test clearnet site."""

    id: str
    kind: str
    name: str
    operator: str | None = None  # actor id
    onion: bool = True  # False: served under a .test name
    domain: str | None = None  # .test name for clearnet sites; generated when absent
    vendors: int = 0  # markets: generated vendors besides the named ones
    listings: int = 0  # markets and shops: total listings
    featured: tuple[str, ...] = ()  # actor ids selling (market/shop) or posting (forum)
    boards: int = 0  # forums
    threads: int = 0  # forums
    posts: int = 0  # forums and social sites
    categories: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ("BTC",)
    captcha: bool = True
    ddos_queue: bool = False
    commission: float = 0.0  # markets: share of each sale paid to the operator
    fresh_address_per_donor: bool = False  # donation sites
    fresh_address_from_day: float | None = None  # donation sites: published address until then
    # donation sites: the page prints the raised total and the number of donations; the
    # loader turns it off by default when an objective asks for that figure
    show_totals: bool = True
    mistakes: tuple[str, ...] = ()
    mirror_of: str | None = None  # a second address of that site, serving the same pages
    online: bool = True  # false: unreachable until a site_online inject
    server: str | None = None  # its Server header (None: Apache when careless, else nginx)
    # The scenario's own words (sandbox/world/content/texts.py); none: the built-in texts.
    description: str | None = None  # any site: its front page and link directories
    description_line: int = 0
    language: str | None = None  # language of those texts (BCP 47); None: its operator's
    forum_boards: tuple[ForumBoard, ...] = ()  # forums: `boards:` given as a list
    channels: tuple[Channel, ...] = ()  # social sites
    line: int = 0


@dataclass(frozen=True)
class Flow:
    """A money movement of the story; the builder turns it into ledger transactions."""

    id: str
    kind: str
    source: str  # actor id ("from" in YAML)
    target: str  # actor id ("to" in YAML)
    amount: Amount | None = None  # None: everything the source holds at that time
    count: int = 1
    start_day: float = 0.0
    end_day: float | None = None  # defaults to start_day (a single moment) or the world's end
    site: str | None = None  # the site the payments are made on (donation, purchase)
    via: str | None = None  # mixing: the mixer actor id; swap: the swap service's
    hops: int = 0  # peel chains
    each: bool = False  # repeat the flow for every member of the `from` group
    chain: str = "btc"  # one of CHAINS
    asset: str = "BTC"  # one of CHAIN_ASSETS[chain]; amounts are in its units
    line: int = 0


@dataclass(frozen=True)
class Ref:
    """Where an answer or a question placeholder comes from: a thing of the world and a field.

    `of` is "actor", "site" or "flow"; `id` is its scenario id or a seat variable such as
    "$subject"; `member` optionally narrows a flow to the payments of one actor.
    """

    of: str
    id: str
    field: str
    member: str | None = None


@dataclass(frozen=True)
class Hint:
    """A hint a trainee can unlock for an objective, at a cost in points."""

    text: Text
    cost: int = 0


@dataclass(frozen=True)
class Objective:
    """A question trainees answer; its answer is derived from the world, per seat."""

    id: str
    question: Text  # may hold placeholders like {subject.username}
    answer: Ref
    points: int = 10
    compare: str = "nocase"  # one of COMPARISONS
    tolerance: float = 0.0  # number: absolute, in the answer's unit
    tolerance_relative: bool = False  # tolerance given as "N%"
    attempts: int = 5  # 0: unlimited
    hints: tuple[Hint, ...] = ()
    accept: tuple[str, ...] = ()  # answers accepted besides the key (exact and nocase)
    # groups of spellings of one answer (a name in Cyrillic and Latin letters): when the
    # seat's answer is one of a group, every spelling of that group is right too
    spellings: tuple[tuple[str, ...], ...] = ()
    given: bool = False  # the answer may show on the trainee's papers and the case's sites
    line: int = 0


@dataclass(frozen=True)
class Seats:
    """Per-trainee variation: each seat gets its own case bindings, dealt in turn.

    `group`: each seat investigates one member of that group (variable `subject`).
    `cases`: each seat gets one case, a mapping of variable -> actor or site id.
    The world seed shuffles the order members or cases are dealt in (world/seats.py).
    Neither: every seat works the same case.
    """

    count: int = 20
    group: str | None = None
    cases: tuple[tuple[tuple[str, str], ...], ...] = ()
    wallet: float = 0.01  # BTC in each seat's funded training wallet; 0: no wallet
    line: int = 0


@dataclass(frozen=True)
class Inject:
    """An event during the exercise: at a time, at a milestone, or fired by the instructor."""

    id: str
    action: str  # one of INJECT_ACTIONS
    at: float | None = None  # minutes after the exercise starts
    solved: str | None = None  # milestone: fires for a seat when it solves this objective
    manual: bool = False  # only the instructor fires it (the default with no trigger)
    when: str | None = None  # one of INJECT_WHEN
    text: Text = ""  # message, forum post body or exit-scam notice; may hold placeholders
    title: Text = ""  # forum_post: the new thread's title
    site: str | None = None  # site_offline, site_online, exit_scam, forum_post
    actor: str | None = None  # forum_post author, move_funds/move_usdt payer (id or $variable)
    to: str | None = None  # move_funds: the receiving actor (an exchange: a deposit address)
    # move_funds: BTC, move_usdt: USDT; None: everything
    amount: float | None = None
    line: int = 0


@dataclass(frozen=True)
class Artefact:
    """A file handed to trainees, generated from the world for each seat."""

    id: str
    kind: str  # one of ARTEFACT_KINDS
    title: Text
    text: Text = ""  # brief and text: the body; phone_notes: the notes; with placeholders
    actor: str | None = None  # phone_notes, screenshot: whose (id or $variable)
    site: str | None = None  # screenshot: the site shown
    line: int = 0


@dataclass(frozen=True)
class Scenario:
    """A whole validated scenario."""

    name: str  # file stem, e.g. "default"
    meta: Meta
    world: WorldKnobs
    actors: tuple[Actor, ...] = ()
    sites: tuple[Site, ...] = ()
    flows: tuple[Flow, ...] = ()
    objectives: tuple[Objective, ...] = ()
    seats: Seats = Seats()
    injects: tuple[Inject, ...] = ()
    artefacts: tuple[Artefact, ...] = ()
    solution: str | None = None  # path of the reference solution (a Python file)
    version: int = 1
    source: str = ""  # path of the file it was read from
    extra: dict = field(default_factory=dict)  # sections of later format versions
    # what `sandbox validate` warns about (missing translations); not part of the scenario
    warnings: tuple[Problem, ...] = field(default=(), compare=False)

    @property
    def language(self) -> str:
        """The default language of the trainee-facing texts."""
        return self.meta.language

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages of the trainee-facing texts (the default one at least)."""
        return self.meta.languages or (self.meta.language,)

    def actor(self, actor_id: str) -> Actor:
        """The actor with this id."""
        return next(a for a in self.actors if a.id == actor_id)

    def site(self, site_id: str) -> Site:
        """The site with this id."""
        return next(s for s in self.sites if s.id == site_id)

    def with_seed(self, seed: int) -> Scenario:
        """The same scenario with another world seed."""
        from dataclasses import replace

        return replace(self, world=replace(self.world, seed=seed))
