import type { BalancerConfig } from "../../config/schema.js";
import { metrics } from "../../observability/metrics.js";
import { collectFleetStats } from "../../observability/stats.js";
import type { RedisClient } from "../../store/redisClient.js";
import type { Directory } from "../../tenancy/directory.js";
import { html, type SafeHtml } from "./html.js";
import { formatFigure } from "./layout.js";

export interface LimitUse {
  used: number;
  limit: number | undefined;
}

export interface TenantRow {
  slug: string;
  meetings: LimitUse;
  attendees: LimitUse;
  /** Secrets by a name that does not reveal them, with their own limits. */
  secrets: Array<{ id: string; maxMeetings: number | undefined; maxAttendees: number | undefined }>;
  /** Error answers by messageKey (checksumError, maxMeetingsReached, ...), counted by this process since it started. */
  errors: Record<string, number>;
}

/** Error answers per tenant and messageKey, from this process's request counter. */
export async function errorsByTenant(): Promise<Map<string, Record<string, number>>> {
  const counted = new Map<string, Record<string, number>>();
  for (const { labels, value } of (await metrics.apiRequests.get()).values) {
    const { tenant, result } = labels;
    if (typeof tenant !== "string" || typeof result !== "string" || result === "success" || value === 0) continue;
    const errors = counted.get(tenant) ?? {};
    errors[result] = (errors[result] ?? 0) + value;
    counted.set(tenant, errors);
  }
  return counted;
}

export async function loadTenantRows(redis: RedisClient, config: BalancerConfig, directory: Directory): Promise<TenantRow[]> {
  const [stats, errors] = await Promise.all([collectFleetStats(redis, config), errorsByTenant()]);
  return [...directory.tenants.values()].map((tenant) => {
    const usage = stats.tenants[tenant.slug] ?? { meetings: 0, attendees: 0 };
    return {
      slug: tenant.slug,
      meetings: { used: usage.meetings, limit: tenant.limits.maxMeetings },
      attendees: { used: usage.attendees, limit: tenant.limits.maxAttendees },
      secrets: tenant.secretIds.map((id, i) => ({ id, maxMeetings: tenant.secretLimits[i]?.maxMeetings, maxAttendees: tenant.secretLimits[i]?.maxAttendees })),
      errors: errors.get(tenant.slug) ?? {},
    };
  });
}

/** How close a figure is to its limit: the share used, and a class that turns amber at 80 % and red at 100 %. */
export function limitLevel({ used, limit }: LimitUse): { percent: number | undefined; level: "ok" | "near" | "reached" } {
  if (limit === undefined) return { percent: undefined, level: "ok" };
  const percent = Math.round((used / limit) * 100);
  return { percent, level: used >= limit ? "reached" : percent >= 80 ? "near" : "ok" };
}

function usageCell(use: LimitUse, what: string): SafeHtml {
  const { percent, level } = limitLevel(use);
  if (percent === undefined) return html`<td class="num" data-${what}>${use.used}<small>no limit</small></td>`;
  return html`<td class="num ${level}" data-${what}>${use.used}<small>of ${use.limit} (${percent} %)</small><meter min="0" max="${use.limit}" value="${Math.min(use.used, use.limit ?? 0)}"></meter></td>`;
}

function tenantRow(row: TenantRow): SafeHtml {
  const secrets = row.secrets.map(
    (secret, i) =>
      html`<li><code>${secret.id}</code>${i === 0 ? "" : html` <span class="tag">added later</span>`}${secret.maxMeetings === undefined && secret.maxAttendees === undefined ? "" : html` <small>limits: ${formatFigure(secret.maxMeetings)} meetings, ${formatFigure(secret.maxAttendees)} attendees</small>`}</li>`,
  );
  const errors = Object.entries(row.errors).sort(([, a], [, b]) => b - a);
  return html`<tr data-tenant="${row.slug}">
<th scope="row">${row.slug}</th>
${usageCell(row.meetings, "meetings")}
${usageCell(row.attendees, "attendees")}
<td>${row.secrets.length > 1 ? html`<span class="tag rollover">rollover: ${row.secrets.length} secrets</span>` : "1 secret"}<ul class="secrets">${secrets}</ul></td>
<td>${errors.length === 0 ? html`<span class="muted">none</span>` : html`<ul class="errors">${errors.map(([key, count]) => html`<li><code>${key}</code> ${count}</li>`)}</ul>`}</td>
</tr>`;
}

export function renderTenants(rows: readonly TenantRow[]): SafeHtml {
  return html`<h1>Tenants <small>${rows.length}</small></h1>
<table class="grid" id="tenants">
<thead><tr><th scope="col">Tenant</th><th scope="col">Meetings now</th><th scope="col">Attendees now</th><th scope="col">Secrets (hashed names, never the secret)</th><th scope="col">Errors by key</th></tr></thead>
<tbody>${rows.map(tenantRow)}</tbody>
</table>
<p class="muted">Meetings are those mapped now; attendees as the nodes reported them at their last polls. Errors are counted by this admin server's process since it started (for the whole fleet over time, see the Grafana dashboard).</p>`;
}
