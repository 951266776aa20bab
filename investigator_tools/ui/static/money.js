// Follow the money: the Cytoscape.js canvas over the workspace's JSON API.
"use strict";
(function () {
  const _ = window.ui._, ngettext = window.ui.ngettext;
  let cy = null;
  let root = null;
  let selected = null; // {kind: "node"|"edge", id}

  const btc = window.ui.btc;

  function short(id) {
    return id.length > 20 ? id.slice(0, 10) + "…" + id.slice(-6) : id;
  }

  function nodeCaption(n) {
    if (n.kind === "rest") {
      return ngettext("%(num)s more (%(amount)s)", "%(num)s more (%(amount)s)", n.data.count || 0,
        { amount: btc(n.data.amount) });
    }
    if (n.kind === "cluster") {
      let text = ngettext("cluster of %(num)s address", "cluster of %(num)s addresses", n.data.size);
      if (n.data.labels && n.data.labels.length) text += "\n" + n.data.labels.join(", ");
      if (n.tags && n.tags.length) text += "\n#" + n.tags.join(" #");
      return text;
    }
    let text = (n.kind === "tx" ? _("tx") + " " : "") + short(n.id);
    if (n.label) text += "\n" + n.label;
    if (n.tags && n.tags.length) text += "\n#" + n.tags.join(" #");
    return text;
  }

  function element(n) {
    const classes = [n.kind];
    if (n.label_source) classes.push("labelled-" + n.label_source);
    if (n.note || (n.tags && n.tags.length)) classes.push("annotated");
    if (n.expanded) classes.push("expanded");
    return {
      group: "nodes",
      data: { id: n.id, caption: nodeCaption(n), info: n },
      classes: classes.join(" "),
    };
  }

  function edgeElement(e) {
    let caption = btc(e.amount);
    if (e.tags && e.tags.length) caption += "\n#" + e.tags.join(" #");
    return {
      group: "edges",
      data: { id: e.id, source: e.source, target: e.target, caption: caption, info: e },
      classes: e.note || (e.tags && e.tags.length) ? "annotated" : "",
    };
  }

  function fontSize() {
    return document.documentElement.classList.contains("large") ? 20 : 12;
  }

  function style() {
    const size = fontSize();
    return [
      { selector: "node", style: {
        "label": "data(caption)", "text-wrap": "wrap", "text-valign": "bottom", "text-margin-y": 4,
        "font-size": size, "font-family": "sans-serif", "color": "#111", "background-color": "#4a6fa5",
        "width": 26, "height": 26, "text-background-color": "#fff", "text-background-opacity": 0.8,
        "text-background-padding": 2 } },
      { selector: "node.tx", style: { "shape": "round-rectangle", "background-color": "#888", "width": 18, "height": 18 } },
      { selector: "node.rest", style: { "shape": "ellipse", "background-color": "#ddd", "border-width": 2,
        "border-style": "dashed", "border-color": "#777" } },
      { selector: "node.cluster", style: { "shape": "hexagon", "background-color": "#6a1b9a", "width": 44, "height": 44 } },
      { selector: "node.labelled-explorer", style: { "background-color": "#d08a1e" } },
      { selector: "node.labelled-analyst", style: { "background-color": "#b03a2e" } },
      { selector: "node.annotated", style: { "border-width": 4, "border-color": "#2e7d32" } },
      { selector: "node:selected", style: { "overlay-color": "#1565c0", "overlay-opacity": 0.25, "overlay-padding": 6 } },
      { selector: "edge", style: {
        "label": "data(caption)", "text-wrap": "wrap", "font-size": size * 0.9, "curve-style": "bezier",
        "target-arrow-shape": "triangle", "width": 2, "line-color": "#999", "target-arrow-color": "#999",
        "text-background-color": "#fff", "text-background-opacity": 0.85, "text-rotation": "autorotate" } },
      { selector: "edge.annotated", style: { "line-color": "#2e7d32", "target-arrow-color": "#2e7d32", "width": 3 } },
      { selector: "edge:selected", style: { "line-color": "#1565c0", "target-arrow-color": "#1565c0", "width": 4 } },
    ];
  }

  // The time filter: transactions outside the dates (and their links) are hidden; links
  // drawn by an expansion carry no time of their own and stay.
  function applyTimeFilter() {
    const from = document.getElementById("time-from").value;
    const to = document.getElementById("time-to").value;
    const low = from ? Date.parse(from + "T00:00:00Z") / 1000 : -Infinity;
    const high = to ? Date.parse(to + "T23:59:59Z") / 1000 : Infinity;
    let hidden = 0;
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        const d = n.data("info").data || {};
        const out = n.data("info").kind === "tx" && typeof d.time === "number" && (d.time < low || d.time > high);
        n.style("display", out ? "none" : "element");
        if (out) hidden += 1;
      });
    });
    root.dataset.hidden = String(hidden);
  }

  // Fit the graph in view, but never zoom a few nodes up to unreadable giant labels.
  function fitView() {
    cy.fit(undefined, 30);
    if (cy.zoom() > 1.2) {
      cy.zoom(1.2);
      cy.center();
    }
  }

  function status(text) {
    document.getElementById("status").textContent = text;
  }

  // New nodes go beside the node they came from: payers to its left, payees to its right.
  function place(graph, around) {
    const positioned = {};
    cy.nodes().forEach(function (n) { positioned[n.id()] = n.position(); });
    for (const n of graph.nodes) if (n.position) positioned[n.id] = n.position;
    const fresh = graph.nodes.filter(function (n) { return !positioned[n.id]; });
    if (!fresh.length) return positioned;
    const anchor = around && positioned[around] ? positioned[around] : { x: 0, y: 0 };
    const left = [], right = [], loose = [];
    for (const n of fresh) {
      if (graph.edges.some(function (e) { return e.source === n.id && e.target === around; })) left.push(n);
      else if (graph.edges.some(function (e) { return e.target === n.id && e.source === around; })) right.push(n);
      else loose.push(n);
    }
    const column = function (list, dx) {
      list.forEach(function (n, i) {
        positioned[n.id] = { x: anchor.x + dx, y: anchor.y + (i - (list.length - 1) / 2) * 70 };
      });
    };
    column(left, -320);
    column(right, 320);
    loose.forEach(function (n, i) {
      const count = cy.nodes().length + i;
      positioned[n.id] = { x: anchor.x + (count % 5) * 60, y: anchor.y + 120 + Math.floor(count / 5) * 80 };
    });
    return positioned;
  }

  // A trace adds whole chains of hops: lay its new nodes out left to right from the anchor.
  function layoutFresh(fresh, around) {
    const anchor = around ? cy.getElementById(around) : cy.collection();
    let part = cy.collection();
    for (const id of fresh) part = part.union(cy.getElementById(id));
    if (part.length < 2) return false;
    const nodes = part.union(anchor);
    const box = anchor.nonempty()
      ? { x1: anchor.position("x") - 40, y1: anchor.position("y") - 60 * Math.sqrt(nodes.length),
          w: 220 * Math.sqrt(nodes.length) + 80, h: 120 * Math.sqrt(nodes.length) }
      : undefined;
    const run = nodes.union(nodes.edgesWith(nodes)).layout({
      name: "breadthfirst", directed: true, roots: anchor.nonempty() ? anchor : undefined,
      boundingBox: box, spacingFactor: 1.1, animate: false, fit: false,
      transform: function (node, pos) { return { x: pos.y, y: pos.x }; },
    });
    run.one("layoutstop", saveLayout);
    run.run();
    return true;
  }

  function draw(graph, around, options) {
    const before = new Set(cy.nodes().map(function (n) { return n.id(); }));
    const positions = place(graph, around);
    const keep = selected;
    cy.elements().remove();
    const elements = graph.nodes.map(function (n) {
      return Object.assign(element(n), { position: positions[n.id] });
    }).concat(graph.edges.map(edgeElement));
    cy.add(elements);
    root.dataset.nodes = String(graph.nodes.length);
    root.dataset.edges = String(graph.edges.length);
    if (keep) {
      const again = cy.getElementById(keep.id);
      if (again.nonempty()) {
        again.select();
        show(again);
      } else {
        selected = null; // collapsed into a cluster, or gone
        document.getElementById("selected").hidden = true;
        document.getElementById("nothing").hidden = false;
      }
    }
    const fresh = graph.nodes.filter(function (n) { return !before.has(n.id) && !n.position; })
      .map(function (n) { return n.id; });
    if (!(options && options.trace && layoutFresh(fresh, around))) saveLayout();
    applyTimeFilter();
  }

  let layoutTimer = null;
  function saveLayout() {
    clearTimeout(layoutTimer);
    layoutTimer = setTimeout(function () {
      const positions = {};
      cy.nodes().forEach(function (n) { positions[n.id()] = [n.position("x"), n.position("y")]; });
      window.ui.postJSON(root.dataset.layout, { positions: positions }).catch(function (e) {
        window.ui.toast(_("Layout not saved: %(error)s", { error: e.message }), true);
      });
    }, 300);
  }

  function fact(list, name, value) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }

  function show(ele) {
    const info = ele.data("info");
    const isNode = ele.isNode();
    selected = { kind: isNode ? "node" : "edge", id: ele.id() };
    document.getElementById("nothing").hidden = true;
    document.getElementById("selected").hidden = false;
    const title = isNode
      ? { address: _("Address"), tx: _("Transaction"), rest: _("Folded counterparties"), cluster: _("Wallet cluster") }[info.kind]
      : _("Payment");
    document.getElementById("sel-title").textContent = title;
    document.getElementById("sel-id").textContent = isNode ? info.id : info.source + " → " + info.target;
    const label = document.getElementById("sel-label");
    label.textContent = isNode && info.label
      ? _("Label: %(label)s", { label: info.label + (info.category ? " (" + info.category + ")" : "") }) +
        " · " + (info.label_source === "explorer" ? _("from the explorer") : _("the case's own"))
      : "";
    const facts = document.getElementById("sel-facts");
    facts.replaceChildren();
    if (isNode) {
      const d = info.data || {};
      if (d.balance !== undefined) fact(facts, _("Balance"), btc(d.balance));
      if (d.received !== undefined) fact(facts, _("Received"), btc(d.received));
      if (d.sent !== undefined) fact(facts, _("Sent"), btc(d.sent));
      if (d.tx_count !== undefined) fact(facts, _("Transactions"), window.ui.num(d.tx_count));
      if (d.height !== undefined) fact(facts, _("Block"), window.ui.num(d.height));
      if (d.fee !== undefined && d.fee !== null) fact(facts, _("Fee"), btc(d.fee));
      if (info.kind === "rest") {
        fact(facts, _("Folded"), ngettext("%(num)s address, %(amount)s", "%(num)s addresses, %(amount)s",
          d.count || 0, { amount: btc(d.amount) }));
      }
      if (info.kind === "cluster") {
        fact(facts, _("Addresses"), ngettext("%(num)s (%(drawn)s were on the graph)",
          "%(num)s (%(drawn)s were on the graph)", d.size, { drawn: window.ui.num(d.drawn) }));
        if (d.labels && d.labels.length) fact(facts, _("Labels"), d.labels.join(", "));
      }
    } else {
      fact(facts, _("Amount"), btc(info.amount));
    }
    const many = info.kind === "rest" || info.kind === "cluster";
    document.getElementById("expand").hidden = !isNode || many;
    document.getElementById("trace-box").hidden = !isNode || many;
    document.getElementById("collapse").hidden = !isNode || info.kind !== "address";
    document.getElementById("path-box").hidden = !isNode || info.kind !== "address";
    document.getElementById("uncollapse").hidden = !isNode || info.kind !== "cluster";
    const request = document.getElementById("request-link");
    request.hidden = !isNode || many;
    request.href = root.dataset.request + "?subject=" + encodeURIComponent(info.id || "");
    document.getElementById("label-box").hidden = !isNode || info.kind !== "address";
    document.getElementById("note").value = info.note || "";
    document.getElementById("tags").value = (info.tags || []).join(", ");
    document.getElementById("label-name").value = info.label_source === "analyst" ? info.label : "";
    document.getElementById("label-category").value = info.label_source === "analyst" ? (info.category || "") : "";
  }

  async function act(url, body, around, done, options) {
    status(_("working…"));
    root.dataset.busy = "1";
    try {
      const data = await window.ui.postJSON(url, body);
      draw(data.graph, around, options);
      status("");
      if (done) done(data);
    } catch (e) {
      status("");
      window.ui.toast(e.message, true);
    } finally {
      root.dataset.busy = "0";
    }
  }

  function expand(id) {
    const top = parseInt(document.getElementById("top").value, 10) || 8;
    act(root.dataset.expand, { node: id, top: top }, id, function (data) {
      window.ui.toast(ngettext("Expanded: %(num)s counterparty", "Expanded: %(num)s counterparties", data.added.length));
    });
  }

  document.addEventListener("DOMContentLoaded", async function () {
    root = document.getElementById("money");
    if (!root || typeof cytoscape !== "function") return;
    cy = cytoscape({
      container: document.getElementById("cy"),
      style: style(),
      layout: { name: "preset" },
      wheelSensitivity: 0.3,
      minZoom: 0.1,
      maxZoom: 4,
    });
    cy.on("tap", "node, edge", function (evt) { show(evt.target); });
    cy.on("dbltap", "node", function (evt) {
      const kind = evt.target.data("info").kind;
      if (kind === "address" || kind === "tx") expand(evt.target.id());
    });
    cy.on("dragfree", "node", saveLayout);
    window.addEventListener("resize", function () { cy.style(style()); cy.resize(); });

    document.getElementById("add-form").addEventListener("submit", function (evt) {
      evt.preventDefault();
      const target = document.getElementById("add-target").value.trim();
      if (!target) return;
      act(root.dataset.add, { target: target }, null, function (data) {
        const node = cy.getElementById(data.node.id);
        cy.elements().unselect();
        node.select();
        show(node);
        cy.center(node);
        document.getElementById("add-target").value = "";
      });
    });
    document.getElementById("expand").addEventListener("click", function () {
      if (selected && selected.kind === "node") expand(selected.id);
    });
    document.getElementById("trace").addEventListener("click", function () {
      if (!selected || selected.kind !== "node") return;
      const body = {
        target: selected.id,
        method: document.getElementById("trace-method").value,
        direction: document.getElementById("trace-direction").value,
        hops: parseInt(document.getElementById("trace-hops").value, 10) || 6,
      };
      const around = selected.id;
      act(root.dataset.trace, body, around, function (data) {
        const services = data.services.map(function (s) { return s.label + " " + btc(s.amount); });
        const text = ngettext("Traced %(num)s transaction", "Traced %(num)s transactions", data.hops) +
          (data.truncated ? " " + _("(drew %(drawn)s)", { drawn: window.ui.num(data.drawn) }) : "") +
          (services.length ? "; " + _("reached %(services)s", { services: services.join(", ") }) : "");
        const box = document.getElementById("trace-result");
        box.textContent = text;
        for (const d of data.deposits) {
          // What to ask the service about: the deposit that carried the money in.
          const line = document.createElement("div");
          line.className = "deposit";
          line.append(_("%(service)s via deposit", { service: d.service }) + " ");
          const code = document.createElement("span");
          code.className = "mono wrap";
          code.textContent = d.deposit;
          const link = document.createElement("a");
          link.href = root.dataset.request + "?subject=" + encodeURIComponent(d.deposit);
          link.textContent = _("Request…");
          link.className = "deposit-request";
          line.append(code, " ", link);
          box.appendChild(line);
        }
        window.ui.toast(text);
      }, { trace: true });
    });
    document.getElementById("path").addEventListener("click", function () {
      if (!selected || selected.kind !== "node") return;
      const to = document.getElementById("path-to").value.trim();
      if (!to) return;
      act(root.dataset.path, { from: selected.id, to: to }, selected.id, function (data) {
        const text = data.found
          ? ngettext("Path found: %(num)s transaction", "Path found: %(num)s transactions", data.hops)
          : _("No path within the hops searched");
        document.getElementById("path-result").textContent = text;
        window.ui.toast(text);
      }, { trace: true });
    });
    document.getElementById("collapse").addEventListener("click", function () {
      if (!selected || selected.kind !== "node") return;
      const from = selected.id;
      act(root.dataset.collapse, { node: from }, from, function (data) {
        const node = cy.getElementById(data.node);
        cy.elements().unselect();
        node.select();
        show(node);
        window.ui.toast(ngettext("Collapsed %(num)s address into a cluster of %(size)s",
          "Collapsed %(num)s addresses into a cluster of %(size)s", data.collapsed.length,
          { size: window.ui.num(data.size) }));
      });
    });
    document.getElementById("uncollapse").addEventListener("click", function () {
      if (!selected || selected.kind !== "node") return;
      act(root.dataset.uncollapse, { node: selected.id }, null, function (data) {
        window.ui.toast(ngettext("Shown again: %(num)s address", "Shown again: %(num)s addresses", data.shown.length));
      });
    });
    document.getElementById("copy-id").addEventListener("click", function () {
      if (selected) window.ui.copy(selected.id);
    });
    document.getElementById("keep-picture").addEventListener("click", async function () {
      try {
        const png = cy.png({ full: true, bg: "#ffffff", maxWidth: 2400, maxHeight: 2400 });
        const kept = await window.ui.postJSON(root.dataset.picture, { png: png });
        window.ui.toast(_("Picture kept for the report (SHA-256 %(hash)s…)", { hash: kept.sha256.slice(0, 12) }));
      } catch (e) {
        window.ui.toast(e.message, true);
      }
    });
    document.getElementById("fit").addEventListener("click", fitView);
    document.getElementById("time-from").addEventListener("change", applyTimeFilter);
    document.getElementById("time-to").addEventListener("change", applyTimeFilter);
    document.getElementById("save-note").addEventListener("click", function () {
      if (!selected) return;
      const tags = document.getElementById("tags").value.split(",")
        .map(function (t) { return t.trim(); }).filter(function (t) { return t; });
      act(root.dataset.annotate, {
        kind: selected.kind, target: selected.id,
        note: document.getElementById("note").value, tags: tags,
      }, null, function () { window.ui.toast(_("Note saved in the case")); });
    });
    document.getElementById("save-label").addEventListener("click", function () {
      if (!selected || selected.kind !== "node") return;
      act(root.dataset.label, {
        address: selected.id,
        name: document.getElementById("label-name").value,
        category: document.getElementById("label-category").value,
      }, null, function () { window.ui.toast(_("Label saved in the case")); });
    });

    const response = await fetch(root.dataset.api, { credentials: "same-origin" });
    draw(await response.json(), null);
    if (cy.nodes().length) fitView();
    root.dataset.ready = "1";
  });
})();
