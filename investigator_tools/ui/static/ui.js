// Shared by every page of the workspace: large-text mode, copy, JSON posts, messages.
"use strict";
(function () {
  const KEY = "investigate-ui-large-text";

  // The page's language: its messages, plural categories and number symbols, written into
  // <body data-i18n> by the server (data, never run: the CSP forbids inline script).
  let table = { lang: "en", decimal: ".", group: ",", messages: {} };
  try { table = JSON.parse(document.body.dataset.i18n); } catch (e) { /* English */ }
  const plurals = new Intl.PluralRules(table.lang);

  function format(text, vars) {
    return vars ? text.replace(/%\((\w+)\)s/g, function (all, name) {
      return name in vars ? String(vars[name]) : all;
    }) : text;
  }

  // A message in the page's language, its %(name)s filled from vars.
  function _(text, vars) {
    const found = table.messages[text];
    return format(typeof found === "string" && found ? found : text, vars);
  }

  // A message that depends on a count n (vars.num is n, written in the locale's digits).
  function ngettext(singular, plural, n, vars) {
    const all = Object.assign({ num: num(n) }, vars || {});
    const forms = table.messages[singular];
    if (forms && typeof forms === "object") {
      const text = forms[plurals.select(n)] || forms.other;
      if (text) return format(text, all);
    }
    return format(n === 1 ? singular : plural, all);
  }

  // A number with the locale's decimal and grouping signs (Latin digits, as Babel writes).
  function num(value, digits) {
    if (value === null || value === undefined || value === "") return "";
    const text = digits === undefined ? String(value) : Number(value).toFixed(digits);
    const parts = text.split(".");
    const whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, "\u0000");
    return whole.split("\u0000").join(table.group) + (parts.length > 1 ? table.decimal + parts[1] : "");
  }

  // Satoshis as BTC, the locale's signs (no trailing zeros, or all 8 digits if fixed),
  // isolated left to right (U+2066 ... U+2069) so a right-to-left line never reorders it.
  function btc(sat, fixed) {
    if (sat === null || sat === undefined) return "";
    let whole = (Math.round(sat) / 1e8).toFixed(8);
    if (!fixed) whole = whole.replace(/0+$/, "").replace(/\.$/, "");
    return "\u2066" + num(whole) + " BTC\u2069";
  }

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
    toast(_("Copied: %(text)s", { text: text.length > 60 ? text.slice(0, 60) + "…" : text }));
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

  window.ui = {
    toast: toast, copy: copy, postJSON: postJSON,
    _: _, ngettext: ngettext, num: num, btc: btc, lang: table.lang,
  };

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
