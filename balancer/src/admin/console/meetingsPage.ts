import { elementText } from "../../bbb/xml.js";
import type { RedisClient } from "../../store/redisClient.js";
import { keys } from "../../store/keys.js";
import type { Directory } from "../../tenancy/directory.js";
import { html, type SafeHtml } from "./html.js";
import { consoleBase, timeAgo } from "./layout.js";

export interface MeetingRow {
  tenant: string;
  meetingId: string;
  name: string | undefined;
  node: string;
  /** ISO time the node created it, from its summary. */
  since: string | undefined;
  attendees: number | undefined;
}

export interface MeetingsQuery {
  /** Only this tenant's meetings; `undefined`: every tenant's. */
  tenant: string | undefined;
  /** Part of a meeting ID (or its name). */
  text: string;
}

/** A page shows at most this many meetings; a search narrows it down. */
export const meetingsShown = 500;

export function parseMeetingsQuery(params: URLSearchParams, directory: Directory): MeetingsQuery {
  const tenant = params.get("tenant") ?? "";
  return { tenant: directory.tenants.has(tenant) ? tenant : undefined, text: (params.get("q") ?? "").trim().slice(0, 200) };
}

function summaryTime(summary: string | undefined): string | undefined {
  const createTime = Number(summary === undefined ? Number.NaN : elementText(summary, "createTime"));
  return Number.isFinite(createTime) && createTime > 0 ? new Date(createTime).toISOString() : undefined;
}

export async function loadMeetingRows(redis: RedisClient, directory: Directory, query: MeetingsQuery): Promise<MeetingRow[]> {
  const slugs = query.tenant === undefined ? [...directory.tenants.keys()] : [query.tenant];
  const text = query.text.toLowerCase();
  const perTenant = await Promise.all(
    slugs.map(async (tenant) => {
      const [mappings, summaries] = await Promise.all([redis.hgetall(keys.meetings(tenant)), redis.hgetall(keys.summaries(tenant))]);
      return Object.entries(mappings).map(([meetingId, node]): MeetingRow => {
        const summary = summaries[meetingId];
        const attendees = summary === undefined ? undefined : elementText(summary, "participantCount");
        return { tenant, meetingId, node, name: summary === undefined ? undefined : elementText(summary, "meetingName"), since: summaryTime(summary), attendees: attendees === undefined ? undefined : Number(attendees) };
      });
    }),
  );
  return perTenant
    .flat()
    .filter((row) => text === "" || row.meetingId.toLowerCase().includes(text) || (row.name ?? "").toLowerCase().includes(text))
    .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.meetingId.localeCompare(b.meetingId));
}

export function renderMeetingsToolbar(query: MeetingsQuery, directory: Directory): SafeHtml {
  const options = [...directory.tenants.keys()].map((slug) => html`<option value="${slug}"${query.tenant === slug ? html` selected` : ""}>${slug}</option>`);
  return html`<form class="toolbar" method="get" action="${consoleBase}/meetings">
<label>Tenant <select name="tenant"><option value="">every tenant</option>${options}</select></label>
<label>Meeting ID or name <input name="q" value="${query.text}" type="search"></label>
<button type="submit">Search</button>
</form>`;
}

function meetingPath(row: { tenant: string; meetingId: string }): string {
  return `${consoleBase}/meetings/${encodeURIComponent(row.tenant)}/${encodeURIComponent(row.meetingId)}/end`;
}

export function renderMeetings(rows: readonly MeetingRow[]): SafeHtml {
  const shown = rows.slice(0, meetingsShown);
  const body = shown.map(
    (row) => html`<tr data-meeting="${row.tenant}/${row.meetingId}">
<td>${row.tenant}</td><th scope="row">${row.meetingId}</th><td>${row.name ?? ""}</td><td>${row.node}</td><td>${timeAgo(row.since)}</td>
<td class="num">${row.attendees === undefined ? "–" : row.attendees}</td>
<td class="actions"><a class="action end" href="${meetingPath(row)}">end</a></td>
</tr>`,
  );
  return html`<h1>Meetings <small>${rows.length}${rows.length > shown.length ? ` (first ${shown.length} shown: narrow the search)` : ""}</small></h1>
${rows.length === 0 ? html`<p class="muted">No meetings match.</p>` : html`<table class="grid" id="meetings"><thead><tr><th scope="col">Tenant</th><th scope="col">Meeting ID</th><th scope="col">Name</th><th scope="col">Node</th><th scope="col">Since</th><th scope="col">Attendees</th><th scope="col">Actions</th></tr></thead><tbody>${body}</tbody></table>`}`;
}

export function renderEndConfirmation(row: MeetingRow, csrfToken: string): SafeHtml {
  const attendees =
    row.attendees === undefined ? "everyone in it is" : row.attendees === 0 ? "nobody is in it at the last poll, anyone who joined since is" : row.attendees === 1 ? "its 1 attendee is" : `its ${row.attendees} attendees are`;
  return html`<section class="confirm">
<h1>End ${row.tenant}/${row.meetingId}?</h1>
<p class="consequence">End meeting ${row.meetingId} of ${row.tenant} on ${row.node}: ${attendees} disconnected, and the tenant's getMeetings no longer lists it.</p>
<form method="post" action="${meetingPath(row)}">
<input type="hidden" name="csrf" value="${csrfToken}">
<button type="submit" class="danger">Yes, end ${row.meetingId}</button>
<a href="${consoleBase}/meetings?tenant=${encodeURIComponent(row.tenant)}">Cancel</a>
</form>
</section>`;
}
