// The trainee's page: new messages from injects and the score appear without a reload.
(function () {
  "use strict";
  var POLL_MS = 5000;
  var list = document.getElementById("messages");
  var score = document.getElementById("score");
  if (!list || !score) { return; }
  var after = parseInt(list.getAttribute("data-after") || "0", 10);
  var started = list.getAttribute("data-started") || "";

  function hhmmss(t) {
    return new Date(t * 1000).toTimeString().slice(0, 8);
  }

  function poll() {
    fetch("/me.json?after=" + after, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        if (!started && data.started_at) {
          window.location.reload();  // the clock started: the answer forms open
          return;
        }
        score.textContent = String(data.score);
        var fresh = data.messages.slice().reverse();  // oldest first, so the newest ends on top
        fresh.forEach(function (m) {
          var none = list.querySelector(".none");
          if (none) { none.remove(); }
          var li = document.createElement("li");
          li.className = "new";
          var time = document.createElement("span");
          time.className = "time";
          time.textContent = hhmmss(m.time);
          li.appendChild(time);
          li.appendChild(document.createTextNode(" " + m.text));
          list.insertBefore(li, list.firstChild);
          after = Math.max(after, m.id);
        });
      })
      .catch(function () { /* try again at the next poll */ })
      .then(function () { window.setTimeout(poll, POLL_MS); });
  }

  window.setTimeout(poll, POLL_MS);
})();
