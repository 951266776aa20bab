// The request form: sent as JSON, the portal's answer shown as the CLI prints it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const form = document.getElementById("request-form");
  if (!form) return;
  const _ = window.ui._;
  form.addEventListener("submit", async function (evt) {
    evt.preventDefault();
    const data = new FormData(form);
    const body = {};
    for (const key of ["exchange", "subject", "legal_basis", "document_ref", "case_number",
      "agency", "officer", "email", "details", "wallet", "token"]) {
      body[key] = String(data.get(key) || "");
    }
    body.asks = data.getAll("asks");
    body.confidential = data.get("confidential") !== null;
    const out = document.getElementById("answer");
    const button = document.getElementById("send-request");
    button.disabled = true;
    try {
      const answer = await window.ui.postJSON(form.dataset.api, body);
      out.textContent = answer.lines.join("\n");
      out.className = "answer";
      window.ui.toast(_("Answer stored in the case"));
    } catch (e) {
      out.textContent = e.message;
      out.className = "answer bad";
    } finally {
      out.hidden = false;
      button.disabled = false;
      form.elements.token.value = "";
    }
  });
});
