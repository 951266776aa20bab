"""The clearnet social network and paste site, where careless people are themselves."""

from __future__ import annotations

import random

from sandbox.text import ascii_fold
from sandbox.world.content.accounts import Account, Accounts, Rows, joined_before
from sandbox.world.content.geo import country_name
from sandbox.world.content.leaks import SOCIAL_LEAKS, Facts, facts_of, leak_posts
from sandbox.world.content.world import ActorRow, SiteRow, WorldSoFar

DEFAULT_POSTS = {"social": 60, "paste": 30}
INTERESTS = (
    "coffee", "cycling", "football", "hiking", "photography", "cooking", "gaming", "running",
    "crypto", "music", "films", "gardening", "travel", "fishing", "dogs", "cars",
)  # fmt: skip
SOCIAL_CHATTER = (
    "Monday again. Coffee number three.",
    "Anyone watching the game tonight?",
    "New recipe attempt: homemade ramen. Verdict: 7/10.",
    "Best pizza in {city}? Go.",
    "Finished a 10k run today! Legs are jelly.",
    "Reading recommendations? Just finished a great thriller.",
    "The train was late again. Every. Single. Day.",
    "Garden update: the tomatoes are finally growing.",
    "Anyone selling two tickets for Saturday's concert?",
    "Rainy Sunday, blanket, series. Perfect.",
    "Happy birthday to my best friend, you know who you are!",
    "Why is the printer always broken when you need it most.",
)
PASTES = (
    "#!/bin/sh\n# nightly backup\ntar czf /backup/home-$(date +%F).tgz /home\n"
    "find /backup -mtime +14 -delete\n",
    "server {{\n    listen 80;\n    server_name {word}.test;\n    root /var/www/{word};\n"
    "    index index.html;\n}}\n",
    "shopping list\n- milk\n- eggs\n- coffee beans\n- batteries (AA)\n- {word} for the party\n",
    "import requests\n\nfor page in range(1, 11):\n    r = requests.get(f'http://localhost:8080/"
    "api/items?page={{page}}')\n    print(page, r.status_code, len(r.json()))\n",
    '{{\n  "name": "{word}",\n  "version": "1.0.{n}",\n  "private": true,\n'
    '  "scripts": {{ "start": "node server.js" }}\n}}\n',
    "meeting notes\n- budget approved\n- {word} launch moved to next month\n- ask IT about VPN\n",
    "SELECT id, email, created_at FROM users WHERE last_login < now() - interval '90 days';\n",
)
PASTE_WORDS = ("orion", "maple", "atlas", "pixel", "nimbus", "ember", "delta", "falcon", "juniper")
PASTE_LEAK = (
    "todo\n- pick up {kid} at 3:15 (school closes early before {holiday})\n"
    "- call the garage about the {colour} {car}\n- swap shifts, work as {job} is crazy this week\n"
    "- {city} recycling centre on Saturday\n"
)


def analytics_snippet(actor: ActorRow, analytics_id: str) -> str:
    """The <head> of the operator's personal blog, carrying the same analytics id as the hidden service."""
    first = actor.name.split()[0]
    slug = "".join(c for c in ascii_fold(actor.name).lower() if c.isalnum()) or "myblog"
    if analytics_id.startswith("UA-"):
        tracker = (
            "  <script>\n"
            "    (function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;i[r]=i[r]||function(){\n"
            "    (i[r].q=i[r].q||[]).push(arguments)},i[r].l=1*new Date();a=s.createElement(o),\n"
            "    m=s.getElementsByTagName(o)[0];a.async=1;a.src=g;m.parentNode.insertBefore(a,m)\n"
            "    })(window,document,'script','/js/analytics.js','ga');\n"
            f"    ga('create', '{analytics_id}', 'auto');\n"
            "    ga('send', 'pageview');\n"
            "  </script>\n"
        )
    else:
        tracker = (
            f'  <script async src="/js/gtag.js?id={analytics_id}"></script>\n'
            "  <script>\n"
            "    window.dataLayer = window.dataLayer || [];\n"
            "    function gtag(){dataLayer.push(arguments);}\n"
            "    gtag('js', new Date());\n"
            f"    gtag('config', '{analytics_id}');\n"
            "  </script>\n"
        )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n'
        '  <meta charset="utf-8">\n'
        f"  <title>{first}'s notes</title>\n"
        f'  <meta name="author" content="{actor.name}">\n'
        f'  <link rel="canonical" href="https://{slug}.blog.test/">\n'
        f"{tracker}</head>\n"
    )


def analytics_targets(world: WorldSoFar) -> dict[str, list[SiteRow]]:
    """For each clearnet site, the sites whose operator shows their blog's analytics id there."""
    clearnet = [s for s in world.sites if s.kind == "social"]
    clearnet += [s for s in world.sites if s.kind == "paste"]
    targets: dict[str, list[SiteRow]] = {}
    if not clearnet:
        return targets
    for site in world.sites:
        if site.analytics_id and site.operator_id in world.actors:
            targets.setdefault(clearnet[0].id, []).append(site)
    return targets


def profile(world: WorldSoFar, rng: random.Random, site: SiteRow, actor: ActorRow) -> tuple:
    """Bio and location of a profile: reusers show their real name and city."""
    likes = ", ".join(rng.sample(INTERESTS, 3))
    if site.kind == "paste":
        return f"Pastes and snippets. Into {likes}.", None
    city = actor.city or country_name(actor)
    if actor.has("reuses_username") or (actor.background and rng.random() < 0.5):
        return f"{actor.name} · {city} · {likes}", city
    return f"{actor.name.split()[0]} · {likes}", country_name(actor)


def write_clearnet(
    world: WorldSoFar, book: Accounts, rows: Rows, site: SiteRow, shows_analytics: list[SiteRow]
) -> None:
    """Profiles and posts of a social or paste site, including the planted leaks."""
    rng = world.rng("clearnet", site.id)
    n_posts = int(site.knob("posts", DEFAULT_POSTS.get(site.kind, 40)))
    featured = [a for a in world.members_of(list(site.config.get("featured") or ())) if a.person]
    people = featured + world.story_people(per_group=10)
    # The scenario checks give every site that shows analytics an operator and an id.
    leaks = [(s, s.operator_id or "", s.analytics_id or "") for s in shows_analytics]
    operators = [world.actors[operator_id] for _, operator_id, _ in leaks]
    background = world.background()
    k = min(len(background), max(10, n_posts // 3))
    chosen = {a.id for a in rng.sample(background, k)}
    accounts: list[Account] = []
    seen: set[str] = set()
    for actor in operators + people + [a for a in background if a.id in chosen]:
        if actor.id in seen:
            continue
        seen.add(actor.id)
        bio, location = profile(world, rng, site, actor)
        joined = joined_before(world, rng, 30, 2500)
        accounts.append(book.add(site, actor, "member", joined, bio, location=location))

    posts: list[tuple[int, Account, str]] = []
    for _, operator_id, analytics_id in leaks:
        operator = world.actors[operator_id]
        html = analytics_snippet(operator, analytics_id)
        body = (
            f"Finally redid my blog theme. Here's the head if anyone wants the layout:\n\n{html}"
            if site.kind == "social"
            else f"<!-- blog theme backup -->\n{html}"
        )
        account = book.get(site.id, operator.id)
        assert account is not None  # every operator got an account above
        posts.append((world.when(rng, 0.1, 0.9), account, body))
    named = [a for a in accounts if not world.actors[a.actor_id].background]
    for account in named:
        actor = world.actors[account.actor_id]
        if actor.has("posts_personal_details"):
            for body in personal_posts(rng, site, facts_of(world, actor)):
                posts.append((world.when(rng), account, body))
    # The planted posts are always written; ordinary ones fill the rest of the `posts` knob,
    # featured people first, then one each for the story's people, then the crowd.
    budget = n_posts - len(posts)
    featured_ids = {a.id for a in featured}
    ordinary = [a for a in named if a.actor_id in featured_ids] * 4 + named
    crowd = [a for a in accounts if world.actors[a.actor_id].background] or accounts
    for n in range(max(0, budget) if accounts else 0):
        account = ordinary[n] if n < len(ordinary) else rng.choice(crowd)
        posts.append((world.when(rng), account, chatter(rng, site, world.actors[account.actor_id])))
    posts.sort(key=lambda p: (p[0], p[1].id))
    for when, account, body in posts:
        rows.posts.append((len(rows.posts) + 1, site.id, None, account.id, body, when))


def personal_posts(rng: random.Random, site: SiteRow, facts: Facts) -> list[str]:
    """What a careless person gives away: several posts, or one to-do list on a paste site."""
    if site.kind == "paste":
        return [facts.fill(PASTE_LEAK)]
    return leak_posts(rng, facts, SOCIAL_LEAKS, rng.randrange(3, 5))


def chatter(rng: random.Random, site: SiteRow, actor: ActorRow) -> str:
    """An everyday post or paste that gives nothing away."""
    if site.kind == "paste":
        return rng.choice(PASTES).format(word=rng.choice(PASTE_WORDS), n=rng.randrange(30))
    return rng.choice(SOCIAL_CHATTER).format(city=actor.city or country_name(actor))
