import { nodeStates, type BalancerConfig, type NodeState } from "../../config/schema.js";
import { stateVerbs, type StateVerb } from "../../fleet/nodeState.js";
import { collectFleetStats, type NodeStats } from "../../observability/stats.js";
import { loadTerms } from "../../placement/load.js";
import type { RedisClient } from "../../store/redisClient.js";
import { keys } from "../../store/keys.js";
import { pipelineBySlot } from "../../store/slotPipeline.js";
import type { Directory } from "../../tenancy/directory.js";
import { recentActions, type AuditEntry } from "../auditLog.js";
import { html, type SafeHtml } from "./html.js";
import { consoleBase, formatFigure, timeAgo } from "./layout.js";

export interface FleetRow extends NodeStats {
  /** The balancer's meetings mapped to the node: what a panic releases. */
  mapped: number;
  terms: { attendees: number; meetings: number; cpu: number };
  /** No successful poll for three intervals: its figures are old. */
  stale: boolean;
}

const sortKeys = ["id", "cluster", "state", "health", "load", "meetings", "attendees", "cpu", "lastPoll"] as const;
type SortKey = (typeof sortKeys)[number];
const stateFilters = [...nodeStates, "unhealthy"] as const;
type StateFilter = (typeof stateFilters)[number];

export interface FleetQuery {
  sort: SortKey;
  descending: boolean;
  /** Part of a node ID or cluster name. */
  text: string;
  state: StateFilter | undefined;
}

/** The fleet page's sort and filters from its URL; anything unknown falls back to the default view. */
export function parseFleetQuery(params: URLSearchParams): FleetQuery {
  const sort = params.get("sort") ?? "";
  const state = params.get("state") ?? "";
  return {
    sort: (sortKeys as readonly string[]).includes(sort) ? (sort as SortKey) : "id",
    descending: params.get("dir") === "desc",
    text: (params.get("q") ?? "").trim().slice(0, 100),
    state: (stateFilters as readonly string[]).includes(state) ? (state as StateFilter) : undefined,
  };
}

const sortValue: Record<SortKey, (row: FleetRow) => string | number> = {
  id: (row) => row.id,
  cluster: (row) => row.cluster,
  state: (row) => row.state,
  health: (row) => row.health,
  load: (row) => row.poolLoad ?? row.load,
  meetings: (row) => row.meetings,
  attendees: (row) => row.attendees,
  cpu: (row) => row.cpu,
  lastPoll: (row) => row.lastPollAt ?? "",
};

/** The rows the operator asked for, in the order asked for (ties by node ID). */
export function selectFleetRows(rows: readonly FleetRow[], query: FleetQuery): FleetRow[] {
  const text = query.text.toLowerCase();
  const value = sortValue[query.sort];
  return rows
    .filter((row) => text === "" || row.id.toLowerCase().includes(text) || row.cluster.toLowerCase().includes(text))
    .filter((row) => query.state === undefined || (query.state === "unhealthy" ? row.health === "unhealthy" : row.state === query.state))
    .sort((a, b) => {
      const [x, y] = [value(a), value(b)];
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return (query.descending ? -order : order) || a.id.localeCompare(b.id);
    });
}

export interface FleetView {
  rows: FleetRow[];
  actions: AuditEntry[];
}

export async function loadFleetView(redis: RedisClient, config: BalancerConfig, directory: Directory, now = Date.now()): Promise<FleetView> {
  const [stats, mappedCounts, actions] = await Promise.all([
    collectFleetStats(redis, config, now),
    pipelineBySlot(redis, config.nodes.map((node) => ["scard", keys.nodeMeetings(node.cluster, node.id)] as const)),
    recentActions(redis, 15),
  ]);
  const staleAfterMs = 3 * config.poller.intervalSeconds * 1000;
  const rows = stats.nodes.map((node, i): FleetRow => {
    const tunables = directory.clusterLoad.get(node.cluster);
    return {
      ...node,
      mapped: Number(mappedCounts[i] ?? 0),
      terms: tunables === undefined ? { attendees: 0, meetings: 0, cpu: 0 } : loadTerms(node, tunables, directory.nodes.get(node.id)?.config.loadMultiplier),
      stale: node.lastSuccessAt === undefined || now - Date.parse(node.lastSuccessAt) > staleAfterMs,
    };
  });
  return { rows, actions };
}

/** The verbs that would change a node's state, in the order an operator escalates. */
export function availableVerbs(state: NodeState): StateVerb[] {
  return (Object.keys(stateVerbs) as StateVerb[]).filter((verb) => stateVerbs[verb] !== state);
}

/** "its 1 meeting continues", "its 3 meetings continue". */
function itsMeetings(count: number, verbs: { one: string; many: string }): string {
  return count === 1 ? `its 1 meeting ${verbs.one}` : `its ${count} meetings ${verbs.many}`;
}

/** What an action will do, said before the operator confirms it: the node, and how many meetings it touches. */
export function confirmationText(verb: StateVerb, node: { id: string; mapped: number; attendees: number }): string {
  switch (verb) {
    case "cordon":
      return `Cordon ${node.id}: it takes no new meetings; ${itsMeetings(node.mapped, { one: "continues", many: "continue" })}.`;
    case "drain":
      return `Drain ${node.id}: it takes no new meetings, and is disabled once ${itsMeetings(node.mapped, { one: "has", many: "have" })} ended.`;
    case "disable":
      return `Disable ${node.id}: it takes no new meetings; ${itsMeetings(node.mapped, { one: "continues", many: "continue" })}.`;
    case "enable":
      return `Enable ${node.id}: it takes new meetings again (while healthy); ${itsMeetings(node.mapped, { one: "is", many: "are" })} not affected.`;
    case "panic":
      return `Panic ${node.id}: ${itsMeetings(node.mapped, { one: "is", many: "are" })} released and ended on the node now (${node.attendees} attendees at the last poll); everyone in them is disconnected.`;
  }
}

function sortLink(query: FleetQuery, key: SortKey, label: string): SafeHtml {
  const descending = query.sort === key ? !query.descending : key !== "id" && key !== "cluster";
  const params = new URLSearchParams({ sort: key, dir: descending ? "desc" : "asc" });
  if (query.text !== "") params.set("q", query.text);
  if (query.state !== undefined) params.set("state", query.state);
  const marker = query.sort === key ? (query.descending ? " ▼" : " ▲") : "";
  return html`<th scope="col"${query.sort === key ? html` aria-sort="${query.descending ? "descending" : "ascending"}"` : ""}><a href="?${params.toString()}">${label}${marker}</a></th>`;
}

function healthHistory(history: string): SafeHtml {
  const marks = [...history].map((outcome) => html`<i class="${outcome === "+" ? "ok" : "fail"}"></i>`);
  const failed = [...history].filter((outcome) => outcome === "-").length;
  return html`<span class="history" title="last ${history.length} polls, oldest first: ${failed} failed">${marks}</span>`;
}

function nodeRow(row: FleetRow): SafeHtml {
  const actions = availableVerbs(row.state).map((verb) => html`<a class="action ${verb}" href="${consoleBase}/fleet/${encodeURIComponent(row.id)}/${verb}">${verb}</a>`);
  return html`<tr data-node="${row.id}" class="${row.stale ? "stale" : ""}">
<th scope="row">${row.id}</th>
<td>${row.cluster}</td>
<td><span class="state ${row.state}" data-state>${row.state}</span></td>
<td><span class="health ${row.health}">${row.health}</span> ${healthHistory(row.pollHistory)}</td>
<td class="num" title="attendee term + meeting term + CPU term, at the last poll">${formatFigure(row.poolLoad ?? row.load)}<small>${formatFigure(row.terms.attendees)} + ${formatFigure(row.terms.meetings)} + ${formatFigure(row.terms.cpu)}</small></td>
<td class="num" data-meetings>${row.meetings}</td>
<td class="num">${row.attendees}</td>
<td class="num">${(row.cpu / 100).toFixed(0)}%</td>
<td>${timeAgo(row.lastPollAt)}<small>${row.lastPollMs === undefined ? "" : `${row.lastPollMs} ms`}${row.stale ? " · stale" : ""}</small></td>
<td class="error">${row.lastError ?? ""}</td>
<td class="actions">${actions}</td>
</tr>`;
}

export function renderFleetToolbar(query: FleetQuery): SafeHtml {
  const options = stateFilters.map((state) => html`<option value="${state}"${query.state === state ? html` selected` : ""}>${state}</option>`);
  return html`<form class="toolbar" method="get" action="${consoleBase}/fleet">
<input type="hidden" name="sort" value="${query.sort}"><input type="hidden" name="dir" value="${query.descending ? "desc" : "asc"}">
<label>Node or cluster <input name="q" value="${query.text}" type="search"></label>
<label>State <select name="state"><option value="">any</option>${options}</select></label>
<button type="submit">Filter</button>
</form>`;
}

export function renderFleet(view: FleetView, query: FleetQuery): SafeHtml {
  const rows = selectFleetRows(view.rows, query);
  const actions = view.actions.map(
    (entry) => html`<tr><td>${timeAgo(entry.at)}</td><td>${entry.who}</td><td>${entry.action}</td><td>${entry.target}</td><td>${entry.outcome}</td></tr>`,
  );
  return html`<h1>Fleet <small>${rows.length} of ${view.rows.length} nodes</small></h1>
<table class="grid" id="nodes">
<thead><tr>${sortLink(query, "id", "Node")}${sortLink(query, "cluster", "Cluster")}${sortLink(query, "state", "State")}${sortLink(query, "health", "Health")}${sortLink(query, "load", "Load")}${sortLink(query, "meetings", "Meetings")}${sortLink(query, "attendees", "Attendees")}${sortLink(query, "cpu", "CPU")}${sortLink(query, "lastPoll", "Last poll")}<th scope="col">Last error</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows.map(nodeRow)}</tbody>
</table>
<h2>Recent actions</h2>
${view.actions.length === 0 ? html`<p class="muted">None yet.</p>` : html`<table class="grid" id="actions"><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Outcome</th></tr></thead><tbody>${actions}</tbody></table>`}`;
}

export function renderNodeConfirmation(verb: StateVerb, node: { id: string; mapped: number; attendees: number }, csrfToken: string): SafeHtml {
  return html`<section class="confirm">
<h1>${verb[0]?.toUpperCase()}${verb.slice(1)} ${node.id}?</h1>
<p class="consequence">${confirmationText(verb, node)}</p>
<form method="post" action="${consoleBase}/fleet/${encodeURIComponent(node.id)}/${verb}">
<input type="hidden" name="csrf" value="${csrfToken}">
<button type="submit" class="${verb === "panic" ? "danger" : ""}">Yes, ${verb} ${node.id}</button>
<a href="${consoleBase}/fleet">Cancel</a>
</form>
</section>`;
}
