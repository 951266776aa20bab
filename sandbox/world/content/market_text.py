"""The words of a market: categories, a product catalogue, listing and bio phrases, feedback."""

from __future__ import annotations

import random
from dataclasses import dataclass

DEFAULT_CATEGORIES = (
    "Drugs > Cannabis",
    "Drugs > Stimulants",
    "Drugs > Ecstasy",
    "Drugs > Opioids",
    "Drugs > Psychedelics",
    "Drugs > Benzos",
    "Fraud > Cards",
    "Fraud > Accounts",
    "Fraud > Guides",
    "Digital goods",
    "Counterfeit",
    "Services",
)

# Fixed fictional exchange rate used for every XMR price in the world.
BTC_PER_XMR = 0.004


@dataclass(frozen=True)
class Product:
    """Something a vendor sells, priced per unit in BTC (about 1 BTC = 80,000 USD)."""

    name: str
    unit: str  # "g", "tabs", "pcs", "" (a single item)
    unit_btc: float
    quantities: tuple[float, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    """A kind of goods: its keywords, whether it ships, products and descriptive phrases."""

    keywords: tuple[str, ...]
    physical: bool
    weight: float  # how common it is on a market
    products: tuple[Product, ...]
    blurbs: tuple[str, ...]


def _p(name: str, unit: str, usd: float, qty: tuple[float, ...], *tags: str) -> Product:
    """A product with its per-unit price given in USD."""
    return Product(name, unit, usd / 80_000, qty, tags)


FAMILIES: dict[str, Family] = {
    "cannabis": Family(
        ("cannabis", "weed", "marijuana", "hash", "thc", "grass"),
        True,
        5.0,
        (
            _p("Amnesia Haze", "g", 9, (5, 10, 28, 56, 100), "indoor", "AAA+", "top shelf"),
            _p("Lemon Kush", "g", 10, (5, 10, 28, 100), "organic", "sticky buds", "AAA"),
            _p("Northern Lights", "g", 8, (10, 28, 56, 100), "classic", "indoor", "bulk"),
            _p("Moroccan Hash", "g", 7, (5, 10, 25, 50, 100), "soft", "double zero", "pollen"),
            _p("Purple Dream", "g", 11, (3.5, 7, 14, 28), "exotic", "craft grown", "limited"),
            _p("THC Vape Cartridge 1ml", "pcs", 35, (1, 3, 5, 10), "90% distillate", "ceramic"),
        ),
        (
            "Grown in small batches, slow cured for four weeks, no seeds, no stems.",
            "Dense frosty buds with a strong citrus smell; lab tested around 22% THC.",
            "Same supplier for two years, consistent quality every batch.",
            "Weighed on a calibrated scale, always a little over.",
        ),
    ),
    "stimulants": Family(
        ("stimulant", "cocaine", "coke", "speed", "amphetamine", "meth", "crystal"),
        True,
        4.0,
        (
            _p(
                "Cocaine 90% pure", "g", 80, (1, 3.5, 7, 14, 28), "uncut", "fishscale", "lab tested"
            ),
            _p("Amphetamine paste", "g", 12, (5, 10, 25, 50, 100), "strong", "pink paste"),
            _p("Speed sulphate", "g", 10, (10, 25, 50, 100), "dry powder", "bulk"),
            _p("Crystal meth", "g", 60, (1, 3.5, 7, 14), "shards", "high purity"),
        ),
        (
            "Reagent tested with Marquis and Simon's; pictures of the results on request.",
            "Straight from the brick, no cuts, no fillers, no stories.",
            "Strong and clean, long lasting, no jittery side effects reported.",
            "Bulk buyers get better prices, message me before ordering more than 100g.",
        ),
    ),
    "ecstasy": Family(
        ("ecstasy", "mdma", "xtc", "molly"),
        True,
        3.0,
        (
            _p("MDMA crystals 84%", "g", 35, (1, 5, 10, 25, 50), "champagne", "dutch", "rocks"),
            _p("XTC pills 'Blue Robot' 220mg", "pcs", 7, (10, 25, 50, 100, 500), "high dose"),
            _p("XTC pills 'Gold Crown' 180mg", "pcs", 6, (10, 25, 50, 100, 500), "pressed in NL"),
        ),
        (
            "Fresh batch, tested at an independent lab: no PMA, no cathinones.",
            "Half a pill is plenty for new users, please be careful and stay hydrated.",
            "Pressed with a proper die, score line on the back, hard pills that don't crumble.",
        ),
    ),
    "opioids": Family(
        ("opioid", "opiate", "heroin", "oxy", "fentanyl"),
        True,
        1.5,
        (
            _p("Heroin #4", "g", 100, (0.5, 1, 3, 5, 10), "afghan", "white"),
            _p("Oxycodone 80mg", "pcs", 30, (5, 10, 30, 60, 100), "pharma grade"),
            _p("Tramadol 200mg", "pcs", 3, (20, 50, 100, 300), "extended release"),
        ),
        (
            "Pharmacy quality, original blisters where available.",
            "Tolerance varies: start low, go slow, never use alone.",
            "Discreet packaging, no smell, blister packs removed on request.",
        ),
    ),
    "psychedelics": Family(
        ("psychedelic", "lsd", "mushroom", "shroom", "dmt", "acid", "psilocybin"),
        True,
        2.5,
        (
            _p("LSD blotters 150ug", "tabs", 9, (5, 10, 25, 50, 100), "full spectrum", "art print"),
            _p("Psilocybin mushrooms", "g", 9, (7, 14, 28, 56, 100), "golden teacher", "dried"),
            _p("DMT crystals", "g", 110, (0.5, 1, 2, 5), "extracted from MHRB", "yellow"),
            _p("1P-LSD blotters 100ug", "tabs", 7, (10, 25, 50, 100), "Ehrlich tested"),
        ),
        (
            "Each sheet is tested with Ehrlich and Hofmann reagents.",
            "Set and setting matter: read the trip guide before you start.",
            "Stored cold and dark in foil so potency stays where it should.",
        ),
    ),
    "benzos": Family(
        (
            "benzo",
            "xanax",
            "alprazolam",
            "valium",
            "diazepam",
            "sedative",
            "prescription",
            "pharma",
        ),
        True,
        2.0,
        (
            _p("Alprazolam 2mg bars", "pcs", 3, (20, 50, 100, 250, 500), "pressed", "green"),
            _p("Diazepam 10mg", "pcs", 1.2, (50, 100, 250, 500, 1000), "pharma", "blue"),
            _p("Clonazepam 2mg", "pcs", 2, (30, 60, 100, 300), "original boxes"),
        ),
        (
            "Pharmaceutical grade, correct dosage confirmed by our own testing.",
            "Do not mix with alcohol or opioids.",
            "Shipped in original blisters or in sealed bags, your choice.",
        ),
    ),
    "cards": Family(
        ("card", "cvv", "dump", "fullz", "carding"),
        False,
        2.0,
        (
            _p("CVV EU fresh", "pcs", 15, (1, 5, 10, 25, 50), "80% valid", "with billing"),
            _p("Fullz US with SSN + DOB", "pcs", 30, (1, 5, 10, 20), "credit score 700+"),
            _p("Dumps track 1/2 with PIN", "pcs", 60, (1, 3, 5, 10), "high balance"),
        ),
        (
            "Checked with our own checker before delivery; replacement within 2 hours for dead ones.",
            "Fresh base from our own sources, never resold.",
            "Includes name, address, phone, email and billing ZIP.",
        ),
    ),
    "accounts": Family(
        ("account", "login", "logins"),
        False,
        1.5,
        (
            _p("Streamly premium account", "pcs", 4, (1, 5, 10, 25, 50), "1 year warranty"),
            _p("PayFast verified account", "pcs", 60, (1, 2, 5), "with balance", "aged"),
            _p("Bank login with email access", "", 250, (1,), "high balance", "EU"),
            _p("ShopMax gift card accounts", "pcs", 12, (1, 5, 10), "auto delivery"),
        ),
        (
            "Accounts are checked right before delivery; warranty replacement if one dies.",
            "Use a clean IP from the account holder's country, or it gets locked.",
            "Delivered as email:password with cookies where available.",
        ),
    ),
    "guides": Family(
        ("guide", "tutorial", "ebook", "method"),
        False,
        1.0,
        (
            _p("Carding guide 2026", "", 40, (1,), "step by step", "beginner friendly"),
            _p("Bank drop tutorial", "", 80, (1,), "updated"),
            _p("OPSEC bible for vendors", "", 25, (1,), "300 pages"),
            _p("Cash-out method with crypto ATMs", "", 120, (1,), "private method"),
        ),
        (
            "PDF delivered instantly, lifetime updates included.",
            "Written from experience, not copied from old forums.",
            "Support over PGP-encrypted messages for the first week.",
        ),
    ),
    "digital": Family(
        ("digital", "software", "key", "ebook"),
        False,
        1.0,
        (
            _p("OfficeSuite pro license key", "pcs", 10, (1, 5, 10), "lifetime", "retail"),
            _p("Private VPN account", "pcs", 15, (1, 3, 5), "no logs", "1 year"),
            _p("Crypter FUD", "", 150, (1,), "runtime", "monthly updates"),
            _p("Premium ebook bundle", "", 20, (1,), "5000 titles"),
        ),
        (
            "Automatic delivery right after payment confirmation.",
            "Tested on the latest versions, refund if it does not work.",
            "Keys are single use, do not share them.",
        ),
    ),
    "counterfeit": Family(
        ("counterfeit", "money", "note", "replica", "fake", "bill"),
        True,
        1.5,
        (
            _p("20 EUR notes A-grade", "pcs", 7, (10, 25, 50, 100), "passes pen test", "UV"),
            _p("50 EUR notes A-grade", "pcs", 15, (10, 20, 50), "hologram strip"),
            _p("Replica luxury watch", "", 150, (1,), "automatic movement", "sapphire glass"),
            _p("100 USD notes", "pcs", 30, (5, 10, 25), "cotton paper"),
        ),
        (
            "Printed on cotton-based paper with watermark and security thread.",
            "Passes pen and UV tests, do not try them in banks.",
            "Shipped flat between cardboard, in a business-style envelope.",
        ),
    ),
    "documents": Family(
        ("document", "passport", "licence", "license", "id card", "ids"),
        True,
        0.8,
        (
            _p("EU ID card template", "", 60, (1,), "PSD", "layered"),
            _p("Driving licence (physical)", "", 600, (1,), "scannable", "hologram"),
            _p("Utility bill with your details", "", 40, (1,), "PDF", "24h"),
        ),
        (
            "Made to order with your details, allow 7-10 days.",
            "Scannable barcodes, holograms and UV features.",
            "Send details PGP encrypted only.",
        ),
    ),
    "services": Family(
        ("service", "hacking", "hack", "drop", "laundering"),
        False,
        1.0,
        (
            _p("Email account recovery", "", 400, (1,), "any provider", "discreet"),
            _p("Website DDoS stress test", "", 80, (1,), "1 hour", "layer 7"),
            _p("EU drop address service", "", 200, (1,), "reshipping"),
            _p("Crypto to cash exchange", "", 300, (1,), "EU cities", "face to face"),
        ),
        (
            "Payment through escrow only; I never ask for FE on services.",
            "Send a detailed request by PM before ordering.",
            "Results in 24 to 72 hours depending on the target.",
        ),
    ),
}

LABELS = {
    "cannabis": "weed and hash",
    "stimulants": "coke and speed",
    "ecstasy": "MDMA and pills",
    "opioids": "opioids",
    "psychedelics": "LSD and shrooms",
    "benzos": "benzos",
    "cards": "cards and fullz",
    "accounts": "premium accounts",
    "guides": "guides and methods",
    "digital": "software and keys",
    "counterfeit": "notes and replicas",
    "documents": "documents",
    "services": "services",
}

GENERIC = Family(
    (),
    True,
    1.0,
    (
        _p("{category} starter pack", "", 40, (1,), "best seller"),
        _p("{category} bulk lot", "pcs", 6, (10, 25, 50), "wholesale"),
        _p("{category} premium", "", 120, (1,), "limited stock"),
    ),
    (
        "Quality you can trust, hundreds of happy customers.",
        "Message me for custom orders and bulk prices.",
    ),
)

SHIPPING = (
    "Ships from {country} within 24 hours on business days, cut-off 2 pm.",
    "Dispatched from {country} Monday to Friday; tracking available on request.",
    "Shipping from {country}: vacuum sealed twice, smell proof, professional stealth.",
    "Sent from {country} in moisture barrier bags inside a business-style envelope.",
)
DIGITAL_DELIVERY = (
    "Instant automatic delivery after escrow confirms the payment.",
    "Delivered by PM within a few hours, 7 days a week.",
    "Digital delivery, check your messages after ordering.",
)
POLICIES = (
    "No FE for new buyers.",
    "FE only for buyers with 20+ orders and good feedback.",
    "Escrow only, I never ask for finalize early.",
    "Reship once if lost in the mail, 50% reship if seized (proof needed).",
    "No refunds for wrong addresses, double check before ordering.",
    "Orders without encrypted address will be cancelled.",
)
PGP_NOTES = (
    "Always encrypt your address with my PGP key (see my profile).",
    "PGP mandatory. My key is on my profile, verify it against the forum post.",
    "Use my PGP key for everything; unencrypted addresses get deleted.",
)
VENDOR_BIO_OPENERS = (
    "Welcome to {handle}.",
    "{handle} - trusted vendor since {year}.",
    "Hi, {handle} here.",
    "{handle}: quality first, always.",
    "Professional vendor, {years} years in the game.",
)
VENDOR_BIO_CLOSERS = (
    "Open Monday to Saturday, I answer messages within 24h.",
    "Bulk prices on request.",
    "Stealth tested in all of Europe.",
    "Vacation mode from time to time; orders placed then ship on my return.",
    "Check my feedback, it speaks for itself.",
)
ADMIN_BIOS = (
    "Market administrator. I will never PM you first asking for money or keys.",
    "Staff. Disputes are handled within 48 hours. Read the rules before opening a ticket.",
    "Admin. Always verify the mirror list with our PGP key.",
)
BUYER_BIOS = (
    "Just a buyer.",
    "Buyer. I leave honest feedback.",
    "Long time customer, short time poster.",
)
SHIPS_TO = ("Worldwide", "Europe", "EU", "Worldwide except USA and Australia", "{country} only")
NON_EUROPE = ("United States", "Australia", "Canada", "Brazil", "Mexico", "India", "China", "Japan")


def ships_to(rng: random.Random, country: str) -> str:
    """Where a vendor in country ships to, never excluding or missing their own country."""
    options: tuple[str, ...] = (
        SHIPS_TO if country not in NON_EUROPE else ("Worldwide", "{country} only")
    )
    if country in ("United States", "Australia"):
        options = tuple(o for o in options if "except" not in o)
    return rng.choice(options).format(country=country)


FEEDBACK = {
    5: (
        "Stealth on point, arrived in 3 days. Will order again.",
        "Great product, exactly as described. A+++",
        "Fast shipping, good weight, excellent communication.",
        "Top vendor, second order and again perfect.",
        "Arrived next day, very professional packaging.",
        "Quality is amazing, best I had in years.",
        "Slight delay but vendor kept me informed. Recommended.",
        "Good stuff, good price, good stealth. 5/5",
        "Everything fine, thanks!",
        "Delivered as described, instant delivery.",
    ),
    4: (
        "Good product, shipping took a bit longer than stated.",
        "Nice quality, stealth could be better.",
        "All good, weight a tiny bit under but fine.",
    ),
    3: (
        "Average quality, not as strong as described.",
        "Took 12 days to arrive. Product ok.",
    ),
    2: (
        "Weight was 0.3 short and vendor ignored my message.",
        "Meh. Would not order again.",
    ),
    1: (
        "Never arrived, vendor refuses reship. Avoid.",
        "Scam! No tracking, no answer.",
        "Dead cards, no replacement.",
        "Package seized, vendor blamed me.",
    ),
}
RATING_WEIGHTS = {5: 78, 4: 10, 3: 4, 2: 3, 1: 5}


def mask(handle: str) -> str:
    """How escrow markets show a buyer's handle on feedback: "b***r"."""
    return f"{handle[0]}***{handle[-1]}" if len(handle) > 1 else f"{handle}***"


def family_for(category: str) -> list[str]:
    """The families a site category stands for: the most specific match first, else all of a top level."""
    parts = [p.strip().lower() for p in category.split(">")]
    for part in reversed(parts):
        hits = [name for name, fam in FAMILIES.items() if any(k in part for k in fam.keywords)]
        if hits:
            return hits[:1]
    whole = " ".join(parts)
    if "drug" in whole:
        return ["cannabis", "stimulants", "ecstasy", "psychedelics", "benzos", "opioids"]
    if "fraud" in whole:
        return ["cards", "accounts", "guides"]
    return ["generic"]


def family(name: str) -> Family:
    """The family of this name (GENERIC for unknown categories)."""
    return FAMILIES.get(name, GENERIC)


def fmt_qty(qty: float, unit: str) -> str:
    """A quantity as vendors write it: "3.5g", "25 tabs", "10 x"."""
    text = f"{qty:g}"
    if unit == "g":
        return f"{text}g"
    if unit == "tabs":
        return f"{text} tabs"
    if unit == "pcs":
        return f"{text} x"
    return ""


def listing_title(rng: random.Random, product: Product, qty: float, category: str) -> str:
    """A listing title in one of the shapes vendors use."""
    name = product.name.format(category=category.split(">")[-1].strip())
    q = fmt_qty(qty, product.unit)
    tag = rng.choice(product.tags)
    shapes = (
        f"{q} {name} | {tag}",
        f"{name} {q} - {tag.upper()}",
        f"*** {q} {name} *** {tag}",
        f"{q} {name} ({tag}) - free shipping",
        f"[{tag.upper()}] {name} {q}",
    )
    return " ".join(rng.choice(shapes).split())


def price(rng: random.Random, product: Product, qty: float) -> float:
    """Price in BTC with a bulk discount and some vendor noise, within 0.0005-0.2."""
    value = product.unit_btc * qty**0.9 * rng.uniform(0.8, 1.25)
    value = min(0.2, max(0.0005, value))
    return round(value, 5 if value < 0.01 else 4)
