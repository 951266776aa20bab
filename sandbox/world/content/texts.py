"""The scenario's own words on its sites: descriptions, forum boards and threads, channels.

A site whose scenario writes nothing keeps the built-in texts, and its world stays row for
row what it was. The scenario's texts are placed while the content is written, as written;
their `{id.field}` placeholders are filled by `fill_texts` once the world they name is
complete (accounts, addresses, both chains), through the answer key's own look-ups, and
a placeholder the world cannot fill fails the build naming its line in the scenario.

Languages: a text is in its writer's language (a channel's `language`, else its actor's
`language`; a site's `language`, else its operator's), else in meta.locale's language.
The sites set it as the `lang` of the page or of the element holding the text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.errors import BuildError
from sandbox.scenario.model import Channel, ForumBoard, Said, Scenario, Site
from sandbox.world.answers import Answers
from sandbox.world.content.accounts import Accounts, Rows, joined_before
from sandbox.world.content.world import DAY, SiteRow, WorldSoFar

HOUR = 3600


@dataclass
class _Fill:
    """One text waiting for its placeholders, and where the filled text goes."""

    where: str  # "file:line: path" of the text in the scenario
    template: str
    put: Callable[[str], None]


@dataclass
class Texts:
    """The scenario's texts placed in the content, until `fill_texts` fills them."""

    scenario: Scenario
    fills: list[_Fill] = field(default_factory=list)
    configs: dict[str, dict] = field(default_factory=dict)  # site id -> what its config gains
    updates: list[tuple[str, str, int, str]] = field(default_factory=list)  # table, column, id

    def where(self, line: int, path: str) -> str:
        """How a message names a text of the scenario: `file:line: path`."""
        return f"{self.scenario.source}:{line}: {path}"

    def row(self, table: str, column: str, row_id: int, template: str, where: str) -> None:
        """A content row's column holds this text once filled."""
        self.fills.append(
            _Fill(where, template, lambda text: self.updates.append((table, column, row_id, text)))
        )

    def into(self, holder: dict, key: str, template: str, where: str) -> None:
        """holder[key] (a part of a site's config) holds this text once filled."""
        holder[key] = template
        self.fills.append(_Fill(where, template, lambda text: holder.__setitem__(key, text)))

    def config(self, site_id: str) -> dict:
        """What the site's config gains (its filled texts)."""
        return self.configs.setdefault(site_id, {})


def language_of(scenario: Scenario, actor_id: str | None, given: str | None = None) -> str:
    """The language a text is in: as given, else its writer's, else meta.locale's."""
    if given:
        return given
    actor = next((a for a in scenario.actors if a.id == actor_id), None)
    if actor is None and actor_id:
        # A group's member writes in its group's language.
        group = actor_id.rsplit("-", 1)[0]
        actor = next((a for a in scenario.actors if a.id == group), None)
    if actor is not None and actor.language:
        return actor.language
    return scenario.meta.locale.split("_")[0]


def site_language(scenario: Scenario, site: Site) -> str:
    """The language of a site's own texts: its `language`, else its operator's."""
    return language_of(scenario, site.operator, site.language)


def scenario_site(world: WorldSoFar, site: SiteRow) -> Site:
    """The scenario's declaration of a site of the world."""
    return world.scenario.site(site.id)


def write_site_texts(world: WorldSoFar, book: Accounts, texts: Texts, site: SiteRow) -> None:
    """A site's description and language, and a social site's channels, into its config."""
    declared = scenario_site(world, site)
    path = f"sites[{world.scenario.sites.index(declared)}]"
    if declared.description or declared.forum_boards or declared.channels:
        texts.config(site.id)["language"] = site_language(world.scenario, declared)
    if declared.description:
        where = texts.where(declared.description_line, f"{path}.description")
        texts.into(texts.config(site.id), "description", declared.description, where)
    if declared.channels:
        texts.config(site.id)["channels"] = [
            _channel(world, book, texts, site, channel, f"{path}.channels[{j}]")
            for j, channel in enumerate(declared.channels)
        ]


def _channel(
    world: WorldSoFar, book: Accounts, texts: Texts, site: SiteRow, channel: Channel, path: str
) -> dict:
    """A channel as the social site shows it: its posts and chat lines in time order."""
    scenario = world.scenario
    language = language_of(scenario, channel.actor, channel.language)
    out: dict = {"id": channel.id, "language": language, "lines": []}
    texts.into(out, "name", channel.name, texts.where(channel.line, f"{path}.name"))
    if channel.description:
        where = texts.where(channel.line, f"{path}.description")
        texts.into(out, "description", channel.description, where)
    said: list[tuple[Said, str, str | None]] = [
        (p, f"{path}.posts[{k}]", None) for k, p in enumerate(channel.posts)
    ]
    said += [(c, f"{path}.chat[{k}]", c.by) for k, c in enumerate(channel.chat)]
    # In time order; a post and a chat line at the same moment keep the scenario's order.
    for item, at, sender in sorted(said, key=lambda s: s[0].day or 0.0):
        line: dict = {"created": world.start + int((item.day or 0.0) * DAY)}
        if item.pinned:
            line["pinned"] = True
        if sender is not None:  # a chat line: who wrote it, under their handle on the site
            line["handle"] = _member(world, book, site, sender).handle
            line["language"] = language_of(scenario, sender, channel.language)
        texts.into(line, "text", item.text, texts.where(item.line, f"{at}.text"))
        out["lines"].append(line)
    bot = channel.donation_bot
    if bot is not None:
        flow = next(f for f in scenario.flows if f.id == bot.flow)
        out["donation_bot"] = {"flow": flow.id, "site": flow.site, "chain": flow.chain}
        if bot.reply:
            where = texts.where(bot.line, f"{path}.donation_bot.reply")
            texts.into(out["donation_bot"], "reply", bot.reply, where)
    return out


def _member(world: WorldSoFar, book: Accounts, site: SiteRow, actor_id: str):
    """The actor's account on the site, opened if it has none (no bio: nothing invented)."""
    actor = world.actors[actor_id]
    rng = world.rng("channel-member", site.id, actor_id)
    return book.add(site, actor, "member", joined_before(world, rng, 30, 900), "")


def write_forum_boards(
    world: WorldSoFar, book: Accounts, rows: Rows, texts: Texts, site: SiteRow
) -> None:
    """A forum holding exactly the scenario's boards, threads and posts."""
    declared = scenario_site(world, site)
    path = f"sites[{world.scenario.sites.index(declared)}]"
    # The forum's pages are the scenario's words: they take its language.
    texts.config(site.id)["forum_language"] = site_language(world.scenario, declared)
    operator = world.actors.get(site.operator_id or "")
    if operator is not None:
        rng = world.rng("forum", site.id)
        admin = book.add(site, operator, "admin", joined_before(world, rng, 400, 900), "")
        book.key_for(site, operator, admin)
    for j, board in enumerate(declared.forum_boards):
        _board(world, book, rows, texts, site, board, f"{path}.boards[{j}]")


def _board(
    world: WorldSoFar,
    book: Accounts,
    rows: Rows,
    texts: Texts,
    site: SiteRow,
    board: ForumBoard,
    path: str,
) -> None:
    """One board, its threads and their posts, with their rows' texts to fill."""
    board_id = len(rows.boards) + 1
    rows.boards.append((board_id, site.id, board.name, board.description))
    texts.row("boards", "name", board_id, board.name, texts.where(board.line, f"{path}.name"))
    if board.description:
        where = texts.where(board.line, f"{path}.description")
        texts.row("boards", "description", board_id, board.description, where)
    for k, thread in enumerate(board.threads):
        at = f"{path}.threads[{k}]"
        opener = _poster(world, book, site, thread.by)
        opened = world.start + int(thread.day * DAY)
        thread_id = len(rows.threads) + 1
        rows.threads.append((thread_id, board_id, opener, thread.title, opened))
        where = texts.where(thread.line, f"{at}.title")
        texts.row("threads", "title", thread_id, thread.title, where)
        when = opened
        for m, post in enumerate(thread.posts):
            when = _post_time(world, post, when, first=m == 0)
            post_id = len(rows.posts) + 1
            author = _poster(world, book, site, post.by or thread.by)
            rows.posts.append((post_id, site.id, thread_id, author, post.text, when))
            where = texts.where(post.line, f"{at}.posts[{m}].text")
            texts.row("posts", "body", post_id, post.text, where)


def _post_time(world: WorldSoFar, post: Said, before: int, first: bool) -> int:
    """A post's time: its day, else the thread's start (the first) or an hour later."""
    if post.day is not None:
        return world.start + int(post.day * DAY)
    return before if first else before + HOUR


def _poster(world: WorldSoFar, book: Accounts, site: SiteRow, actor_id: str) -> int:
    """The account id the actor posts under on the forum, opened if needed."""
    actor = world.actors[actor_id]
    rng = world.rng("forum-member", site.id, actor_id)
    return book.add(site, actor, "member", joined_before(world, rng, 5, 800), "").id


def fill_texts(conn: sqlite3.Connection, scenario: Scenario, texts: Texts) -> None:
    """Fill the placed texts' placeholders from the finished world and store them."""
    if not texts.fills and not texts.configs:
        return
    answers = Answers(conn, scenario)
    for fill in texts.fills:
        try:
            fill.put(answers.fill(fill.template))
        except BuildError as e:
            raise BuildError(f"{fill.where}: {e}") from e
    for table, column, row_id, text in texts.updates:
        # table and column come from this module's own calls, never from the scenario.
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (text, row_id))
    for site_id, gained in texts.configs.items():
        (raw,) = conn.execute("SELECT config FROM sites WHERE id = ?", (site_id,)).fetchone()
        config = {**json.loads(raw), **gained}
        conn.execute(
            "UPDATE sites SET config = ? WHERE id = ?",
            (json.dumps(config, sort_keys=True, ensure_ascii=False), site_id),
        )
