"""Threads: reading (paged), replying, and starting new threads (stored in the state file)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from ..common.auth import login_required
from ..common.helpers import clean_text, page_count, paginate
from .boards import load_board

bp = Blueprint("threads", __name__)

POSTS_PER_PAGE = 20


def _posts(world_thread_id: int | None = None, thread_id: int | None = None) -> list[dict]:
    """World posts of a world thread (if any) followed by trainee posts, oldest first."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    posts = []
    if world_thread_id is not None:
        posts = [{**p, "trainee": False} for p in world.posts.of_thread(world_thread_id)]
    for p in state.posts_of(site.id, world_thread_id=world_thread_id, thread_id=thread_id):
        # A world member posting live (an instructor's inject) keeps its role on the forum.
        account = world.accounts.by_handle(site.id, p["author"])
        role = account["role"] if account else "member"
        posts.append({**p, "trainee": True, "author_role": role})
    posts.sort(key=lambda p: (p["created"], p["trainee"], p["id"]))
    return posts


def _last_page(count: int) -> int:
    """The page a thread's newest post is on."""
    return page_count(count, POSTS_PER_PAGE)


@bp.route("/thread/<int:thread_id>")
def thread(thread_id: int):
    """A thread of the world, with trainees' replies after it."""
    world = current_app.extensions["world"]
    thread = world.threads.get(current_app.extensions["site"].id, thread_id)
    if thread is None:
        abort(404)
    page = paginate(_posts(world_thread_id=thread_id), POSTS_PER_PAGE)
    return render_template(
        "forum/thread.html",
        thread=thread,
        page=page,
        reply_url=url_for("threads.reply", thread_id=thread_id),
        page_endpoint="threads.thread",
        page_args={"thread_id": thread_id},
    )


@bp.route("/thread/t<int:thread_id>")
def trainee_thread(thread_id: int):
    """A thread a trainee started."""
    site = current_app.extensions["site"]
    thread = current_app.extensions["state"].thread(site.id, thread_id)
    if thread is None:
        abort(404)
    board = load_board(thread["board_id"])
    thread = {**thread, "board": board["name"]}
    page = paginate(_posts(thread_id=thread_id), POSTS_PER_PAGE)
    return render_template(
        "forum/thread.html",
        thread=thread,
        page=page,
        reply_url=url_for("threads.trainee_reply", thread_id=thread_id),
        page_endpoint="threads.trainee_thread",
        page_args={"thread_id": thread_id},
    )


def _body() -> str:
    """The posted message text (1 to 10,000 characters) or 400."""
    return clean_text(request.form.get("body"), "Message", max_len=10_000)


@bp.route("/thread/<int:thread_id>/reply", methods=["POST"])
@login_required
def reply(thread_id: int):
    """Reply in a world thread."""
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    if current_app.extensions["world"].threads.get(site.id, thread_id) is None:
        abort(404)
    body = _body()
    clock = current_app.extensions["clock"]
    post_id = state.add_post(site.id, g.user["id"], body, clock(), world_thread_id=thread_id)
    last = _last_page(len(_posts(world_thread_id=thread_id)))
    return redirect(url_for("threads.thread", thread_id=thread_id, page=last) + f"#p{post_id}")


@bp.route("/thread/t<int:thread_id>/reply", methods=["POST"])
@login_required
def trainee_reply(thread_id: int):
    """Reply in a trainee's thread."""
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    if state.thread(site.id, thread_id) is None:
        abort(404)
    body = _body()
    clock = current_app.extensions["clock"]
    post_id = state.add_post(site.id, g.user["id"], body, clock(), thread_id=thread_id)
    last = _last_page(len(_posts(thread_id=thread_id)))
    return redirect(
        url_for("threads.trainee_thread", thread_id=thread_id, page=last) + f"#t{post_id}"
    )


@bp.route("/board/<int:board_id>/new", methods=["GET", "POST"])
@login_required
def new_thread(board_id: int):
    """Start a thread on a board."""
    board = load_board(board_id)
    if request.method == "GET":
        return render_template("forum/new_thread.html", board=board)
    title = clean_text(request.form.get("title"), "Title", max_len=150, min_len=3)
    body = _body()
    site = current_app.extensions["site"]
    thread_id = current_app.extensions["state"].create_thread(
        site.id, board_id, g.user["id"], title, body, current_app.extensions["clock"]()
    )
    return redirect(url_for("threads.trainee_thread", thread_id=thread_id))
