"""Markets and vendor shops: vendor accounts, listings, product photos and feedback."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.world.content import market_text as mt
from sandbox.world.content.accounts import Account, Accounts, Rows, joined_before
from sandbox.world.content.geo import CAMERAS, camera_serial, city_coordinates, country_name, jitter
from sandbox.world.content.handles import member_handle
from sandbox.world.content.world import DAY, ActorRow, SiteRow, WorldSoFar

SCENES = (
    "on a digital scale",
    "in a vacuum-sealed bag",
    "next to a handwritten note saying '{handle}' and today's date",
    "on a wooden table",
    "close-up under bright light",
    "spread out on a black cloth",
)


@dataclass
class Vendor:
    """A vendor account on one site, what it sells, and how big a vendor it is."""

    account: Account
    actor: ActorRow
    slots: list[tuple[str, str]]  # (site category, family name)
    weight: float


@dataclass(frozen=True)
class Camera:
    """The camera an actor photographs products with, and where they live."""

    make: str
    model: str
    pattern: str
    serial: str
    home: tuple[float, float]


def site_slots(site: SiteRow) -> list[tuple[str, str]]:
    """Every (category, family) the site offers, from its categories or the default set."""
    categories = list(site.config.get("categories") or mt.DEFAULT_CATEGORIES)
    return [(c, f) for c in categories for f in mt.family_for(c)]


def vendor_slots(world: WorldSoFar, actor: ActorRow, slots: list[tuple[str, str]]) -> list:
    """The one or two kinds of goods this vendor sells, the same choice on every site."""
    rng = world.rng("taste", actor.id)
    # Weighted random order (Efraimidis-Spirakis) over every family, drawn in a fixed order so
    # the vendor keeps the same taste on sites with different categories.
    score = {f: rng.random() ** (1 / mt.family(f).weight) for f in [*mt.FAMILIES, "generic"]}
    offered = sorted({f for _, f in slots}, key=lambda f: -score[f])
    chosen = set(offered[: 1 if rng.random() < 0.6 else 2])
    return [s for s in slots if s[1] in chosen]


def camera_of(world: WorldSoFar, actor: ActorRow) -> Camera:
    """The actor's camera and home coordinates; the serial links all their photos."""
    rng = world.rng("camera", actor.id)
    make, model, pattern = rng.choice(CAMERAS)
    lat, lon = city_coordinates(actor)
    return Camera(make, model, pattern, camera_serial(rng, make), jitter(rng, lat, lon, 0.02))


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split total into integer shares proportional to weights, at least one each when possible."""
    n = len(weights)
    if n == 0 or total <= 0:
        return [0] * n
    if total < n:
        top = sorted(range(n), key=lambda i: (-weights[i], i))[:total]
        return [1 if i in top else 0 for i in range(n)]
    rest = total - n
    whole = sum(weights)
    exact = [w / whole * rest for w in weights]
    counts = [1 + math.floor(x) for x in exact]
    left = total - sum(counts)
    by_remainder = sorted(range(n), key=lambda i: (-(exact[i] - math.floor(exact[i])), i))
    for i in by_remainder[:left]:
        counts[i] += 1
    return counts


def vendor_bio(rng: random.Random, account: Account, country: str, slots: list, joined: int) -> str:
    """A vendor profile text: greeting, what they sell, shipping, PGP and FE policy."""
    year = datetime.fromtimestamp(joined, UTC).year
    goods = sorted({mt.LABELS.get(f, c.split(">")[-1].strip().lower()) for c, f in slots})
    physical = any(mt.family(f).physical for _, f in slots)
    parts = [
        rng.choice(mt.VENDOR_BIO_OPENERS).format(
            handle=account.handle, year=year, years=rng.randrange(2, 8)
        ),
        f"Specialised in {' and '.join(goods)}.",
        rng.choice(mt.SHIPPING if physical else mt.DIGITAL_DELIVERY).format(country=country),
        rng.choice(mt.PGP_NOTES),
        "No FE for new buyers." if rng.random() < 0.6 else rng.choice(mt.POLICIES),
        rng.choice(mt.VENDOR_BIO_CLOSERS),
    ]
    return " ".join(parts)


def open_accounts(world: WorldSoFar, book: Accounts, site: SiteRow) -> list[Vendor]:
    """Admin, vendors and buyers of a market (or the owner of a shop), with keys and addresses."""
    rng = world.rng("accounts", site.id)
    operator = world.actors.get(site.operator_id or "")
    sellers = world.site_vendors(site)
    if site.kind == "shop" and operator is not None:
        sellers = [operator] + [a for a in sellers if a.id != operator.id]
    if site.kind == "market" and operator is not None:
        admin = book.add(
            site, operator, "admin", joined_before(world, rng, 500, 900), rng.choice(mt.ADMIN_BIOS)
        )
        book.key_for(site, operator, admin)
    groups = world.scenario_groups
    slots = site_slots(site)
    vendors: list[Vendor] = []
    for actor in sellers:
        mine = vendor_slots(world, actor, slots)
        country = country_name(actor)
        joined = joined_before(world, rng, 20, 700)
        account = book.add(
            site, actor, "vendor", joined, "", style="vendor", location=f"Ships from {country}"
        )
        if not account.bio:
            account.bio = vendor_bio(rng, account, country, mine, joined)
        book.key_for(site, actor, account)
        if actor.has("reuses_address"):
            account.btc_address_id = world.published.get((actor.id, "personal", ""))
        # Pareto sizes make a few big vendors; the story's own vendors are among them.
        weight = rng.paretovariate(1.16) * (3.0 if actor.grp in groups else 1.0)
        vendors.append(Vendor(account, actor, mine, weight))
    for flow in world.scenario.flows:
        if flow.kind == "purchase" and flow.site == site.id:
            for buyer in world.members_of([flow.source]):
                if buyer.person and book.get(site.id, buyer.id) is None:
                    book.add(
                        site,
                        buyer,
                        "buyer",
                        joined_before(world, rng, 1, 300),
                        rng.choice(mt.BUYER_BIOS),
                    )
    return vendors


def write_market(world: WorldSoFar, book: Accounts, rows: Rows, site: SiteRow) -> None:
    """Everything a market or shop shows: accounts, listings, photos and feedback."""
    vendors = open_accounts(world, book, site)
    default_total = 8 * len(vendors)
    total = int(site.knob("listings", default_total))
    counts = allocate(total, [v.weight for v in vendors])
    xmr = "XMR" in (site.config.get("currencies") or ("BTC",))
    planted_site = site.has_mistake("exif_gps")
    for vendor, count in zip(vendors, counts, strict=True):
        rng = world.rng("listings", site.id, vendor.actor.id)
        camera = camera_of(world, vendor.actor)
        planted = planted_site or vendor.actor.has("exif_gps")
        country = country_name(vendor.actor)
        ratings: list[int] = []
        titles: set[str] = set()
        for _ in range(count):
            category, fam_name = rng.choice(vendor.slots)
            fam = mt.family(fam_name)
            for _attempt in range(5):
                product = rng.choice(fam.products)
                qty = rng.choice(product.quantities)
                title = mt.listing_title(rng, product, qty, category)
                if title not in titles:
                    break
            titles.add(title)
            price = mt.price(rng, product, qty)
            description = "\n\n".join(
                [
                    " ".join(rng.sample(fam.blurbs, min(2, len(fam.blurbs)))),
                    rng.choice(mt.SHIPPING if fam.physical else mt.DIGITAL_DELIVERY).format(
                        country=country
                    ),
                    rng.choice(mt.POLICIES),
                    rng.choice(mt.PGP_NOTES),
                ]
            )
            created = world.when(rng, 0.0, 0.6)
            listing_id = len(rows.listings) + 1
            rows.listings.append(
                (
                    listing_id,
                    site.id,
                    vendor.account.id,
                    category,
                    title,
                    description,
                    price,
                    round(price / mt.BTC_PER_XMR, 4) if xmr else None,
                    country if fam.physical else None,
                    mt.ships_to(rng, country) if fam.physical else "Worldwide",
                    rng.choice((rng.randrange(1, 20), rng.randrange(20, 500), 999)),
                    created,
                )
            )
            subject = f"{mt.fmt_qty(qty, product.unit)} {product.name}".strip()
            if not fam.physical:
                subject = f"Laptop screen showing {product.name}"
            add_photos(rng, rows, site, listing_id, vendor, subject, created, camera, planted)
            ratings += add_feedback(world, rng, rows, listing_id, created, vendor.weight)
        account = vendor.account
        account.sales = len(ratings) + rng.randrange(0, 2 * len(ratings) + 10)
        account.rating = round(sum(ratings) / len(ratings), 2) if ratings else None


def add_photos(
    rng: random.Random,
    rows: Rows,
    site: SiteRow,
    listing_id: int,
    vendor: Vendor,
    subject: str,
    created: int,
    camera: Camera,
    planted: bool,
) -> None:
    """One or two product photos; EXIF (GPS, camera, serial) survives only where planted."""
    for _ in range(1 if rng.random() < 0.6 else 2):
        scene = rng.choice(SCENES).format(handle=vendor.account.handle)
        text = subject if subject.startswith("Laptop") else f"{subject} {scene}"
        photo_id = len(rows.photos) + 1
        if not planted:
            # Markets that strip metadata also rename uploads to a hash.
            name = f"{rng.getrandbits(64):016x}.jpg"
            rows.photos.append(
                (photo_id, site.id, listing_id, name, text, None, None, None, None, None, None)
            )
            continue
        taken = created - rng.randrange(3600, 5 * DAY)
        number = rows.photo_counter.get(vendor.actor.id, 100 + rng.randrange(9000))
        rows.photo_counter[vendor.actor.id] = number + rng.randrange(1, 4)
        moment = datetime.fromtimestamp(taken, UTC)
        name = camera.pattern.format(n=number % 10_000, t=moment)
        lat, lon = jitter(rng, *camera.home, 0.0015)
        rows.photos.append(
            (
                photo_id,
                site.id,
                listing_id,
                name,
                text,
                lat,
                lon,
                camera.make,
                camera.model,
                camera.serial,
                taken,
            )
        )


def add_feedback(
    world: WorldSoFar,
    rng: random.Random,
    rows: Rows,
    listing_id: int,
    created: int,
    weight: float,
) -> list[int]:
    """Buyer feedback on a listing, bigger vendors getting more; returns the ratings given."""
    mean = 1.5 + 3.0 * min(weight, 6.0) / 6.0
    count = min(40, int(rng.expovariate(1 / mean)))
    stars = list(mt.RATING_WEIGHTS)
    weights = list(mt.RATING_WEIGHTS.values())
    given: list[int] = []
    for _ in range(count):
        rating = rng.choices(stars, weights)[0]
        when = created + int((world.end - created) * rng.random())
        rows.feedback.append(
            (
                len(rows.feedback) + 1,
                listing_id,
                mt.mask(member_handle(rng)),
                rating,
                rng.choice(mt.FEEDBACK[rating]),
                when,
            )
        )
        given.append(rating)
    return given
