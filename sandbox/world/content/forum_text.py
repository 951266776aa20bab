"""The words of a darknet forum: boards, thread topics, replies and member bios."""

from __future__ import annotations

# (kind, name, description); forums use the first `boards` of these.
BOARDS = (
    ("announce", "Announcements", "News and rules from the staff. Read before posting."),
    ("drugs", "Drugs", "Substances, trip reports, testing and sourcing talk."),
    ("opsec", "Security & OPSEC", "Tails, PGP, Tor, crypto hygiene: staying safe."),
    ("vendors", "Vendors", "Vendor threads and advertising. One thread per vendor."),
    ("scams", "Scams", "Report scammers, phishing mirrors and exit scams."),
    ("offtopic", "Off-topic", "Anything else. Be nice."),
    ("markets", "Marketplaces", "Market reviews, downtime reports and mirror lists."),
    ("harm", "Harm reduction", "Dosing, test kits and safer use. No sourcing."),
    ("newbies", "Newbies", "Ask anything. There are no stupid questions."),
    ("crypto", "Crypto & privacy coins", "Bitcoin, Monero, wallets and mixing."),
    ("tech", "Tech & coding", "Servers, scripts, hardware and hidden services."),
    ("requests", "Requests", "Looking for something? Ask here."),
)

SUBSTANCES = ("MDMA", "LSD", "ketamine", "2C-B", "shrooms", "cocaine", "speed", "DMT", "xanax")

ANNOUNCEMENTS = (
    (
        "Welcome to {forum} - read the rules",
        "Welcome to {forum}.\n\n1. No doxxing.\n2. No clearnet links.\n3. Vendors advertise in "
        "the Vendors board only.\n4. Scam reports need proof.\n\nStaff will never PM you asking "
        "for money, keys or your password.",
    ),
    (
        "Mirror list updated (PGP signed)",
        "The mirror list has been updated. Always verify it against our PGP key before "
        "logging in. Phishing clones are everywhere.",
    ),
    (
        "Scheduled maintenance this weekend",
        "We will be down for a few hours this weekend to upgrade the servers. Do not panic, "
        "do not trust anyone posting 'new addresses' during the downtime.",
    ),
    (
        "Phishing warning: fake {forum} mirrors",
        "Someone is running phishing mirrors of this forum. Check the address character by "
        "character and enable 2FA with PGP.",
    ),
    (
        "New rule: no buyer-vendor deals outside escrow",
        "Deals arranged here happen at your own risk. Use escrow. We will not mediate FE deals.",
    ),
)

ADVERT = (
    "[VENDOR] {vhandle} @ {market} - {goods}",
    "Hi all, {vhandle} here. You can find me on {market} as {vhandle}. I sell {goods}, "
    "shipping from {country}. {policy} My PGP key is on my {market} profile; verify before "
    "you send your address. Reviews welcome in this thread.",
)

TOPICS: dict[str, tuple[tuple[str, str], ...]] = {
    "drugs": (
        (
            "Trip report: first time {substance}",
            "Tried {substance} for the first time last "
            "weekend with two friends. Started with a low dose, came up after 40 minutes. "
            "Honestly amazing, but the comedown was rough. Any tips for next time?",
        ),
        (
            "Reagent test results - {vendor}'s {substance}",
            "Got my order from {vendor} on "
            "{market}. Marquis went dark purple within seconds, Simon's negative. Looks legit.",
        ),
        (
            "How long does {substance} stay detectable?",
            "Got a test at work in two weeks. How long should I wait?",
        ),
        (
            "Best {substance} vendor on {market}?",
            "Looking for recommendations, last vendor went dark after I FE'd. Never again.",
        ),
    ),
    "opsec": (
        (
            "Tails vs Whonix in {year}?",
            "What do you all use? I'm on Tails from a USB stick but persistence makes me nervous.",
        ),
        (
            "Is it safe to reuse a username?",
            "I used the same nick on a gaming site years ago. Should I worry?",
        ),
        (
            "How do you store your PGP keys?",
            "Encrypted volume on a USB stick, or is that overkill?",
        ),
        (
            "Is Bitcoin traceable?",
            "People say BTC is anonymous. Others say every transaction "
            "is public forever. Which is it?",
        ),
        (
            "Photo metadata - how do you strip EXIF?",
            "New vendor here. Do markets strip EXIF from uploads or do I need to do it myself?",
        ),
        ("Do I need a VPN with Tor?", "Endless debate. What does the forum think?"),
    ),
    "scams": (
        (
            "SCAM WARNING: {vendor} on {market}",
            "Ordered twice, nothing arrived, now he asks for FE on everything. Stay away.",
        ),
        (
            "Fake {market} mirror going around",
            "Got a PM with a mirror link that asked for my "
            "withdrawal PIN. Verify the signed mirror list!",
        ),
        ("Exit scam incoming on {market}?", "Withdrawals stuck for 3 days. Anyone else?"),
    ),
    "offtopic": (
        ("Introduce yourself", "New here, say hi. Long time lurker, first post."),
        ("What are you listening to?", "Post your current tracks."),
        ("Football thread", "Anyone watching the match tonight?"),
        ("What's for dinner?", "Cooking a huge pot of chili, enough for a week."),
        ("Weather where you are", "Raining for ten days straight here."),
    ),
    "markets": (
        ("{market} down again?", "Can't reach any mirror since this morning."),
        ("{market} review after 20 orders", "Good escrow, fast disputes, fees a bit high."),
        ("Which market has the best escrow?", "Looking for a new home after the last exit."),
    ),
    "harm": (
        ("Test kits - which ones?", "Which reagents should everyone own?"),
        ("Mixing {substance} and alcohol?", "Is it as bad as people say?"),
    ),
    "newbies": (
        ("How do I use PGP?", "Vendor asks me to encrypt my address. How?"),
        ("First order - what to expect?", "How long does shipping usually take?"),
    ),
    "crypto": (
        ("Best way to buy BTC without KYC?", "Exchanges want my ID. Alternatives?"),
        ("Is mixing worth it?", "Fees are high and I hear some mixers are honeypots."),
        ("Monero or Bitcoin?", "More markets accept XMR now. Worth switching?"),
    ),
    "tech": (
        ("Running a hidden service on a VPS?", "Is it safe to host on a rented server?"),
        ("Apache server-status exposed?", "Found a site with /server-status open. Lol."),
    ),
    "requests": (
        ("Looking for {substance} vendor shipping to {country}", "Anyone reliable?"),
        ("WTB: bulk {substance}", "Looking for a vendor who does 100g+."),
    ),
}

REPLIES: dict[str, tuple[str, ...]] = {
    "drugs": (
        "Always test. Always.",
        "Start low, go slow. Sounds like a good first experience.",
        "Got the same batch, can confirm it's strong.",
        "Magnesium helps with the jaw clenching.",
        "Don't redose, that's where it goes wrong.",
    ),
    "opsec": (
        "Tails, always. Never use your home OS for this.",
        "Never reuse anything: usernames, addresses, keys.",
        "Encrypt everything and keep your mouth shut. That's 90% of OPSEC.",
        "VPN adds a trusted third party. Tor alone is fine.",
        "Strip metadata with mat2 before uploading. Never trust the market to do it.",
        "Use a fresh address for every payment, and never send straight from an exchange.",
    ),
    "vendors": (
        "Ordered last week, arrived in 3 days. Great stealth.",
        "Good vendor, communication is excellent.",
        "Any discount for forum members?",
        "Do you ship to the Nordics?",
        "Vouch. Five orders, all perfect.",
    ),
    "scams": (
        "Same here, lost 0.02 to him.",
        "Thanks for the warning.",
        "Did you open a dispute?",
        "Never FE. Lesson learned the hard way.",
    ),
    "announce": ("Thanks admin!", "Verified the signature, all good.", "Great work, staff."),
}
GENERIC_REPLIES = (
    "+1",
    "This.",
    "Thanks for sharing.",
    "Interesting, didn't know that.",
    "Agreed.",
    "Can confirm.",
    "Source?",
    "lol",
    "Bump.",
    "Good point, never thought about it that way.",
    "Same experience here.",
    "Any update on this?",
)

MEMBER_BIOS = (
    "Just here to learn.",
    "Long time lurker.",
    "PGP in profile. Don't PM me for sourcing.",
    "Psychonaut. Harm reduction first.",
    "Be kind.",
    "Nothing to see here.",
    "Tails user since 2019.",
    "Buyer, not a vendor.",
)
ADMIN_BIO = "Forum administrator. Staff will never ask for your password, keys or money."
