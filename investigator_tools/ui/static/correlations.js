// Correlations: the stored links, or a fresh run of the toolkit's correlate.
"use strict";
(function () {
  const _ = window.ui._, ngettext = window.ui.ngettext;
  let links = [];

  function list(items) {
    const ul = document.createElement("ul");
    for (const item of items) {
      const li = document.createElement("li");
      li.textContent = item;
      ul.appendChild(li);
    }
    return ul;
  }

  function render() {
    const weak = document.getElementById("weak").checked;
    const body = document.querySelector("#correlations tbody");
    body.replaceChildren();
    const shown = links.filter(function (l) { return weak || l.strength === "strong"; });
    for (const link of shown) {
      const tr = document.createElement("tr");
      const family = document.createElement("td");
      family.textContent = link.strength === "strong" ? link.family : _("%(family)s (weak)", { family: link.family });
      const value = document.createElement("td");
      value.className = "mono wrap";
      value.textContent = link.value;
      const sites = document.createElement("td");
      sites.className = "wrap";
      sites.appendChild(list(link.sites));
      const personas = document.createElement("td");
      personas.className = "wrap";
      personas.appendChild(list(link.personas));
      const evidence = document.createElement("td");
      const ul = document.createElement("ul");
      for (const e of link.evidence) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = "captures/" + e.capture_id;
        a.textContent = e.url;
        a.className = "wrap";
        const when = document.createElement("div");
        when.className = "hash";
        when.textContent = (e.fetched_at || "").replace("T", " ").slice(0, 19) + " UTC · SHA-256 " + e.sha256;
        when.dir = "ltr";
        li.append(a, when);
        ul.appendChild(li);
      }
      evidence.appendChild(ul);
      tr.append(family, value, sites, personas, evidence);
      body.appendChild(tr);
    }
    document.getElementById("no-links").hidden = shown.length > 0;
  }

  document.addEventListener("DOMContentLoaded", async function () {
    const box = document.getElementById("correlations-box");
    if (!box) return;
    document.getElementById("weak").addEventListener("change", render);
    document.getElementById("correlate").addEventListener("click", async function () {
      const status = document.getElementById("correlate-status");
      status.textContent = _("correlating…");
      box.dataset.busy = "1";
      try {
        links = (await window.ui.postJSON(box.dataset.api, {})).links;
        status.textContent = ngettext("%(num)s link", "%(num)s links", links.length);
        render();
      } catch (e) {
        status.textContent = e.message;
      } finally {
        box.dataset.busy = "0";
      }
    });
    const response = await fetch(box.dataset.source, { credentials: "same-origin" });
    links = (await response.json()).links;
    render();
    box.dataset.ready = "1";
  });
})();
