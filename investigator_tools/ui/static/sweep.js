// The sweep dialog: check first (built and signed, not sent), then confirm to broadcast.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const form = document.getElementById("sweep-form");
  if (!form) return;
  let checked = null;

  function btc(sat) {
    return (sat / 1e8).toFixed(8) + " BTC";
  }

  function body(confirm) {
    const data = new FormData(form);
    const out = {
      to: String(data.get("to") || "").trim(),
      key: String(data.get("key") || "").trim() || null,
      mnemonic: String(data.get("mnemonic") || "").trim() || null,
      passphrase: String(data.get("passphrase") || ""),
      confirm: confirm,
    };
    const rate = String(data.get("fee_rate") || "");
    if (rate !== "") out.fee_rate = parseFloat(rate);
    if (confirm && checked) out.fee_rate = checked.fee_rate; // what the trainee saw
    return out;
  }

  form.addEventListener("submit", async function (evt) {
    evt.preventDefault();
    const summary = document.getElementById("sweep-summary");
    const text = document.getElementById("sweep-text");
    document.getElementById("sweep-done").hidden = true;
    try {
      const report = await window.ui.postJSON(form.dataset.api, body(false));
      if (!report.txid) {
        checked = null;
        text.textContent = report.message;
        document.getElementById("sweep-confirm").hidden = true;
      } else {
        checked = report;
        text.textContent = [
          "Moves " + btc(report.amount) + " to " + report.to,
          "from " + report.inputs.length + " output(s) of " + report.addresses_used.join(", "),
          "fee " + btc(report.fee) + " (" + report.fee_rate + " sat/vB, " + report.vsize + " vB)",
          "transaction " + report.txid,
        ].join("\n");
        document.getElementById("sweep-confirm").hidden = false;
      }
      summary.hidden = false;
      form.dataset.checked = checked ? "1" : "0";
    } catch (e) {
      window.ui.toast(e.message, true);
    }
  });

  document.getElementById("sweep-cancel").addEventListener("click", function () {
    checked = null;
    document.getElementById("sweep-summary").hidden = true;
  });

  document.getElementById("sweep-confirm").addEventListener("click", async function () {
    if (!checked) return;
    const done = document.getElementById("sweep-done");
    try {
      const report = await window.ui.postJSON(form.dataset.api, body(true));
      done.textContent = report.status + ": " + report.txid + " moves " + btc(report.amount) + " to " + report.to +
        (report.txid !== checked.txid ? "\n(the coins changed since the check: this is a new transaction)" : "");
      done.className = "answer";
    } catch (e) {
      done.textContent = e.message;
      done.className = "answer bad";
    }
    done.hidden = false;
    document.getElementById("sweep-summary").hidden = true;
    checked = null;
    form.elements.key.value = "";
    form.elements.mnemonic.value = "";
    form.elements.passphrase.value = "";
  });
});
