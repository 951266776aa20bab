// The instructor's live board and projector view: poll board.json and redraw, no reload.
// Same-origin only (the page's CSP allows nothing else); data is inserted as text, never HTML.
(function () {
  "use strict";
  var POLL_MS = 2000;
  var url = "/instructor/board.json";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // The page's language: its layout puts each translated phrase in a data-t-* attribute of
  // <body>, with %(name)s where a value goes (English when the attribute is absent).
  function t(key, english, values) {
    var text = document.body.getAttribute("data-t-" + key) || english;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(String(values[name]));
    });
    return text;
  }

  function hhmmss(t) {
    return new Date(t * 1000).toTimeString().slice(0, 8);
  }

  function elapsed(started, now) {
    var s = Math.max(0, Math.floor(now - started));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + ":" : "") + (m < 10 && h ? "0" : "") + m + ":" + (r < 10 ? "0" : "") + r;
  }

  function drawBoard(data) {
    var body = document.getElementById("board-body");
    if (!body) { return; }
    var rows = document.createDocumentFragment();
    data.seats.forEach(function (s) {
      var tr = el("tr");
      tr.setAttribute("data-seat", s.n);
      var first = el("td");
      var link = el("a", null, s.n);
      link.href = "/instructor/seats/" + s.n;
      first.appendChild(link);
      tr.appendChild(first);
      tr.appendChild(el("td", "name", s.name || "—"));
      tr.appendChild(el("td", "num score", s.score));
      data.objectives.forEach(function (o) {
        var c = s.cells[o.id];
        var cls = "cell";
        var text = "";
        if (c) {
          cls += c.solved ? " solved" : (c.exhausted ? " exhausted" : (c.attempts ? " tried" : ""));
          text = (c.solved ? "✔" : (c.exhausted ? "✘" : "")) + (c.attempts || "");
        }
        var td = el("td", cls, text);
        td.setAttribute("data-objective", o.id);
        if (c && c.hints) { td.appendChild(el("sup", null, "h" + c.hints)); }
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
  }

  function drawScoreboard(data) {
    var list = document.getElementById("scoreboard");
    if (!list) { return; }
    var seats = data.seats.filter(function (s) { return s.name; });
    seats.sort(function (a, b) { return b.score - a.score || a.n - b.n; });
    var items = document.createDocumentFragment();
    seats.forEach(function (s) {
      var li = el("li");
      li.appendChild(el("span", "who", s.name));
      var meter = el("meter");
      meter.min = 0;
      meter.max = data.max_score || 1;
      meter.value = s.score;
      li.appendChild(meter);
      li.appendChild(el("span", "pts", s.score));
      items.appendChild(li);
    });
    if (!seats.length) { items.appendChild(el("li", "muted", t("nobody", "Nobody has joined yet."))); }
    list.replaceChildren(items);
  }

  function drawEvents(data) {
    var list = document.getElementById("events");
    if (!list) { return; }
    var items = document.createDocumentFragment();
    data.events.forEach(function (e) {
      var li = el("li");
      li.appendChild(el("span", "time", hhmmss(e.time)));
      var who = e.name || (e.seat !== null ? t("seat", "seat %(n)s", { n: e.seat }) : t("class", "class"));
      var ok = e.kind === "answer" ? (e.ok ? " ✔" : " ✘") : "";
      li.appendChild(document.createTextNode(
        who + ": " + t("kind-" + e.kind, e.kind) + " " + (e.detail || "") + ok));
      items.appendChild(li);
    });
    if (!data.events.length) { items.appendChild(el("li", "muted", t("nothing", "Nothing yet."))); }
    list.replaceChildren(items);
  }

  function drawClock(data) {
    var clock = document.getElementById("clock");
    if (!clock) { return; }
    if (document.body.classList.contains("demo")) {
      clock.textContent = data.started_at ? elapsed(data.started_at, data.now) : t("not-started", "not started");
    } else {
      clock.textContent = data.started_at
        ? t("started", "Started %(time)s (%(elapsed)s ago)",
            { time: hhmmss(data.started_at), elapsed: elapsed(data.started_at, data.now) })
        : t("clock-not-started", "Clock not started");
    }
    var updated = document.getElementById("updated");
    if (updated) { updated.textContent = t("updated", "updated %(time)s", { time: hhmmss(data.now) }); }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        drawBoard(data);
        drawScoreboard(data);
        drawEvents(data);
        drawClock(data);
        document.body.setAttribute("data-polled", String(data.now));
      })
      .catch(function () { /* the next poll tries again: a laptop's wifi blinks */ })
      .then(function () { window.setTimeout(poll, POLL_MS); });
  }

  poll();
})();
