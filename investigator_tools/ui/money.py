"""Follow the money: the graph canvas and its JSON API, over the toolkit's chain index.

Adding or expanding a node first brings the case's chain index up to the explorer's tip
(`chain.sync`, the same verified sync as `investigate sync`), then asks the index
(`workspace.expand`: `address_summary` / `tx_summary`) with the explorer's public labels
read as the CLI reads them (`LabelBook`). Each change is logged in the chain of custody.
"""

from __future__ import annotations

import base64
import binascii
import threading

from flask import Blueprint, g, jsonify, render_template

from ..chain.analysis import shortest_path
from ..chain.labels import LabelBook, set_label
from ..chain.sync import sync
from ..chain.trace import METHODS, trace
from ..errors import InputError
from ..targets import check_target
from ..workspace import (
    add_path,
    add_target,
    add_trace,
    annotate,
    collapse_cluster,
    expand,
    read_graph,
    save_layout,
    save_picture,
    uncollapse,
)
from .context import Settings, json_body, open_case

bp = Blueprint("money", __name__, url_prefix="/money")

DEFAULT_TOP = 8  # counterparties drawn each way before the rest is folded


def _text(data: dict, key: str) -> str:
    """A required text field of the request."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key}: expected a non-empty string")
    return value.strip()


# One sync at a time in the workspace: two (a double click, two tabs) would both number
# the same new blocks' rows from the same last id.
_SYNCING = threading.Lock()


def _labels(case) -> LabelBook:
    """The index brought up to date from the explorer, and the labels it shows."""
    settings: Settings = g.settings
    explorer = settings.explorer_for(case)
    with _SYNCING:
        sync(case, explorer)
    return LabelBook(case, explorer)


@bp.get("/")
def page():
    """The graph canvas."""
    return render_template("money.html")


@bp.get("/api/graph")
def graph():
    """The saved graph: nodes with labels, notes and positions; links with amounts."""
    return jsonify(read_graph(open_case()))


@bp.post("/api/add")
def add():
    """Put an address or a txid on the graph."""
    target = check_target(_text(json_body(), "target"), "address or txid", ("btc", "txid"))
    case = open_case(f"add {target}")
    node = add_target(case, target, _labels(case))
    return jsonify({"node": node, "graph": read_graph(case)})


@bp.post("/api/expand")
def expand_node():
    """Draw a node's largest counterparties, the rest folded into one node per side."""
    data = json_body()
    node = _text(data, "node")
    top = data.get("top", DEFAULT_TOP)
    if not isinstance(top, int) or isinstance(top, bool):
        raise InputError(f"top: expected a whole number, got {top!r}")
    case = open_case(f"expand {node} --top {top}")
    done = expand(case, node, _labels(case), top=top)
    return jsonify({**done, "graph": read_graph(case)})


@bp.post("/api/trace")
def trace_from():
    """Follow the money from a node with the toolkit's trace (poison, haircut or FIFO); it
    stops at labelled services. The hops are drawn and the trace is kept for the report."""
    data = json_body()
    target = check_target(_text(data, "target"), "target", ("btc", "txid", "outpoint"))
    method = data.get("method", "haircut")
    if method not in METHODS:
        raise InputError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    direction = data.get("direction", "forward")
    if direction not in ("forward", "back"):
        raise InputError(f"direction {direction!r}: expected forward or back")
    hops = data.get("hops", 6)
    if not isinstance(hops, int) or isinstance(hops, bool) or not 1 <= hops <= 50:
        raise InputError(f"hops {hops!r}: expected a whole number from 1 to 50")
    case = open_case(f"trace {target} --{direction} --hops {hops} --method {method}")
    result = trace(
        case, target, direction=direction, hops=hops, method=method, labels=_labels(case)
    ).as_dict()
    drawn = add_trace(case, result)
    return jsonify({**drawn, "graph": read_graph(case)})


@bp.post("/api/path")
def path():
    """The fewest-transaction money path between two addresses, drawn step by step."""
    data = json_body()
    source = check_target(_text(data, "from"), "from", ("btc",))
    target = check_target(_text(data, "to"), "to", ("btc",))
    hops = data.get("hops", 6)
    if not isinstance(hops, int) or isinstance(hops, bool) or not 1 <= hops <= 20:
        raise InputError(f"hops {hops!r}: expected a whole number from 1 to 20")
    case = open_case(f"path {source} {target} --hops {hops}")
    result = shortest_path(case, source, target, hops=hops, labels=_labels(case))
    drawn = add_path(case, result)
    return jsonify({**drawn, "steps": result["steps"], "graph": read_graph(case)})


@bp.post("/api/collapse")
def collapse():
    """Draw an address's wallet cluster (the toolkit's co-spend clustering) as one node."""
    node = _text(json_body(), "node")
    case = open_case(f"collapse cluster of {node}")
    done = collapse_cluster(case, node, _labels(case))
    return jsonify({**done, "graph": read_graph(case)})


@bp.post("/api/uncollapse")
def uncollapse_cluster():
    """Draw a collapsed cluster's addresses again."""
    node = _text(json_body(), "node")
    case = open_case(f"uncollapse {node}")
    shown = uncollapse(case, node)
    return jsonify({"shown": shown, "graph": read_graph(case)})


@bp.post("/api/picture")
def picture():
    """Keep the canvas as drawn (a PNG data: URL from the page) for the report."""
    text = _text(json_body(), "png")
    prefix = "data:image/png;base64,"
    if not text.startswith(prefix):
        raise InputError("png: expected a data:image/png;base64 URL")
    try:
        png = base64.b64decode(text[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise InputError("png: not valid base64") from None
    return jsonify(save_picture(open_case("picture of the graph for the report"), png))


@bp.post("/api/layout")
def layout():
    """Keep where the trainee put the nodes."""
    positions = json_body().get("positions")
    if not isinstance(positions, dict):
        raise InputError("positions: expected an object {node id: [x, y]}")
    return jsonify({"saved": save_layout(open_case(), positions)})


@bp.post("/api/annotate")
def annotate_item():
    """Set the free-text note and tags of a node or a link."""
    data = json_body()
    kind, target = _text(data, "kind"), _text(data, "target")
    case = open_case(f"annotate {kind} {target}")
    saved = annotate(case, kind, target, data.get("note", ""), data.get("tags", []))
    return jsonify({"annotation": saved, "graph": read_graph(case)})


@bp.post("/api/label")
def label():
    """Give an address the case's own label (it wins over the explorer's)."""
    data = json_body()
    address = check_target(_text(data, "address"), "address", ("btc",))
    name = _text(data, "name")
    category = data.get("category") or None
    if category is not None and not isinstance(category, str):
        raise InputError("category: expected a string")
    case = open_case(f"label {address} {name!r}")
    stored = set_label(case, address, name, category)
    return jsonify({"label": stored, "graph": read_graph(case)})
