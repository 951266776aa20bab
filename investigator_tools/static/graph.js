/* The interactive case graph: canvas drawing, pan/zoom/drag, a details panel with evidence.
 * Plain JavaScript, no library and no network: the page must work on an offline laptop.
 * Every text from the case goes in through textContent, never as HTML: captured pages are
 * written by suspects. */
(function () {
  "use strict";

  var root = document.querySelector(".cg-root");
  var source = document.getElementById("cg-data");
  if (!root || !source) return;
  var data = JSON.parse(source.textContent);
  var nodes = data.nodes;
  var edges = data.edges;
  var byId = {};
  nodes.forEach(function (n) {
    byId[n.id] = n;
    n.links = [];
    n.hidden = false;
  });
  edges.forEach(function (e) {
    e.s = byId[e.source];
    e.t = byId[e.target];
    e.s.links.push(e);
    e.t.links.push(e);
  });
  nodes.forEach(function (n) {
    n.r = 5 + Math.min(9, 1.8 * Math.sqrt(n.links.length));
  });

  var canvas = root.querySelector("canvas");
  var ctx = canvas.getContext("2d");
  var panel = root.querySelector(".cg-panel");
  var search = root.querySelector("input[type=search]");
  var view = { x: 0, y: 0, k: 1 };
  var selected = null;
  var matches = null;
  var hover = null;
  var width = 0;
  var height = 0;
  var ratio = window.devicePixelRatio || 1;
  // Physics only for graphs small enough to simulate smoothly (pairwise repulsion).
  var physics = nodes.length <= 600;
  var heat = 0;
  var frame = 0;

  var state = {
    nodes: nodes.length,
    edges: edges.length,
    rendered: false,
    frames: 0,
    selected: null,
    select: function (id) { select(byId[id] || null); return state.selected; },
    visibleNodes: function () { return nodes.filter(function (n) { return !n.hidden; }).length; },
    view: function () { return { x: view.x, y: view.y, k: view.k }; },
    // Where a node is drawn, in page coordinates: lets a test click it like a person would.
    screenPosition: function (id) {
      var n = byId[id];
      if (!n) return null;
      var box = canvas.getBoundingClientRect();
      return { x: box.left + view.x + n.x * view.k, y: box.top + view.y + n.y * view.k };
    },
  };
  window.caseGraph = state;
  canvas.setAttribute("data-nodes", String(nodes.length));
  canvas.setAttribute("data-edges", String(edges.length));

  function color(n) { return (data.types[n.type] || {}).color || "#888"; }
  function kindColor(e) { return (data.kinds[e.kind] || {}).color || "#aaa"; }

  function resize() {
    var box = canvas.parentElement.getBoundingClientRect();
    width = Math.max(200, box.width);
    height = Math.max(200, box.height);
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    draw();
  }

  function fit() {
    var shown = nodes.filter(function (n) { return !n.hidden; });
    if (!shown.length) { view = { x: width / 2, y: height / 2, k: 1 }; draw(); return; }
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    shown.forEach(function (n) {
      x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y);
      x1 = Math.max(x1, n.x); y1 = Math.max(y1, n.y);
    });
    var k = Math.min(width / (x1 - x0 + 80), height / (y1 - y0 + 80), 4);
    view = { k: k, x: width / 2 - k * (x0 + x1) / 2, y: height / 2 - k * (y0 + y1) / 2 };
    draw();
  }

  function toWorld(px, py) { return { x: (px - view.x) / view.k, y: (py - view.y) / view.k }; }

  function neighbours(n) {
    var set = {};
    set[n.id] = true;
    n.links.forEach(function (e) { set[e.source] = true; set[e.target] = true; });
    return set;
  }

  function draw() {
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.save();
    ctx.translate(view.x, view.y);
    ctx.scale(view.k, view.k);
    var focus = selected ? neighbours(selected) : null;
    edges.forEach(function (e) {
      if (e.s.hidden || e.t.hidden) return;
      var lit = !focus || (focus[e.source] && focus[e.target] && (e.s === selected || e.t === selected));
      ctx.globalAlpha = lit ? 0.85 : 0.08;
      ctx.strokeStyle = kindColor(e);
      var strong = e.kind === "traced-flow" || e.kind === "paid" || e.kind === "swept" ||
        e.kind === "kyc-identified-as" || e.kind === "shares-artefact";
      ctx.lineWidth = (strong ? 2.4 : 1) / Math.sqrt(view.k);
      ctx.beginPath();
      ctx.moveTo(e.s.x, e.s.y);
      ctx.lineTo(e.t.x, e.t.y);
      ctx.stroke();
      if (strong) arrow(e);
    });
    var labels = view.k > 1.3 || nodes.length <= 80;
    nodes.forEach(function (n) {
      if (n.hidden) return;
      var lit = !focus || focus[n.id];
      var match = matches && matches[n.id];
      ctx.globalAlpha = lit ? 1 : 0.15;
      ctx.beginPath();
      ctx.arc(n.x, n.y, n.r, 0, 2 * Math.PI);
      ctx.fillStyle = color(n);
      ctx.fill();
      ctx.lineWidth = (n === selected || match ? 3 : 1) / view.k;
      ctx.strokeStyle = match ? "#ff0000" : n === selected ? "#000" : "#2b2b2b";
      ctx.stroke();
      if ((labels && lit) || n === selected || n === hover || match || (focus && focus[n.id])) {
        ctx.fillStyle = "#111";
        ctx.font = 12 / Math.max(1, view.k * 0.8) + "px system-ui, sans-serif";
        ctx.fillText(n.label, n.x + n.r + 2, n.y + 4);
      }
    });
    ctx.restore();
    state.frames += 1;
    state.rendered = true;
  }

  function arrow(e) {
    var dx = e.t.x - e.s.x, dy = e.t.y - e.s.y;
    var len = Math.sqrt(dx * dx + dy * dy) || 1;
    var ux = dx / len, uy = dy / len;
    var tipX = e.t.x - ux * e.t.r, tipY = e.t.y - uy * e.t.r;
    var size = 7 / Math.sqrt(view.k);
    ctx.fillStyle = kindColor(e);
    ctx.beginPath();
    ctx.moveTo(tipX, tipY);
    ctx.lineTo(tipX - ux * size - uy * size * 0.5, tipY - uy * size + ux * size * 0.5);
    ctx.lineTo(tipX - ux * size + uy * size * 0.5, tipY - uy * size - ux * size * 0.5);
    ctx.closePath();
    ctx.fill();
  }

  function hit(px, py) {
    var p = toWorld(px, py);
    var best = null, bestD = Infinity;
    nodes.forEach(function (n) {
      if (n.hidden) return;
      var d = (n.x - p.x) * (n.x - p.x) + (n.y - p.y) * (n.y - p.y);
      var reach = n.r + 4 / view.k;
      if (d < reach * reach && d < bestD) { best = n; bestD = d; }
    });
    return best;
  }

  // -- physics: a gentle force simulation that settles after a drag --------------------------
  // The spring length the Python layout used, read back from the drawing: dragging must not
  // shrink or blow up the picture.
  var springLength = (function () {
    var lengths = edges.map(function (e) {
      return Math.sqrt((e.s.x - e.t.x) * (e.s.x - e.t.x) + (e.s.y - e.t.y) * (e.s.y - e.t.y));
    }).sort(function (a, b) { return a - b; });
    return lengths.length ? Math.max(10, lengths[Math.floor(lengths.length / 2)]) : 60;
  })();

  function tick() {
    var k = springLength;
    nodes.forEach(function (n) { n.fx = 0; n.fy = 0; });
    for (var i = 0; i < nodes.length; i++) {
      var a = nodes[i];
      for (var j = i + 1; j < nodes.length; j++) {
        var b = nodes[j];
        var dx = a.x - b.x, dy = a.y - b.y;
        var d2 = Math.max(dx * dx + dy * dy, 1);
        if (d2 > 36 * k * k) continue;
        var f = (k * k) / d2;
        a.fx += dx * f; a.fy += dy * f;
        b.fx -= dx * f; b.fy -= dy * f;
      }
    }
    edges.forEach(function (e) {
      var dx = e.t.x - e.s.x, dy = e.t.y - e.s.y;
      var d = Math.sqrt(dx * dx + dy * dy) || 1;
      var f = d / k;
      e.s.fx += dx * f; e.s.fy += dy * f;
      e.t.fx -= dx * f; e.t.fy -= dy * f;
    });
    nodes.forEach(function (n) {
      if (n === dragNode) return;
      var step = Math.sqrt(n.fx * n.fx + n.fy * n.fy) || 1;
      var move = Math.min(step, 10 * heat) / step;
      n.x += n.fx * move;
      n.y += n.fy * move;
    });
    heat *= 0.96;
  }

  function animate() {
    frame = 0;
    if (physics && heat > 0.02) {
      tick();
      draw();
      frame = requestAnimationFrame(animate);
    }
  }

  function reheat(amount) {
    if (!physics) return;
    heat = Math.max(heat, amount);
    if (!frame) frame = requestAnimationFrame(animate);
  }

  // -- pointer: pan the background, drag a node, click to select -----------------------------
  var dragNode = null, panning = null, downAt = null;

  canvas.addEventListener("pointerdown", function (ev) {
    var box = canvas.getBoundingClientRect();
    var px = ev.clientX - box.left, py = ev.clientY - box.top;
    downAt = { x: px, y: py, moved: false };
    dragNode = hit(px, py);
    if (!dragNode) panning = { x: view.x - px, y: view.y - py };
    canvas.setPointerCapture(ev.pointerId);
    canvas.classList.add("cg-dragging");
  });

  canvas.addEventListener("pointermove", function (ev) {
    var box = canvas.getBoundingClientRect();
    var px = ev.clientX - box.left, py = ev.clientY - box.top;
    if (!downAt) {
      var over = hit(px, py);
      if (over !== hover) { hover = over; draw(); }
      return;
    }
    if (Math.abs(px - downAt.x) + Math.abs(py - downAt.y) > 4) downAt.moved = true;
    if (dragNode) {
      var p = toWorld(px, py);
      dragNode.x = p.x;
      dragNode.y = p.y;
      reheat(0.3);
      draw();
    } else if (panning) {
      view.x = panning.x + px;
      view.y = panning.y + py;
      draw();
    }
  });

  canvas.addEventListener("pointerup", function () {
    if (downAt && !downAt.moved) select(dragNode);
    dragNode = null;
    panning = null;
    downAt = null;
    canvas.classList.remove("cg-dragging");
  });

  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var box = canvas.getBoundingClientRect();
    var px = ev.clientX - box.left, py = ev.clientY - box.top;
    zoom(Math.exp(-ev.deltaY * 0.0015), px, py);
  }, { passive: false });

  canvas.addEventListener("dblclick", function (ev) {
    var box = canvas.getBoundingClientRect();
    if (!hit(ev.clientX - box.left, ev.clientY - box.top)) fit();
  });

  function zoom(factor, px, py) {
    var k = Math.min(20, Math.max(0.05, view.k * factor));
    view.x = px - (px - view.x) * (k / view.k);
    view.y = py - (py - view.y) * (k / view.k);
    view.k = k;
    draw();
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") select(null);
  });

  // -- the details panel ----------------------------------------------------------------------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function rows(table, obj) {
    Object.keys(obj).forEach(function (key) {
      var tr = el("tr");
      tr.appendChild(el("td", null, key));
      var v = obj[key];
      tr.appendChild(el("td", null, typeof v === "object" ? JSON.stringify(v) : v));
      table.appendChild(tr);
    });
  }

  function evidenceBlock(list, total) {
    var box = el("div");
    list.forEach(function (ev) {
      var item = el("div", "cg-ev");
      if (ev.url) item.appendChild(el("div", "cg-url", ev.url));
      if (ev.fetched_at) item.appendChild(el("div", null, "captured " + ev.fetched_at));
      if (ev.sha256) item.appendChild(el("div", "cg-hash", "SHA-256 " + ev.sha256));
      var rest = {};
      Object.keys(ev).forEach(function (k) {
        if (["url", "fetched_at", "sha256", "context"].indexOf(k) < 0 && ev[k] !== null) rest[k] = ev[k];
      });
      if (Object.keys(rest).length) item.appendChild(el("div", "cg-ctx", JSON.stringify(rest)));
      if (ev.context) item.appendChild(el("div", "cg-ctx", ev.context));
      box.appendChild(item);
    });
    if (total > list.length) box.appendChild(el("div", "cg-muted", "+ " + (total - list.length) + " more in the report's exports"));
    return box;
  }

  function select(n) {
    selected = n;
    state.selected = n ? n.id : null;
    panel.textContent = "";
    if (!n) {
      panel.appendChild(el("p", "cg-muted", "Click a node to see its evidence: source URL, capture time, SHA-256."));
      draw();
      return;
    }
    var badge = el("span", "cg-badge", (data.types[n.type] || {}).name || n.type);
    badge.style.background = color(n);
    panel.appendChild(badge);
    panel.appendChild(el("h3", null, n.label));
    panel.appendChild(el("div", "cg-muted", n.id));
    var attrs = el("table");
    rows(attrs, n.attrs);
    panel.appendChild(el("h4", null, "Attributes"));
    panel.appendChild(attrs);
    panel.appendChild(el("h4", null, "Evidence (" + n.sightings + ")"));
    if (n.evidence.length) panel.appendChild(evidenceBlock(n.evidence, n.sightings));
    else panel.appendChild(el("div", "cg-muted", "none stored for this node; see its links"));
    panel.appendChild(el("h4", null, "Links (" + n.links.length + ")"));
    n.links.forEach(function (e) {
      var other = e.s === n ? e.t : e.s;
      var text = (e.s === n ? "→ " : "← ") + e.kind + ": " + other.label;
      if (e.attrs.amount !== undefined) text += " (" + (e.attrs.amount / 1e8).toFixed(8) + " BTC)";
      if (e.attrs.family) text += " [" + e.attrs.family + " " + e.attrs.value + "]";
      var button = el("button", "cg-link", text);
      button.type = "button";
      button.title = JSON.stringify(e.attrs);
      button.addEventListener("click", function () { select(other); center(other); });
      panel.appendChild(button);
      if (e.evidence.length && e.kind !== "found-on") {
        var details = el("details");
        details.appendChild(el("summary", "cg-muted", "evidence of this link (" + e.evidence.length + ")"));
        details.appendChild(evidenceBlock(e.evidence, e.attrs.count || e.evidence.length));
        panel.appendChild(details);
      }
    });
    draw();
  }

  function center(n) {
    view.x = width / 2 - n.x * view.k;
    view.y = height / 2 - n.y * view.k;
    draw();
  }

  // -- toolbar: search, legend toggles, fit, zoom ----------------------------------------------
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    matches = null;
    if (q) {
      matches = {};
      nodes.forEach(function (n) {
        var hay = (n.id + " " + n.label + " " + JSON.stringify(n.attrs)).toLowerCase();
        if (hay.indexOf(q) >= 0) matches[n.id] = true;
      });
    }
    draw();
  });
  search.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" || !matches) return;
    var first = nodes.filter(function (n) { return matches[n.id] && !n.hidden; })[0];
    if (first) { select(first); center(first); }
  });

  var legend = root.querySelector(".cg-legend");
  var counts = {};
  nodes.forEach(function (n) { counts[n.type] = (counts[n.type] || 0) + 1; });
  Object.keys(data.types).forEach(function (type) {
    if (!counts[type]) return;
    var label = el("label");
    label.title = data.types[type].name;
    var box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.addEventListener("change", function () {
      nodes.forEach(function (n) { if (n.type === type) n.hidden = !box.checked; });
      draw();
    });
    var dot = el("span", "cg-dot");
    dot.style.background = data.types[type].color;
    label.appendChild(box);
    label.appendChild(dot);
    label.appendChild(el("span", null, type.replace("_", " ") + " " + counts[type]));
    legend.appendChild(label);
  });

  root.querySelector("[data-cg=fit]").addEventListener("click", fit);
  root.querySelector("[data-cg=in]").addEventListener("click", function () { zoom(1.3, width / 2, height / 2); });
  root.querySelector("[data-cg=out]").addEventListener("click", function () { zoom(1 / 1.3, width / 2, height / 2); });
  var physicsBox = root.querySelector("[data-cg=physics]");
  physicsBox.checked = physics;
  physicsBox.addEventListener("change", function () { physics = physicsBox.checked; if (physics) reheat(0.3); });

  if (!nodes.length) root.querySelector(".cg-stage").appendChild(el("div", "cg-empty", "Nothing in the case yet: crawl, extract or sync first."));
  window.addEventListener("resize", function () { resize(); });
  resize();
  fit();
  select(null);
})();
