// Posts the raw transaction to the REST API, as wallets do; without JavaScript the form
// still works through the page's own POST handler.
(function () {
  var form = document.getElementById("broadcast");
  var out = document.getElementById("result");
  if (!form || !window.fetch) return;
  // The page's language: the form carries each phrase in a data-t-* attribute.
  function t(key, english) { return form.getAttribute("data-t-" + key) || english; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var hex = form.elements.tx.value.trim();
    out.textContent = t("broadcasting", "Broadcasting…");
    fetch(form.dataset.api, { method: "POST", body: hex })
      .then(function (r) { return r.text().then(function (t) { return [r.ok, t]; }); })
      .then(function (res) {
        out.textContent = "";
        var p = document.createElement("p");
        if (res[0]) {
          p.className = "ok";
          p.appendChild(document.createTextNode(t("accepted", "Accepted:") + " "));
          var a = document.createElement("a");
          a.className = "mono";
          a.href = form.dataset.tx.replace("TXID", res[1]);
          a.textContent = res[1];
          p.appendChild(a);
        } else {
          p.className = "error";
          p.appendChild(document.createTextNode(t("rejected", "Rejected:") + " "));
          var c = document.createElement("code");
          c.textContent = res[1];
          p.appendChild(c);
        }
        out.appendChild(p);
      })
      .catch(function (e) { out.textContent = t("network-error", "Network error:") + " " + e; });
  });
})();
