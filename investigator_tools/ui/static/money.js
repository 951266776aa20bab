// Follow the money: the Cytoscape.js canvas over the workspace's JSON API.
"use strict";
(function () {
  const _ = window.ui._, ngettext = window.ui.ngettext;
  let cy = null;
  let root = null;
  let selected = null; // {kind: "node"|"edge", id}

  const btc = window.ui.btc;

  // An amount in its unit: satoshis as BTC; Tron's USDT and TRX have 6 decimals.
  function money(amount, asset) {
    if (!asset) return btc(amount);
    if (amount === null || amount === undefined) return "";
    const whole = (Math.round(amount) / 1e6).toFixed(6).replace(/0+$/, "").replace(/\.$/, "");
    return "\u2066" + window.ui.num(whole) + " " + asset + "\u2069";
  }

  function isTron(kind) {
    return kind === "tron" || kind === "tron_tx";
  }

  function when(seconds) {
    // ISO order, isolated left to right: a right-to-left line never reorders it.
    return seconds ? "\u2066" + new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC\u2069" : "";
  }

  function short(id) {
    return id.length > 20 ? id.slice(0, 10) + "…" + id.slice(-6) : id;
  }

  function nodeCaption(n) {
    if (n.kind === "rest") {
      return ngettext("%(num)s more (%(amount)s)", "%(num)s more (%(amount)s)", n.data.count || 0,
        { amount: money(n.data.amount, n.data.asset) });
    }
    if (n.kind === "cluster") {
      let text = ngettext("cluster of %(num)s address", "cluster of %(num)s addresses", n.data.size);
      if (n.data.labels && n.data.labels.length) text += "\n" + n.data.labels.join(", ");
      if (n.tags && n.tags.length) text += "\n#" + n.tags.join(" #");
      return text;
    }
    let text = (n.kind === "tx" || n.kind === "tron_tx" ? _("tx") + " " : "") + short(n.id);
    if (n.label) text += "\n" + n.label;
    if (n.data && n.data.blacklisted) text += "\n" + _("BLACKLISTED");
    if (n.tags && n.tags.length) text += "\n#" + n.tags.join(" #");
    return text;
  }

  function element(n) {
    const classes = [n.kind];
    if (n.label_source) classes.push("labelled-" + n.label_source);
    if (n.note || (n.tags && n.tags.length)) classes.push("annotated");
    if (n.expanded) classes.push("expanded");
    if (n.data && n.data.blacklisted) classes.push("blacklisted");
    return {
      group: "nodes",
      data: { id: n.id, caption: nodeCaption(n), info: n },
      classes: classes.join(" "),
    };
  }

  function edgeCaption(e, amount) {
    let caption = money(amount, e.asset);
    if (e.tags && e.tags.length) caption += "\n#" + e.tags.join(" #");
    return caption;
  }

  function edgeElement(e) {
    const classes = [];
    if (e.note || (e.tags && e.tags.length)) classes.push("annotated");
    if (e.asset) classes.push("asset-" + e.asset.toLowerCase());
    return {
      group: "edges",
      data: { id: e.id, source: e.source, target: e.target, caption: edgeCaption(e, e.amount), info: e },
      classes: classes.join(" "),
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
      { selector: "node.labelled-tronscan", style: { "background-color": "#d08a1e" } },
      { selector: "node.labelled-analyst", style: { "background-color": "#b03a2e" } },
      { selector: "node.tron", style: { "shape": "diamond" } },
      { selector: "node.tron_tx", style: { "shape": "round-rectangle", "background-color": "#888", "width": 18, "height": 18 } },
      { selector: "node.blacklisted", style: { "border-width": 5, "border-color": "#000", "border-style": "double" } },
      { selector: "node.annotated", style: { "border-width": 4, "border-color": "#2e7d32" } },
      { selector: "node:selected", style: { "overlay-color": "#1565c0", "overlay-opacity": 0.25, "overlay-padding": 6 } },
      { selector: "edge", style: {
        "label": "data(caption)", "text-wrap": "wrap", "font-size": size * 0.9, "curve-style": "bezier",
        "target-arrow-shape": "triangle", "width": 2, "line-color": "#999", "target-arrow-color": "#999",
        "text-background-color": "#fff", "text-background-opacity": 0.85, "text-rotation": "autorotate" } },
      { selector: "edge.asset-usdt", style: { "line-color": "#26a17b", "target-arrow-color": "#26a17b" } },
      { selector: "edge.asset-trx", style: { "line-color": "#c23631", "target-arrow-color": "#c23631", "line-style": "dashed" } },
      { selector: "edge.annotated", style: { "line-color": "#2e7d32", "target-arrow-color": "#2e7d32", "width": 3 } },
      { selector: "edge:selected", style: { "line-color": "#1565c0", "target-arrow-color": "#1565c0", "width": 4 } },
    ];
  }

  // The time filter: a link shows only the payments it sums that fall between the dates
  // (its amount is their sum) and is hidden when none does; transactions outside the dates
  // are hidden, and so are addresses left with no link shown. Links kept from before links
  // had times (no times) always show.
  function applyTimeFilter() {
    const from = document.getElementById("time-from").value;
    const to = document.getElementById("time-to").value;
    const low = from ? Date.parse(from + "T00:00:00Z") / 1000 : -Infinity;
    const high = to ? Date.parse(to + "T23:59:59Z") / 1000 : Infinity;
    const windowed = Boolean(from || to);
    let hidden = 0;
    let hiddenEdges = 0;
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        const d = n.data("info").data || {};
        const kind = n.data("info").kind;
        const out = (kind === "tx" || kind === "tron_tx") && typeof d.time === "number" && (d.time < low || d.time > high);
        n.style("display", out ? "none" : "element");
        if (out) hidden += 1;
      });
      cy.edges().forEach(function (e) {
        const info = e.data("info");
        let amount = info.amount;
        let out = e.source().style("display") === "none" || e.target().style("display") === "none";
        if (windowed && Array.isArray(info.times)) {
          const inside = info.times.filter(function (p) { return p[0] >= low && p[0] <= high; });
          amount = inside.reduce(function (sum, p) { return sum + p[1]; }, 0);
          if (!inside.length) out = true;
        }
        e.data("caption", edgeCaption(info, amount));
        e.style("display", out ? "none" : "element");
        if (out) hiddenEdges += 1;
      });
      if (windowed) {
        cy.nodes().forEach(function (n) {
          const kind = n.data("info").kind;
          if (n.style("display") === "none" || kind === "tx" || kind === "tron_tx" || n.selected()) return;
          const links = n.connectedEdges();
          if (links.nonempty() && links.every(function (e) { return e.style("display") === "none"; })) {
            n.style("display", "none");
            hidden += 1;
          }
        });
      }
    });
    root.dataset.hidden = String(hidden);
    root.dataset.hiddenEdges = String(hiddenEdges);
  }

  // The window is a view setting kept in the case: the next visit shows the same links.
  async function saveView() {
    applyTimeFilter();
    try {
      await window.ui.postJSON(root.dataset.view, {
        from: document.getElementById("time-from").value,
        to: document.getElementById("time-to").value,
      });
      root.dataset.viewSaved = document.getElementById("time-from").value + "/" + document.getElementById("time-to").value;
    } catch (e) {
      window.ui.toast(_("Time window not saved: %(error)s", { error: e.message }), true);
    }
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
      ? { address: _("Address"), tx: _("Transaction"), rest: _("Folded counterparties"), cluster: _("Wallet cluster"),
          tron: _("Tron address"), tron_tx: _("Tron transaction") }[info.kind]
      : (info.asset ? _("%(asset)s payment", { asset: info.asset }) : _("Payment"));
    document.getElementById("sel-title").textContent = title;
    document.getElementById("sel-id").textContent = isNode ? info.id : info.source + " → " + info.target;
    const label = document.getElementById("sel-label");
    label.textContent = isNode && info.label
      ? _("Label: %(label)s", { label: info.label + (info.category ? " (" + info.category + ")" : "") }) +
        " · " + (info.label_source === "explorer" || info.label_source === "tronscan" ? _("from the explorer") : _("the case's own"))
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
      if (info.kind === "tron") {
        for (const asset of ["usdt", "trx"]) {
          const a = d[asset];
          if (!a) continue;
          const unit = asset.toUpperCase();
          fact(facts, _("%(asset)s received", { asset: unit }), money(a.received, unit) + " (" +
            ngettext("%(num)s transfer", "%(num)s transfers", a.transfers_in) + ")");
          fact(facts, _("%(asset)s sent", { asset: unit }), money(a.sent, unit) + " (" +
            ngettext("%(num)s transfer", "%(num)s transfers", a.transfers_out) + ")");
        }
        if (d.node) fact(facts, _("Balance now"), money(d.node.usdt, "USDT") + ", " + money(d.node.trx, "TRX"));
        if (d.transactions !== undefined) fact(facts, _("Transactions"), window.ui.num(d.transactions));
        if (d.first_seen) {
          fact(facts, _("Active"), _("%(from)s to %(to)s", { from: when(d.first_seen), to: when(d.last_seen) }));
        }
        if (d.first_funder) {
          fact(facts, _("Activated by"), d.first_funder.funder + (d.first_funder.label ? " (" + d.first_funder.label + ")" : ""));
        }
        if (d.blacklisted !== undefined) fact(facts, _("Blacklisted by the issuer"), d.blacklisted ? _("yes") : _("no"));
      }
      if (info.kind === "tron_tx") {
        if (d.time) fact(facts, _("Time"), when(d.time));
        if (d.result) fact(facts, _("Result"), d.result);
      }
      if (info.kind === "rest") {
        fact(facts, _("Folded"), ngettext("%(num)s address, %(amount)s", "%(num)s addresses, %(amount)s",
          d.count || 0, { amount: money(d.amount, d.asset) }));
      }
      if (info.kind === "cluster") {
        fact(facts, _("Addresses"), ngettext("%(num)s (%(drawn)s were on the graph)",
          "%(num)s (%(drawn)s were on the graph)", d.size, { drawn: window.ui.num(d.drawn) }));
        if (d.labels && d.labels.length) fact(facts, _("Labels"), d.labels.join(", "));
      }
    } else {
      fact(facts, _("Amount"), money(info.amount, info.asset));
      if (Array.isArray(info.times) && info.times.length) {
        const first = when(info.times[0][0]);
        const last = when(info.times[info.times.length - 1][0]);
        fact(facts, _("Payments"), window.ui.num(info.times.length) + ", " +
          (info.times.length > 1 ? _("%(from)s to %(to)s", { from: first, to: last }) : first));
      }
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
    document.getElementById("trace-asset-box").hidden = !isTron(info.kind);
    document.getElementById("label-box").hidden = !isNode || (info.kind !== "address" && info.kind !== "tron");
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
      if (kind === "address" || kind === "tx" || isTron(kind)) expand(evt.target.id());
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
      const info = cy.getElementById(selected.id).data("info");
      if (info && isTron(info.kind)) body.asset = document.getElementById("trace-asset").value;
      const around = selected.id;
      act(root.dataset.trace, body, around, function (data) {
        const services = data.services.map(function (s) { return s.label + " " + money(s.amount, data.asset); });
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
    document.getElementById("time-from").addEventListener("change", saveView);
    document.getElementById("time-to").addEventListener("change", saveView);
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
    const graph = await response.json();
    document.getElementById("time-from").value = (graph.view && graph.view.from) || "";
    document.getElementById("time-to").value = (graph.view && graph.view.to) || "";
    draw(graph, null);
    if (cy.nodes().length) fitView();
    root.dataset.ready = "1";
  });
})();
