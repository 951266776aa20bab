"""The forum's board list and each board's threads (world and trainee threads together)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from ..common.helpers import paginate

bp = Blueprint("boards", __name__)

THREADS_PER_PAGE = 25


def load_board(board_id: int) -> dict:
    """A board of this forum, or 404."""
    board = current_app.extensions["world"].boards.get(current_app.extensions["site"].id, board_id)
    if board is None:
        abort(404)
    return board


@bp.route("/")
def index():
    """Every board with its thread and post counts."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    boards = world.boards.of_site(site.id)
    extra = state.post_counts(site.id)
    for board in boards:
        trainee = state.threads_of_board(site.id, board["id"])
        board["threads"] += len(trainee)
        board["posts"] += sum(t["replies"] + 1 for t in trainee)
        board["posts"] += sum(extra.get(t["id"], 0) for t in world.threads.of_board(board["id"]))
    admins = world.accounts.of_site(site.id, "admin")
    members = len(world.accounts.of_site(site.id))
    return render_template("forum/index.html", boards=boards, admins=admins, members=members)


@bp.route("/board/<int:board_id>")
def board(board_id: int):
    """A board's threads, most recently active first, paged."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    board = load_board(board_id)
    extra = state.post_counts(site.id)
    rows = []
    for t in world.threads.of_board(board_id):
        replies = max(0, t["replies"] - 1) + extra.get(t["id"], 0)
        rows.append({**t, "replies": replies, "trainee": False})
    for t in state.threads_of_board(site.id, board_id):
        rows.append({**t, "trainee": True})
    rows.sort(key=lambda t: (-(t["last_post"] or t["created"]), -t["id"]))
    page = paginate(rows, THREADS_PER_PAGE)
    return render_template("forum/board.html", board=board, page=page)
