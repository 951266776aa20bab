"""Drawing the case graph: a seeded force layout, then PNG (Pillow), GraphML and an offline page.

The interactive page is one HTML file with its script, style and data inline; its Content
Security Policy forbids every request, so it works (and stays silent) on a laptop without
network. The PNG uses Pillow's bundled font; no font is fetched either.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from .case import Case
from .errors import InputError
from .graph import (
    EDGE_KINDS,
    EVIDENCE_KEPT,
    FORMATS,
    NODE_TYPES,
    case_graph,
    graph_counts,
    parse_formats,
)

__all__ = [
    "graph_html_parts",
    "layout",
    "templates",
    "write_graph",
    "write_graphml",
    "write_html",
    "write_png",
]

if TYPE_CHECKING:
    import networkx as nx

PACKAGE = Path(__file__).parent
SAMPLED_REPULSION = 800  # layout: above this many nodes, repulsion comes from a sample


def layout(g: nx.MultiDiGraph, iterations: int | None = None) -> dict[str, tuple[float, float]]:
    """Node positions in [0, 1]², by a seeded force layout: the same graph, the same picture."""
    import numpy as np

    nodes = sorted(g)
    n = len(nodes)
    if n == 0:
        return {}
    if n == 1:
        return {nodes[0]: (0.5, 0.5)}
    index = {v: i for i, v in enumerate(nodes)}
    pairs = sorted({tuple(sorted((index[u], index[v]))) for u, v in g.edges() if u != v})
    edges = np.array(pairs, dtype=int).reshape(-1, 2)
    # Seeded from the node ids, so a node keeps its place when unrelated nodes are added.
    seeds = [int(hashlib.sha256(v.encode()).hexdigest()[:8], 16) for v in nodes]
    pos = np.array([[(s & 0xFFFF) / 0xFFFF, (s >> 16) / 0xFFFF] for s in seeds], dtype=float)
    k = 1.0 / math.sqrt(n)
    steps = iterations or (200 if n <= 300 else 120 if n <= 1000 else 60)
    temperature = 0.1
    # Past a few hundred nodes every node is pushed by a seeded sample of the others (scaled
    # up), so memory and time grow with n, not n².
    sample = min(n, SAMPLED_REPULSION)
    rng = np.random.default_rng(7)
    for _ in range(steps):
        others = pos if sample == n else pos[rng.choice(n, sample, replace=False)]
        delta = pos[:, None, :] - others[None, :, :]
        dist2 = np.maximum((delta**2).sum(axis=-1), 1e-6)
        disp = (delta * (k * k / dist2)[..., None]).sum(axis=1) * (n / sample)
        if len(edges):
            d = pos[edges[:, 0]] - pos[edges[:, 1]]
            length = np.sqrt((d**2).sum(axis=1))[:, None]
            pull = d * length / k
            np.add.at(disp, edges[:, 0], -pull)
            np.add.at(disp, edges[:, 1], pull)
        # Gravity keeps unconnected parts of the case on the same page.
        disp -= (pos - pos.mean(axis=0)) * (0.6 / k)
        size = np.maximum(np.sqrt((disp**2).sum(axis=1)), 1e-9)[:, None]
        pos += disp / size * np.minimum(size, temperature)
        temperature *= 0.97
    low, high = pos.min(axis=0), pos.max(axis=0)
    span = np.where(high - low > 1e-9, high - low, 1.0)
    pos = 0.04 + 0.92 * (pos - low) / span
    return {v: (float(pos[i, 0]), float(pos[i, 1])) for i, v in enumerate(nodes)}


# -- writers ----------------------------------------------------------------------------------

# GraphML attribute types: everything not listed is a string.
_INTS = {"captures", "bytes", "received", "balance", "outputs", "size", "cluster_id", "amount"}
_INTS |= {"count", "sightings", "hop", "height", "fee"}
_FLOATS = {"share"}
_BOOLS = {"onion", "on_chain", "sweep"}


def _typed(data: dict) -> dict:
    """Attributes as GraphML can type them: scalars of one type per name, evidence as JSON."""
    out: dict[str, str | int | float | bool] = {}
    for key, value in data.items():
        if value is None:
            continue
        if key == "evidence":
            out["evidence_json"] = json.dumps(value[:EVIDENCE_KEPT], sort_keys=True)
        elif key in _INTS:
            out[key] = int(value)
        elif key in _FLOATS:
            out[key] = float(value)
        elif key in _BOOLS:
            out[key] = bool(value)
        else:
            out[key] = str(value)
    return out


def write_graphml(g: nx.MultiDiGraph, path: Path) -> Path:
    """The graph as GraphML, attributes typed (long, double, boolean, string)."""
    import networkx as nx

    out: nx.MultiDiGraph = nx.MultiDiGraph()
    out.graph.update({k: str(v) for k, v in g.graph.items() if v is not None})
    for node, data in g.nodes(data=True):
        out.add_node(node, **_typed(data), color=NODE_TYPES[data["type"]][0])
    for source, target, key, data in g.edges(keys=True, data=True):
        out.add_edge(source, target, key=key, **_typed(data))
    nx.write_graphml_xml(out, path, named_key_ids=True)
    return path


def _view(g: nx.MultiDiGraph, pos: dict) -> dict:
    """The graph as the interactive page reads it (JSON)."""
    nodes = []
    for node in sorted(g):
        data = g.nodes[node]
        x, y = pos[node]
        attrs = {
            k: v
            for k, v in data.items()
            if k not in ("type", "label", "evidence") and v is not None and v != ""
        }
        nodes.append(
            {
                "id": node,
                "type": data["type"],
                "label": data["label"],
                "x": round(x * 1000, 2),
                "y": round(y * 1000, 2),
                "attrs": attrs,
                "evidence": data["evidence"][:EVIDENCE_KEPT],
                "sightings": len(data["evidence"]),
            }
        )
    edges = []
    for source, target, data in g.edges(data=True):
        attrs = {
            k: v
            for k, v in data.items()
            if k not in ("kind", "evidence") and v is not None and v != ""
        }
        edges.append(
            {
                "source": source,
                "target": target,
                "kind": data["kind"],
                "attrs": attrs,
                "evidence": data["evidence"][:EVIDENCE_KEPT],
            }
        )
    return {
        "graph": {k: v for k, v in g.graph.items() if isinstance(v, str | int | float)},
        "types": {t: {"color": c, "name": d} for t, (c, d) in NODE_TYPES.items()},
        "kinds": {k: {"color": c, "name": d} for k, (c, d) in EDGE_KINDS.items()},
        "nodes": nodes,
        "edges": edges,
    }


def _package_text(*parts: str) -> str:
    """A text file shipped in the package (templates/, static/)."""
    return PACKAGE.joinpath(*parts).read_text(encoding="utf-8")


def templates():
    """The Jinja2 environment of the package's templates (HTML autoescaped)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(PACKAGE / "templates"), autoescape=select_autoescape(["html"])
    )


def _script_json(data) -> str:
    """JSON safe to put inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def graph_html_parts(g: nx.MultiDiGraph, pos: dict | None = None) -> dict[str, str]:
    """The CSS, script and data of the interactive graph, to inline in a page."""
    pos = pos if pos is not None else layout(g)
    return {
        "css": _package_text("static", "graph.css"),
        "js": _package_text("static", "graph.js"),
        "data": _script_json(_view(g, pos)),
    }


def write_html(g: nx.MultiDiGraph, path: Path, pos: dict | None = None) -> Path:
    """The graph as one self-contained interactive page that never touches the network."""
    page = (
        templates()
        .get_template("graph.html")
        .render(
            title=g.graph.get("title", "Case graph"),
            generated_at=g.graph.get("generated_at"),
            counts=graph_counts(g),
            **graph_html_parts(g, pos),
        )
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_png(g: nx.MultiDiGraph, path: Path, pos: dict | None = None) -> Path:
    """The graph drawn as a PNG, nodes coloured by type, with a legend."""
    from PIL import Image, ImageDraw, ImageFont

    pos = pos if pos is not None else layout(g)
    n = len(g)
    width = 1600 if n <= 150 else 2400 if n <= 600 else 3200
    height = width * 3 // 4
    legend_w = 300
    image = Image.new("RGB", (width + legend_w, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    small = ImageFont.load_default(size=11)
    big = ImageFont.load_default(size=20)

    def at(node: str) -> tuple[float, float]:
        """Pixel position of a node."""
        x, y = pos[node]
        return 30 + x * (width - 60), 50 + y * (height - 80)

    for source, target, data in g.edges(data=True):
        colour = EDGE_KINDS[data["kind"]][0]
        wide = 3 if data["kind"] in ("traced-flow", "paid", "kyc-identified-as", "swept") else 1
        draw.line([at(source), at(target)], fill=colour, width=wide)
    degree = dict(g.degree())
    labelled = n <= 150
    for node in sorted(g, key=lambda v: degree[v]):
        data = g.nodes[node]
        x, y = at(node)
        r = 6 + min(10, 2 * math.sqrt(degree[node]))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=NODE_TYPES[data["type"]][0], outline="#222")
        if labelled or data["type"] not in ("btc_address", "transaction", "persona"):
            draw.text((x + r + 2, y - 7), data["label"], fill="#111", font=font)
    draw.text((20, 12), g.graph.get("title", "Case graph"), fill="#111", font=big)
    if n == 0:
        draw.text(
            (width // 2 - 200, height // 2),
            "Nothing in the case yet: crawl, extract or sync first.",
            fill="#555",
            font=big,
        )
    lx = width + 10
    draw.rectangle([width, 0, width + legend_w, height], fill="#f4f6f8")
    draw.text((lx, 14), "Nodes", fill="#111", font=big)
    y = 44
    counts = graph_counts(g)
    for type_, (colour, name) in NODE_TYPES.items():
        draw.ellipse([lx, y, lx + 14, y + 14], fill=colour, outline="#222")
        draw.text((lx + 22, y), f"{name} ({counts['nodes'].get(type_, 0)})", fill="#111", font=font)
        y += 22
    y += 12
    draw.text((lx, y), "Links", fill="#111", font=big)
    y += 30
    for kind, (colour, _) in EDGE_KINDS.items():
        draw.line([lx, y + 7, lx + 18, y + 7], fill=colour, width=3)
        draw.text((lx + 24, y), f"{kind} ({counts['edges'].get(kind, 0)})", fill="#111", font=small)
        y += 18
    draw.text(
        (lx, height - 24), f"generated {g.graph.get('generated_at', '')}", fill="#555", font=small
    )
    image.save(path, "PNG", optimize=True)
    return path


def write_graph(
    case: Case, out: str | Path, formats=FORMATS, g: nx.MultiDiGraph | None = None
) -> dict[str, Path]:
    """Write the case graph into a folder as graph.html, graph.graphml and graph.png."""
    formats = parse_formats(formats)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: not a folder")
    out.mkdir(parents=True, exist_ok=True)
    g = g if g is not None else case_graph(case)
    pos = layout(g) if {"html", "png"} & set(formats) else {}
    written = {}
    if "html" in formats:
        written["html"] = write_html(g, out / "graph.html", pos)
    if "graphml" in formats:
        written["graphml"] = write_graphml(g, out / "graph.graphml")
    if "png" in formats:
        written["png"] = write_png(g, out / "graph.png", pos)
    return written
