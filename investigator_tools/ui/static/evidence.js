// The artefacts table: filled from the JSON endpoint, filtered and sorted here.
"use strict";
(function () {
  const _ = window.ui._, ngettext = window.ui.ngettext;
  let rows = [];
  let sortKey = "kind";
  let sortUp = true;

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function render(table) {
    const filter = document.getElementById("filter").value.trim().toLowerCase();
    const kind = document.getElementById("kind").value;
    const shown = rows.filter(function (r) {
      if (kind && r.kind !== kind) return false;
      if (!filter) return true;
      return [r.kind, r.value, r.url, r.host, r.sha256, r.context].join(" ").toLowerCase().includes(filter);
    });
    shown.sort(function (a, b) {
      const x = String(a[sortKey]), y = String(b[sortKey]);
      return (x < y ? -1 : x > y ? 1 : 0) * (sortUp ? 1 : -1);
    });
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const r of shown) {
      const tr = document.createElement("tr");
      tr.dataset.id = r.id;
      cell(tr, r.kind);
      const value = cell(tr, r.value, "mono wrap value");
      value.title = r.context;
      const where = cell(tr, "", "wrap");
      const link = document.createElement("a");
      link.href = "captures/" + r.capture_id;
      link.textContent = r.url;
      where.appendChild(link);
      cell(tr, r.fetched_at, "nowrap");
      cell(tr, r.sha256, "mono hash");
      const actions = cell(tr, "", "nowrap");
      const copyButton = document.createElement("button");
      copyButton.type = "button";
      copyButton.textContent = _("Copy");
      copyButton.className = "copy";
      copyButton.addEventListener("click", function () { window.ui.copy(r.value); });
      actions.appendChild(copyButton);
      if (r.kind === "btc_address") {
        const add = document.createElement("button");
        add.type = "button";
        add.textContent = _("Add to graph");
        add.className = "add-graph";
        add.addEventListener("click", async function () {
          add.disabled = true;
          try {
            await window.ui.postJSON(table.dataset.add, { target: r.value });
            window.ui.toast(_("Added to the graph: %(target)s", { target: r.value }));
          } catch (e) {
            window.ui.toast(e.message, true);
          } finally {
            add.disabled = false;
          }
        });
        actions.appendChild(add);
      }
      body.appendChild(tr);
    }
    document.getElementById("count").textContent = ngettext("%(shown)s of %(num)s sighting",
      "%(shown)s of %(num)s sightings", rows.length, { shown: window.ui.num(shown.length) });
    document.getElementById("empty").hidden = rows.length > 0;
    for (const th of table.tHead.querySelectorAll("th[data-sort]")) {
      th.setAttribute("aria-sort", th.dataset.sort === sortKey ? (sortUp ? "ascending" : "descending") : "none");
    }
  }

  async function load(table) {
    const response = await fetch(table.dataset.source, { credentials: "same-origin" });
    rows = (await response.json()).artefacts;
    const kinds = Array.from(new Set(rows.map(function (r) { return r.kind; }))).sort();
    const select = document.getElementById("kind");
    const chosen = select.value;
    select.replaceChildren();
    const all = document.createElement("option");
    all.value = "";
    all.textContent = _("all");
    select.appendChild(all);
    for (const k of kinds) {
      const option = document.createElement("option");
      option.value = k;
      option.textContent = k;
      select.appendChild(option);
    }
    select.value = kinds.includes(chosen) ? chosen : "";
    render(table);
  }

  document.addEventListener("DOMContentLoaded", async function () {
    const table = document.getElementById("artefacts");
    if (!table) return;
    const select = document.getElementById("kind");
    document.getElementById("extract").addEventListener("click", async function () {
      try {
        const done = await window.ui.postJSON(table.dataset.extract, {});
        window.ui.toast(ngettext("%(num)s new capture read", "%(num)s new captures read", done.read) + ", " +
          ngettext("%(num)s artefact added", "%(num)s artefacts added", done.added));
        await load(table);
      } catch (e) {
        window.ui.toast(e.message, true);
      }
    });
    await load(table);
    document.getElementById("filter").addEventListener("input", function () { render(table); });
    select.addEventListener("change", function () { render(table); });
    for (const th of table.tHead.querySelectorAll("th[data-sort]")) {
      th.tabIndex = 0;
      th.addEventListener("click", function () {
        sortUp = sortKey === th.dataset.sort ? !sortUp : true;
        sortKey = th.dataset.sort;
        render(table);
      });
    }
    table.dataset.ready = "1";
  });
})();
