"""Forums: members, boards, threads and posts, with adverts, announcements and careless leaks."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate

from sandbox.world.content import forum_text as ft
from sandbox.world.content import market_text as mt
from sandbox.world.content.accounts import Account, Accounts, Rows, joined_before
from sandbox.world.content.geo import country_name
from sandbox.world.content.leaks import FORUM_LEAKS, facts_of, leak_posts
from sandbox.world.content.market import site_slots, vendor_slots
from sandbox.world.content.world import DAY, ActorRow, SiteRow, WorldSoFar

FORUM_ROLES = ("vendor", "buyer", "admin", "fundraiser", "user")
DEFAULT_BOARDS, DEFAULT_THREADS, DEFAULT_POSTS = 6, 40, 300


@dataclass
class Thread:
    """A thread being planned: its board, opener and replies as (time, account, body)."""

    board: int
    author: Account
    title: str
    body: str
    created: int
    kind: str
    replies: list[tuple[int, Account, str]] = field(default_factory=list)


@dataclass
class Advertiser:
    """A market vendor on the forum, and the market handle it advertises with."""

    account: Account
    actor: ActorRow
    market: SiteRow
    market_account: Account


@dataclass
class Members:
    """Who is on the forum and what part they play."""

    admin: Account | None
    everyone: list[Account]
    weights: list[float]
    featured: list[Account]
    advertisers: list[Advertiser]
    # (forum account, the site it runs, its account there)
    promoters: list[tuple[Account, SiteRow, Account]]
    leakers: list[tuple[Account, ActorRow]]
    _cumulative: list[float] = field(default_factory=list)

    def pick(self, rng: random.Random) -> Account:
        """A member drawn by weight (cumulative weights kept: thousands of draws per forum)."""
        if len(self._cumulative) != len(self.weights):
            self._cumulative = list(accumulate(self.weights))
        return rng.choices(self.everyone, cum_weights=self._cumulative)[0]


def join(
    world: WorldSoFar, book: Accounts, site: SiteRow, rng: random.Random, posts: int
) -> Members:
    """Open the forum's accounts: staff, the story's people, some vendors, background users."""
    admin = None
    operator = world.actors.get(site.operator_id or "")
    if operator is not None:
        admin = book.add(site, operator, "admin", joined_before(world, rng, 400, 900), ft.ADMIN_BIO)
        book.key_for(site, operator, admin)
    featured = world.members_of(list(site.config.get("featured") or ()))
    people = [a for a in featured if a.person] + world.story_people(FORUM_ROLES)
    vendor_home: dict[str, tuple[SiteRow, Account]] = {}
    for market in world.sites:
        if market.kind not in ("market", "shop"):
            continue
        for account in book.on(market.id):
            if account.role == "vendor" and account.actor_id not in vendor_home:
                vendor_home[account.actor_id] = (market, account)
                if world.rng("forum-join", site.id, account.actor_id).random() < 0.35:
                    people.append(world.actors[account.actor_id])
    background = world.background()
    k = min(len(background), max(10, posts // 4))
    chosen = {a.id for a in rng.sample(background, k)}
    people += [a for a in background if a.id in chosen]

    operated: dict[str, tuple[SiteRow, Account]] = {}
    for other in world.sites:
        staff = book.get(other.id, other.operator_id or "")
        if other.kind in ("market", "donation") and staff is not None:
            operated.setdefault(staff.actor_id, (other, staff))
    featured_ids = {a.id for a in featured}
    everyone, weights, advertisers, promoters, leakers, stars = [], [], [], [], [], []
    seen: set[str] = set()
    for actor in ([operator] if operator is not None else []) + people:
        if actor.id in seen:
            continue
        seen.add(actor.id)
        if admin is not None and actor.id == admin.actor_id:
            account = admin
        else:
            account = book.add(
                site, actor, "member", joined_before(world, rng, 5, 800), rng.choice(ft.MEMBER_BIOS)
            )
        if actor.has("reuses_pgp_key") and actor.id in vendor_home:
            book.key_for(site, actor, account)
        everyone.append(account)
        weights.append(5.0 if actor.id in featured_ids else 2.0 if not actor.background else 1.0)
        if actor.id in featured_ids:
            stars.append(account)
        if actor.id in vendor_home and account.role == "member":
            market, market_account = vendor_home[actor.id]
            advertisers.append(Advertiser(account, actor, market, market_account))
            account.bio = f"Vendor on {market.name}. PGP key on my market profile."
        if actor.id in operated and account is not admin:
            promoters.append((account, *operated[actor.id]))
        if actor.has("posts_personal_details"):
            leakers.append((account, actor))
    return Members(admin, everyone, weights, stars, advertisers, promoters, leakers)


def write_forum(world: WorldSoFar, book: Accounts, rows: Rows, site: SiteRow) -> None:
    """Boards, threads and posts of a forum, exactly as many as its knobs ask for."""
    rng = world.rng("forum", site.id)
    n_boards = int(site.knob("boards", DEFAULT_BOARDS))
    n_threads = int(site.knob("threads", DEFAULT_THREADS))
    # Every thread has at least its opening post.
    n_posts = max(int(site.knob("posts", DEFAULT_POSTS)), n_threads)
    members = join(world, book, site, rng, n_posts)

    kinds: list[str] = []
    first_board = len(rows.boards) + 1
    for i in range(n_boards):
        if i < len(ft.BOARDS):
            kind, name, description = ft.BOARDS[i]
        else:
            kind, name, description = "offtopic", f"General {i - len(ft.BOARDS) + 1}", "Chat."
        kinds.append(kind)
        rows.boards.append((first_board + i, site.id, name, description))

    if not members.everyone:
        return  # nobody to write threads: an empty forum with its boards
    markets = [s for s in world.sites if s.kind in ("market", "shop")]
    vendor_handles = [a.handle for s in markets for a in book.on(s.id) if a.role == "vendor"]
    year = datetime.fromtimestamp(world.start, UTC).year

    def fill(template: str, author: Account) -> str:
        """A topic template with names from this world."""
        actor = world.actors[author.actor_id]
        return template.format(
            forum=site.name,
            market=rng.choice(markets).name if markets else "the market",
            vendor=rng.choice(vendor_handles) if vendor_handles else "some vendor",
            substance=rng.choice(ft.SUBSTANCES),
            year=year,
            country=country_name(actor),
        )

    def board_for(kind: str) -> int:
        """A board of this kind, else any board other than announcements."""
        if kind in kinds:
            return kinds.index(kind)
        others = [i for i, k in enumerate(kinds) if k != "announce"] or [0]
        return rng.choice(others)

    threads: list[Thread] = []
    if members.admin is not None and "announce" in kinds:
        n_ann = min(len(ft.ANNOUNCEMENTS), max(1, n_threads // 12), n_threads)
        for title, body in rng.sample(ft.ANNOUNCEMENTS, n_ann):
            author = members.admin
            created = world.when(rng, 0.0, 0.8)
            threads.append(
                Thread(
                    board_for("announce"),
                    author,
                    fill(title, author),
                    fill(body, author),
                    created,
                    "announce",
                )
            )
    for account, other, staff in members.promoters[: max(0, n_threads - len(threads))]:
        title, body = promotion(other, staff)
        board = board_for("markets" if other.kind == "market" else "offtopic")
        threads.append(Thread(board, account, title, body, world.when(rng, 0.0, 0.5), kinds[board]))
    n_ads = min(len(members.advertisers), max(0, (n_threads - len(threads)) // 4))
    for ad in rng.sample(members.advertisers, n_ads):
        slots = vendor_slots(world, ad.actor, site_slots(ad.market))
        goods = " and ".join(sorted({mt.LABELS.get(f, c) for c, f in slots})) or "quality goods"
        values = {
            "vhandle": ad.market_account.handle,
            "market": ad.market.name,
            "goods": goods,
            "country": country_name(ad.actor),
            "policy": rng.choice(mt.POLICIES),
        }
        threads.append(
            Thread(
                board_for("vendors"),
                ad.account,
                ft.ADVERT[0].format(**values),
                ft.ADVERT[1].format(**values),
                world.when(rng, 0.0, 0.8),
                "vendors",
            )
        )
    topic_boards = [i for i, k in enumerate(kinds) if k in ft.TOPICS] or [board_for("offtopic")]
    while len(threads) < n_threads:
        board = rng.choice(topic_boards)
        kind = kinds[board] if kinds[board] in ft.TOPICS else "offtopic"
        title, body = rng.choice(ft.TOPICS[kind])
        author = members.pick(rng)
        created = world.when(rng, 0.0, 0.85)
        threads.append(
            Thread(board, author, fill(title, author), fill(body, author), created, kind)
        )
    threads.sort(key=lambda t: t.created)

    plan_replies(world, rng, members, threads, n_posts - len(threads))
    emit(rows, site, threads, first_board)


def promotion(site: SiteRow, staff: Account) -> tuple[str, str]:
    """Title and body of a thread in which an operator promotes the site they run."""
    address = f"http://{site.address}/"
    if site.kind == "market":
        fee = f"{100 * float(site.config.get('commission') or 0.03):g}%"
        return (
            f"{site.name} is open - vendors wanted, {fee} commission",
            f"{site.name} is looking for established vendors. {fee} commission, escrow on "
            f"every order, PGP 2FA for everyone. Talk to {staff.handle} (staff) on the market. "
            f"Verify the signed mirror list before logging in: {address}",
        )
    return (
        f"{site.name}: please support us",
        f"We are raising funds for the {site.name}. Donate at {address} and verify the "
        f"donation address against our PGP key on the site. Every bit helps. - {staff.handle}",
    )


def plan_replies(
    world: WorldSoFar, rng: random.Random, members: Members, threads: list[Thread], budget: int
) -> None:
    """Spread the replies over threads: leaks and featured members first, then everyone."""
    open_threads = [t for t in threads if t.kind != "announce"] or threads
    chatty = [t for t in open_threads if t.kind == "offtopic"] or open_threads

    def reply(thread: Thread, account: Account, body: str) -> None:
        """Add a reply some time after the thread started."""
        delay = int(rng.expovariate(1 / (2 * DAY)))
        when = min(world.end, thread.created + 60 + delay)
        thread.replies.append((when, account, body))

    # Planted leaks come first so a small post budget can never squeeze them out.
    for account, actor in members.leakers:
        for body in leak_posts(rng, facts_of(world, actor), FORUM_LEAKS, rng.randrange(3, 5)):
            reply(rng.choice(chatty), account, body)
            budget -= 1
    for account in members.featured:
        for _ in range(2):
            if budget <= 0:
                break
            thread = rng.choice(open_threads)
            reply(thread, account, reply_text(rng, thread))
            budget -= 1
    # Some threads run long, but no single one swallows the forum.
    popularity = list(accumulate(min(rng.paretovariate(1.5), 12.0) for _ in open_threads))
    for _ in range(max(0, budget)):
        thread = rng.choices(open_threads, cum_weights=popularity)[0]
        account = members.pick(rng)
        reply(thread, account, reply_text(rng, thread))


def reply_text(rng: random.Random, thread: Thread) -> str:
    """A short reply fitting the board, sometimes addressed to the thread's author."""
    pool = ft.REPLIES.get(thread.kind, ()) + ft.GENERIC_REPLIES
    text = rng.choice(pool)
    return f"@{thread.author.handle} {text}" if rng.random() < 0.2 else text


def emit(rows: Rows, site: SiteRow, threads: list[Thread], first_board: int) -> None:
    """Number threads and posts in time order and add their rows."""
    posts: list[tuple[int, int, int, Account, str]] = []
    for thread in threads:
        thread_id = len(rows.threads) + 1
        rows.threads.append(
            (thread_id, first_board + thread.board, thread.author.id, thread.title, thread.created)
        )
        posts.append((thread.created, thread_id, 0, thread.author, thread.body))
        for n, (when, account, body) in enumerate(sorted(thread.replies, key=lambda r: r[0])):
            posts.append((when, thread_id, n + 1, account, body))
    posts.sort(key=lambda p: (p[0], p[1], p[2]))
    for when, thread_id, _n, account, body in posts:
        rows.posts.append((len(rows.posts) + 1, site.id, thread_id, account.id, body, when))
