// Shared by every page of the workspace: large-text mode, copy, JSON posts, messages.
"use strict";
(function () {
  const KEY = "investigate-ui-large-text";

  function setLarge(on) {
    document.documentElement.classList.toggle("large", on);
    const button = document.getElementById("large-text");
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
    try { localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
    window.dispatchEvent(new Event("resize"));
  }

  function toast(text, bad) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.className = bad ? "show bad" : "show";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.className = ""; }, bad ? 8000 : 2500);
  }

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      // No clipboard API (an older browser): select the text in a scratch field.
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    toast("Copied: " + (text.length > 60 ? text.slice(0, 60) + "…" : text));
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      throw new Error((data && data.error) || ("HTTP " + response.status));
    }
    return data;
  }

  window.ui = { toast: toast, copy: copy, postJSON: postJSON };

  document.addEventListener("DOMContentLoaded", function () {
    let large = false;
    try { large = localStorage.getItem(KEY) === "1"; } catch (e) { large = false; }
    setLarge(large);
    const button = document.getElementById("large-text");
    if (button) {
      button.addEventListener("click", function () {
        setLarge(!document.documentElement.classList.contains("large"));
      });
    }
  });
})();
