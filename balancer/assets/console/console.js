// The operator console's only script (served by the admin server; the Content-Security-Policy allows nothing else).
// It refreshes the page's data in place: every few seconds it asks for the same URL with the ETag of what it shows
// (304 while nothing changed), swaps <main> when something did, shows how old the data is, and says "stale" when
// the admin server stops answering. Without it the pages still work; they just do not update themselves.
"use strict";

(() => {
  const refreshMs = Number(document.body.dataset.refreshMs) || 2000;
  const staleAfterMs = 3 * refreshMs;
  const freshness = document.getElementById("freshness");
  let etag = null;
  let lastFresh = Date.now();
  let problem = "";

  function describeAge(ms) {
    const seconds = Math.max(0, Math.round(ms / 1000));
    if (seconds < 120) return `${seconds} s ago`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
    return `${Math.round(seconds / 3600)} h ago`;
  }

  function showAges() {
    const now = Date.now();
    for (const element of document.querySelectorAll("time[data-age]")) {
      const at = Date.parse(element.getAttribute("datetime"));
      if (!Number.isNaN(at)) {
        element.textContent = describeAge(now - at);
        element.title = new Date(at).toISOString();
      }
    }
    if (freshness === null) return;
    const age = now - lastFresh;
    const stale = problem !== "" || age > staleAfterMs;
    freshness.classList.toggle("stale", stale);
    freshness.dataset.state = stale ? "stale" : "live";
    freshness.textContent = stale ? `Stale: last update ${describeAge(age)}${problem === "" ? "" : ` (${problem})`}` : `Live: updated ${describeAge(age)}`;
  }

  async function refresh() {
    try {
      const headers = etag === null ? {} : { "If-None-Match": etag };
      const answer = await fetch(window.location.href, { headers, cache: "no-store", credentials: "same-origin", redirect: "manual" });
      if (answer.status === 304) {
        lastFresh = Date.now();
        problem = "";
      } else if (answer.status === 200) {
        const next = new DOMParser().parseFromString(await answer.text(), "text/html").getElementById("live");
        const current = document.getElementById("live");
        if (next !== null && current !== null) {
          current.replaceWith(document.importNode(next, true));
          etag = answer.headers.get("ETag");
          lastFresh = Date.now();
          problem = "";
        } else {
          problem = "unexpected answer";
        }
      } else if (answer.type === "opaqueredirect" || answer.status === 401) {
        problem = "logged out: reload to log in";
      } else {
        problem = `admin server answered ${answer.status}`;
      }
    } catch {
      problem = "admin server unreachable";
    }
    showAges();
    window.setTimeout(refresh, refreshMs);
  }

  showAges();
  window.setInterval(showAges, 1000);
  if (document.getElementById("live") !== null) window.setTimeout(refresh, refreshMs);
})();
