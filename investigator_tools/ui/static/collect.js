// The crawl form, its progress (polled), and the CAPTCHA it may wait on.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const form = document.getElementById("crawl-form");
  if (!form) return;
  const _ = window.ui._, ngettext = window.ui.ngettext;
  let timer = null;
  const STATES = {
    idle: _("idle"),
    running: _("running"),
    captcha: _("waiting for the CAPTCHA's answer"),
    done: _("done"),
    stopped: _("stopped"),
    failed: _("failed"),
  };

  function summary(state) {
    const r = state.result;
    const lines = [];
    if (state.error) lines.push(state.error);
    if (r) {
      lines.push(ngettext("fetched %(num)s (%(pictures)s pictures)", "fetched %(num)s (%(pictures)s pictures)", r.fetched,
        { pictures: window.ui.num(r.images) }) + ", " +
        ngettext("stored %(num)s new capture", "stored %(num)s new captures", r.captured));
      for (const host of r.logins || []) lines.push(_("logged in on %(host)s", { host: host }));
      for (const url of r.login_walls || []) lines.push(_("login wall: %(url)s", { url: url }));
      for (const f of r.failed || []) lines.push(_("failed: %(url)s: %(reason)s", { url: f.url, reason: f.reason }));
      if (r.pending) {
        lines.push(ngettext("%(num)s page still queued: start it again to continue",
          "%(num)s pages still queued: start it again to continue", r.pending));
      }
    }
    return lines.join("\n");
  }

  function show(state) {
    const box = document.getElementById("progress");
    box.hidden = state.status === "idle";
    box.dataset.status = state.status;
    document.getElementById("crawl-status").textContent = STATES[state.status] || state.status;
    document.getElementById("crawl-counts").textContent =
      _("%(fetched)s fetched, %(queued)s queued",
        { fetched: window.ui.num(state.fetched || 0), queued: window.ui.num(state.pending || 0) });
    document.getElementById("crawl-url").textContent = state.url || "";
    const captcha = document.getElementById("captcha-box");
    captcha.hidden = !state.captcha;
    if (state.captcha) {
      const img = document.getElementById("captcha-img");
      if (img.dataset.name !== state.captcha.name) {
        img.src = state.captcha.src;
        img.dataset.name = state.captcha.name;
        document.getElementById("captcha-answer").value = "";
        document.getElementById("captcha-answer").focus();
      }
    }
    const result = document.getElementById("crawl-result");
    const text = summary(state);
    result.hidden = !text;
    result.textContent = text;
    document.getElementById("start-crawl").disabled = state.status === "running" || state.status === "captcha";
  }

  async function poll() {
    clearTimeout(timer);
    const response = await fetch(form.dataset.status, { credentials: "same-origin" });
    const state = await response.json();
    show(state);
    if (state.status === "running" || state.status === "captcha") timer = setTimeout(poll, 1000);
  }

  form.addEventListener("submit", async function (evt) {
    evt.preventDefault();
    const data = new FormData(form);
    const body = {
      urls: String(data.get("urls") || "").split(/\s+/).filter(function (u) { return u; }),
      depth: parseInt(String(data.get("depth")), 10),
      max_pages: parseInt(String(data.get("max_pages")), 10),
      login: String(data.get("login") || ""),
    };
    const rate = String(data.get("rate") || "");
    if (rate !== "") body.rate = parseFloat(rate);
    for (const flag of ["follow_offsite", "no_images", "no_probe", "fresh"]) body[flag] = data.get(flag) !== null;
    try {
      show(await window.ui.postJSON(form.dataset.start, body));
      poll();
    } catch (e) {
      window.ui.toast(e.message, true);
    }
  });

  document.getElementById("captcha-form").addEventListener("submit", async function (evt) {
    evt.preventDefault();
    const answer = document.getElementById("captcha-answer").value.trim();
    if (!answer) return;
    try {
      show(await window.ui.postJSON(form.dataset.captcha, { answer: answer }));
      poll();
    } catch (e) {
      window.ui.toast(e.message, true);
    }
  });

  poll();
});
