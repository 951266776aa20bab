// The sweep dialog: check first (built and signed, not sent), then confirm to broadcast.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const form = document.getElementById("sweep-form");
  if (!form) return;
  const _ = window.ui._, ngettext = window.ui.ngettext;
  let checked = null;

  function btc(sat) {
    return window.ui.btc(sat, true);
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
          _("Moves %(amount)s to %(to)s", { amount: btc(report.amount), to: report.to }),
          ngettext("from %(num)s output of %(addresses)s", "from %(num)s outputs of %(addresses)s",
            report.inputs.length, { addresses: report.addresses_used.join(", ") }),
          _("fee %(fee)s (%(rate)s sat/vB, %(vsize)s vB)",
            { fee: btc(report.fee), rate: window.ui.num(report.fee_rate), vsize: window.ui.num(report.vsize) }),
          _("transaction %(txid)s", { txid: report.txid }),
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
      done.textContent = _("%(status)s: %(txid)s moves %(amount)s to %(to)s",
        { status: report.status, txid: report.txid, amount: btc(report.amount), to: report.to }) +
        (report.txid !== checked.txid ? "\n" + _("(the coins changed since the check: this is a new transaction)") : "");
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
