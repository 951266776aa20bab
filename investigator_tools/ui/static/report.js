// The report button: writes the report as `investigate report` does, then links to it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const box = document.getElementById("report-box");
  if (!box) return;
  document.getElementById("write-report").addEventListener("click", async function () {
    const status = document.getElementById("report-status");
    const pdf = document.getElementById("with-pdf").checked;
    status.textContent = "writing…";
    box.dataset.busy = "1";
    try {
      const result = await window.ui.postJSON(box.dataset.api, { pdf: pdf });
      status.textContent = (result.verified
        ? "All " + result.captures + " captures verified. "
        : "TAMPERED: " + result.problems.length + " capture(s) do not match their SHA-256. ") +
        "Written to " + result.out;
      document.getElementById("report-links").hidden = false;
      document.getElementById("open-pdf").hidden = !result.pdf_url;
    } catch (e) {
      status.textContent = e.message;
    } finally {
      box.dataset.busy = "0";
    }
  });
});
