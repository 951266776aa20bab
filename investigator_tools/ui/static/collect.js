// The crawl form, its progress (polled), and the CAPTCHA it may wait on.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const form = document.getElementById("crawl-form");
  if (!form) return;
  let timer = null;

  function summary(state) {
    const r = state.result;
    const lines = [];
    if (state.error) lines.push(state.error);
    if (r) {
      lines.push("fetched " + r.fetched + " (" + r.images + " pictures), stored " + r.captured + " new captures");
      for (const host of r.logins || []) lines.push("logged in on " + host);
      for (const url of r.login_walls || []) lines.push("login wall: " + url);
      for (const f of r.failed || []) lines.push("failed: " + f.url + ": " + f.reason);
      if (r.pending) lines.push(r.pending + " pages still queued: start it again to continue");
    }
    return lines.join("\n");
  }

  function show(state) {
    const box = document.getElementById("progress");
    box.hidden = state.status === "idle";
    box.dataset.status = state.status;
    document.getElementById("crawl-status").textContent = state.status;
    document.getElementById("crawl-counts").textContent =
      (state.fetched || 0) + " fetched, " + (state.pending || 0) + " queued";
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
