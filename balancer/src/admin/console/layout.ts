import { html, type HtmlValue, type SafeHtml } from "./html.js";

export const consoleBase = "/admin/console";

export type ConsolePage = "fleet" | "tenants" | "meetings";

const pageTitles: Record<ConsolePage, string> = { fleet: "Fleet", tenants: "Tenants", meetings: "Meetings" };

/** A page without the operator's navigation: the login and the pages that refuse. */
export function plainPage(title: string, main: HtmlValue): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · mediaplane console</title>
<link rel="stylesheet" href="${consoleBase}/assets/console.css">
</head>
<body>
<header class="bar"><span class="brand">mediaplane console</span></header>
<main>${main}</main>
</body>
</html>
`;
}

export interface ConsoleFrame {
  page: ConsolePage;
  operator: string;
  csrfToken: string;
  /** How often the page asks for fresh data. */
  refreshMs: number;
  /** Filters and search, outside `<main>` so a refresh never replaces what the operator is typing. */
  toolbar?: SafeHtml;
}

/**
 * A page of the signed-in console. The script refreshes `<main>` (the data) in place; everything outside it stays
 * put. No inline script or style anywhere: the Content-Security-Policy allows only the console's own files.
 */
export function consolePage(frame: ConsoleFrame, main: HtmlValue): SafeHtml {
  const links = (Object.keys(pageTitles) as ConsolePage[]).map(
    (page) => html`<a href="${consoleBase}/${page}"${page === frame.page ? html` aria-current="page"` : ""}>${pageTitles[page]}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${pageTitles[frame.page]} · mediaplane console</title>
<link rel="stylesheet" href="${consoleBase}/assets/console.css">
<script src="${consoleBase}/assets/console.js" defer></script>
</head>
<body data-refresh-ms="${frame.refreshMs}">
<header class="bar">
<span class="brand">mediaplane console</span>
<nav>${links}</nav>
<p id="freshness" class="freshness" role="status">Live</p>
<form method="post" action="${consoleBase}/logout" class="logout">
<input type="hidden" name="csrf" value="${frame.csrfToken}">
<span class="operator">${frame.operator}</span> <button type="submit">Log out</button>
</form>
</header>
${frame.toolbar ?? ""}
<main id="live">${main}</main>
</body>
</html>
`;
}

/** A time the script turns into "12 s ago"; without the script it reads as UTC. */
export function timeAgo(iso: string | undefined): SafeHtml {
  if (iso === undefined) return html`<span class="muted">never</span>`;
  return html`<time datetime="${iso}" data-age>${iso.slice(11, 19)} UTC</time>`;
}

export function formatFigure(value: number | undefined): string {
  if (value === undefined) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
