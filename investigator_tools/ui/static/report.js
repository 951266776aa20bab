// The report button: writes the report as `investigate report` does, then links to it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const box = document.getElementById("report-box");
  if (!box) return;
  const _ = window.ui._, ngettext = window.ui.ngettext;
  document.getElementById("write-report").addEventListener("click", async function () {
    const status = document.getElementById("report-status");
    const pdf = document.getElementById("with-pdf").checked;
    status.textContent = _("writing…");
    box.dataset.busy = "1";
    try {
      const result = await window.ui.postJSON(box.dataset.api, { pdf: pdf });
      status.textContent = (result.verified
        ? ngettext("%(num)s capture verified.", "All %(num)s captures verified.", result.captures)
        : ngettext("TAMPERED: %(num)s capture does not match its SHA-256.",
          "TAMPERED: %(num)s captures do not match their SHA-256.", result.problems.length)) +
        " " + _("Written to %(folder)s", { folder: result.out });
      document.getElementById("report-links").hidden = false;
      document.getElementById("open-pdf").hidden = !result.pdf_url;
    } catch (e) {
      status.textContent = e.message;
    } finally {
      box.dataset.busy = "0";
    }
  });
});
