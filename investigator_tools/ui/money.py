"""Follow the money: the graph canvas and its JSON API, over the toolkit's chain indexes.

Adding or expanding a node first brings the case's chain index up to the explorer's tip
(`chain.sync`, the same verified sync as `investigate sync`), then asks the index
(`workspace.expand`: `address_summary` / `tx_summary`) with the explorer's public labels
read as the CLI reads them (`LabelBook`). A Tron address or transaction goes the same way
through the Tron index (`tron.sync`, `workspace_tron`, Tronscan's tags in `TronLabels`).
Each change is logged in the chain of custody.
"""

from __future__ import annotations

import base64
import binascii
import threading

from flask import Blueprint, g, jsonify, render_template

from ..chain.analysis import shortest_path
from ..chain.labels import LabelBook, set_label
from ..chain.store import ensure_schema, ensure_tron_schema, local_tip, tron_tip
from ..chain.sync import sync
from ..chain.trace import METHODS, trace
from ..errors import InputError
from ..targets import check_target
from ..tron.analysis import ASSETS, is_tron_target
from ..tron.analysis import trace as tron_trace
from ..tron.labels import TronLabels
from ..tron.sync import sync_tron
from ..workspace import (
    add_path,
    add_target,
    add_trace,
    annotate,
    collapse_cluster,
    expand,
    node_kind,
    read_graph,
    save_layout,
    save_picture,
    save_view,
    uncollapse,
)
from ..workspace_tron import add_tron_target, add_tron_trace, expand_tron, is_tron_tx
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
_TRON_SYNCING = threading.Lock()


def _sync_unless_busy(case, run, indexed: bool) -> None:
    """Run a sync, unless another process (`investigate sync`) is syncing the case right
    now: its blocks are committed window by window, so the index is read as it stands
    rather than the page waiting for the whole sync. With no index yet, wait for it."""
    with case.sync_lock(wait=not indexed) as held:
        if held:
            run()


def _labels(case) -> LabelBook:
    """The index brought up to date from the explorer, and the labels it shows."""
    settings: Settings = g.settings
    explorer = settings.explorer_for(case)
    with _SYNCING:
        ensure_schema(case)
        _sync_unless_busy(case, lambda: sync(case, explorer), local_tip(case.conn) is not None)
    return LabelBook(case, explorer)


def _tron_labels(case, node=None) -> TronLabels:
    """The Tron index brought up to the node's head, and the labels it shows (the case's,
    and the Tron explorer's public tags when one is known)."""
    settings: Settings = g.settings
    node = node or settings.tron_for(case)
    with _TRON_SYNCING:
        ensure_tron_schema(case)
        _sync_unless_busy(case, lambda: sync_tron(case, node), tron_tip(case.conn) is not None)
    return TronLabels(case, settings.tronscan_for(case), settings.proxy)


def _on_tron(case, target: str) -> bool:
    """Whether a target is Tron's: a T... address, or a txid the Tron index has (the Tron
    index is synced first when a Tron node is known)."""
    if is_tron_target(target):
        return True
    settings: Settings = g.settings
    if len(target) != 64 or (not settings.tron and not case.get_meta("tron.node")):
        return False
    _tron_labels(case)
    return is_tron_tx(case, target)


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
    text = _text(json_body(), "target")
    target = check_target(text, "address or txid", ("btc", "tron", "txid"))
    case = open_case(f"add {target}")
    if _on_tron(case, target):
        settings: Settings = g.settings
        tron = settings.tron_for(case)
        node = add_tron_target(case, target, _tron_labels(case, tron), tron)
    else:
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
    if node_kind(case, node) in ("tron", "tron_tx"):
        done = expand_tron(case, node, _tron_labels(case), top=top)
    else:
        done = expand(case, node, _labels(case), top=top)
    return jsonify({**done, "graph": read_graph(case)})


@bp.post("/api/trace")
def trace_from():
    """Follow the money from a node with the toolkit's trace (poison, haircut or FIFO); it
    stops at labelled services. The hops are drawn and the trace is kept for the report.
    From a Tron node it follows USDT (or TRX: `asset`)."""
    data = json_body()
    target = check_target(_text(data, "target"), "target", ("btc", "tron", "txid", "outpoint"))
    method = data.get("method", "haircut")
    if method not in METHODS:
        raise InputError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    direction = data.get("direction", "forward")
    if direction not in ("forward", "back"):
        raise InputError(f"direction {direction!r}: expected forward or back")
    hops = data.get("hops", 6)
    if not isinstance(hops, int) or isinstance(hops, bool) or not 1 <= hops <= 50:
        raise InputError(f"hops {hops!r}: expected a whole number from 1 to 50")
    asset = data.get("asset", "USDT")
    if asset not in ASSETS:
        raise InputError(f"asset {asset!r}: expected one of {', '.join(ASSETS)}")
    case = open_case()
    command = f"trace {target} --{direction} --hops {hops} --method {method}"
    if node_kind(case, target) in ("tron", "tron_tx") or is_tron_target(target):
        open_case(f"{command} --asset {asset}")
        labels = _tron_labels(case)
        result = tron_trace(
            case,
            target,
            direction=direction,
            hops=hops,
            method=method,
            asset=asset,
            labels=labels,
        ).as_dict()
        drawn = add_tron_trace(case, result)
        return jsonify({**drawn, "asset": asset, "graph": read_graph(case)})
    open_case(command)
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


@bp.post("/api/view")
def view():
    """Keep the time window of the links shown ({"from", "to"}: YYYY-MM-DD or empty)."""
    return jsonify({"view": save_view(open_case(), json_body())})


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
    address = check_target(_text(data, "address"), "address", ("btc", "tron"))
    name = _text(data, "name")
    category = data.get("category") or None
    if category is not None and not isinstance(category, str):
        raise InputError("category: expected a string")
    case = open_case(f"label {address} {name!r}")
    stored = set_label(case, address, name, category)
    return jsonify({"label": stored, "graph": read_graph(case)})
