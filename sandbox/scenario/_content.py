"""Checks of the texts a scenario writes on its sites: descriptions, forum boards, channels.

These texts are the same for every seat (a site is shared by the class), so their
placeholders name actors, sites and flows by id, never `seat` or a seat variable. They run
with the course checks, whose placeholder machinery they share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._checks import Doc, Path, _unknown, _world_days

# The kinds of site that take channels, and a list of boards.
CHANNEL_KINDS = ("social",)
FORUM_KINDS = ("forum",)


@dataclass
class Texts:
    """What the checks of the sites' texts need from the course checks."""

    doc: Doc
    actors: dict[str, dict]  # usable actor id -> {count, role, ...}
    sites: dict[str, dict]  # usable site id -> {kind, index, ...}
    flows: dict[str, dict]  # flow id -> {from, to}
    # Checks a text's placeholders, which must not name the seat or a seat variable.
    placeholders_shared: Callable[[Path, str | None], None]
    # Checks that an actor reference names one actor (or a group's member).
    actor: Callable[[Path, str], object]


def check_content(texts: Texts) -> None:
    """Every site's own texts: placeholders, writers, days, and the donation bots' flows."""
    doc = texts.doc
    days = _world_days(doc)
    for i, _item in doc.items("sites"):
        p: Path = ("sites", i)
        kind = doc.get(*p, "kind", kind=str)
        texts.placeholders_shared(p + ("description",), doc.get(*p, "description", kind=str))
        if doc.get(*p, "boards", kind=list) is not None:
            _forum(texts, p, kind, days)
        channels = doc.get(*p, "channels", kind=list)
        if channels is None:
            continue
        if kind is not None and kind not in CHANNEL_KINDS:
            doc.report(
                p + ("channels",), f"channels are on social sites (kind: social), not a {kind}"
            )
        seen: dict[str, int] = {}
        for j, _c in enumerate(channels):
            c: Path = p + ("channels", j)
            if doc.get(*c, kind=dict) is None:
                continue
            channel_id = doc.get(*c, "id", kind=str)
            if channel_id is not None and channel_id in seen:
                doc.report(
                    c + ("id",),
                    f"duplicate channel id '{channel_id}' on this site (first at line "
                    f"{doc.line(p + ('channels', seen[channel_id]))})",
                )
            elif channel_id is not None:
                seen[channel_id] = j
            _channel(texts, c, days)


def _forum(texts: Texts, p: Path, kind: str | None, days: int | None) -> None:
    """`boards:` as a list: the scenario's boards, threads and posts, on a forum only."""
    doc = texts.doc
    if kind is not None and kind not in FORUM_KINDS:
        doc.report(
            p + ("boards",),
            f"a list of boards with threads is for forums (kind: forum), not a {kind}",
        )
    for key in ("threads", "posts"):
        if kind in FORUM_KINDS and doc.get(*p, key) is not None:
            doc.report(
                p + (key,),
                f"{key} counts the generated content of a forum; with boards: given as a list "
                f"the forum holds exactly the threads and posts written there (remove {key})",
            )
    for j, _b in enumerate(doc.get(*p, "boards", kind=list) or ()):
        b: Path = p + ("boards", j)
        if doc.get(*b, kind=dict) is None:
            continue
        for key in ("name", "description"):
            texts.placeholders_shared(b + (key,), doc.get(*b, key, kind=str))
        for k, _t in enumerate(doc.get(*b, "threads", kind=list) or ()):
            t: Path = b + ("threads", k)
            if doc.get(*t, kind=dict) is None:
                continue
            texts.placeholders_shared(t + ("title",), doc.get(*t, "title", kind=str))
            _writer(texts, t + ("by",))
            opened = _day(texts, t + ("day",), days)
            if opened is None and doc.get(*t, "day") is None:
                opened = 0.0
            for m, _q in enumerate(doc.get(*t, "posts", kind=list) or ()):
                q: Path = t + ("posts", m)
                if doc.get(*q, kind=dict) is None:
                    continue
                _writer(texts, q + ("by",))
                texts.placeholders_shared(q + ("text",), doc.get(*q, "text", kind=str))
                day = _day(texts, q + ("day",), days)
                if day is not None and opened is not None and day < opened:
                    doc.report(
                        q + ("day",),
                        f"day {day:g} is before the thread starts (its day: {opened:g}); a "
                        "reply comes after the post that opens the thread",
                    )


def _channel(texts: Texts, c: Path, days: int | None) -> None:
    """One channel: its writer, posts, chat lines and donation bot."""
    doc = texts.doc
    for key in ("name", "description"):
        texts.placeholders_shared(c + (key,), doc.get(*c, key, kind=str))
    _writer(texts, c + ("actor",))
    for key, writer in (("posts", None), ("chat", "from")):
        for k, _l in enumerate(doc.get(*c, key, kind=list) or ()):
            q: Path = c + (key, k)
            if doc.get(*q, kind=dict) is None:
                continue
            if writer:
                _writer(texts, q + (writer,))
            _day(texts, q + ("day",), days)
            texts.placeholders_shared(q + ("text",), doc.get(*q, "text", kind=str))
    bot: Path = c + ("donation_bot",)
    if doc.get(*bot, kind=dict) is None:
        return
    texts.placeholders_shared(bot + ("reply",), doc.get(*bot, "reply", kind=str))
    flow_id = doc.get(*bot, "flow", kind=str)
    if flow_id is not None:
        _bot_flow(texts, bot + ("flow",), flow_id)


def _writer(texts: Texts, path: Path) -> None:
    """The actor at path writes a text: one actor of the scenario (or a group's member)."""
    ref = texts.doc.get(*path, kind=str)
    if ref is None:
        return
    count = texts.actors.get(ref, {}).get("count", 1)
    if count > 1:
        texts.doc.report(
            path, f"'{ref}' is a group of {count}; name one actor, or a member such as '{ref}-1'"
        )
    else:
        texts.actor(path, ref)


def _day(texts: Texts, path: Path, days: int | None) -> float | None:
    """The day at path, reported when after the world's end; None when absent or rejected."""
    day = texts.doc.get(*path, kind=(int, float))
    if day is not None and days is not None and day > days:
        texts.doc.report(path, f"day {day:g} is after the world's last day (world.days: {days})")
    return None if day is None else float(day)


def _bot_flow(texts: Texts, path: Path, flow_id: str) -> None:
    """A donation bot hands out the per-donor addresses of a donation flow's campaign."""
    doc = texts.doc
    found = [
        i
        for i, _f in doc.items("flows")
        if (doc.get("flows", i, "id", kind=str) or f"{doc.get('flows', i, 'kind')}-{i + 1}")
        == flow_id
    ]
    if not found:
        if flow_id not in texts.flows:
            _unknown(doc, path, "flow", flow_id, texts.flows)
        return
    i = found[0]
    kind = doc.get("flows", i, "kind", kind=str)
    site_id = doc.get("flows", i, "site", kind=str)
    if kind != "donation":
        if kind is not None:
            doc.report(
                path,
                f"'{flow_id}' is a {kind} flow; the bot hands out the addresses of a donation "
                "flow's campaign",
            )
        return
    site = texts.sites.get(site_id or "")
    if site is None:
        return  # the flow's own checks report its site
    s = site["index"]
    per_donor = doc.get("sites", s, "fresh_address_per_donor") is True
    switch = doc.get("sites", s, "fresh_address_from_day", kind=(int, float))
    if not per_donor and switch is None:
        doc.report(
            path,
            f"flow '{flow_id}' is made on '{site_id}', which publishes one address: a bot "
            "giving each donor a fresh address needs fresh_address_per_donor: true (or "
            f"fresh_address_from_day) on site '{site_id}'",
        )
