import type { RedisClient } from "../store/redisClient.js";
import { elementText } from "../bbb/xml.js";
import { loadTunablesSchema, type BalancerConfig, type LoadTunables } from "../config/schema.js";
import { changeNodeState } from "../fleet/actions.js";
import { isStateVerb, stateVerbs } from "../fleet/nodeState.js";
import type { NodeClients } from "../nodes/client.js";
import { collectFleetStats, type NodeStats } from "../observability/stats.js";
import { loadTerms } from "../placement/load.js";
import { keys } from "../store/keys.js";
import type { Directory } from "../tenancy/directory.js";
import { formatAge, formatNumber, formatTable } from "./table.js";

export interface CliDeps {
  redis: RedisClient;
  config: BalancerConfig;
  directory: Directory;
  clients: NodeClients;
  /** Tenants' API host names are `<tenant>.<baseDomain>`. */
  baseDomain: string | undefined;
  now: number;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const usage = `mediaplane-admin: operate the balancer's fleet (reads the config file, talks to Redis directly)

Usage: mediaplane-admin [--json] <command> [arguments]

  nodes                     every node: state, health, load, meetings, attendees, last poll
  cordon <node>             no new meetings; running ones continue
  drain <node>              like cordon, then disabled once the node has no meetings
  disable <node>            no new meetings
  enable <node>             takes new meetings again (while healthy)
  panic <node>              release every meeting of the node and end them on it
  load                      how each node's load is computed (attendees, meetings, CPU terms)
  meetings [tenant]         live meetings per tenant, with their nodes and attendees
  tenant <slug>             the tenant's API URLs and secrets (needs BASE_DOMAIN)
  stats                     the stats document (JSON), as the admin API serves it

Environment: CONFIG_FILE (the balancer config), REDIS_URL, BASE_DOMAIN (for 'tenant').`;

function nodesTable(nodes: readonly NodeStats[], now: number): string {
  return formatTable(
    ["NODE", "CLUSTER", "STATE", "HEALTH", "NEW MEETINGS", "LOAD", "MEETINGS", "ATTENDEES", "CPU", "LAST POLL", "LAST ERROR"],
    nodes.map((node) => [
      node.id,
      node.cluster,
      node.state,
      node.health,
      node.takesNewMeetings ? "yes" : "no",
      formatNumber(node.poolLoad ?? node.load),
      String(node.meetings),
      String(node.attendees),
      String(node.cpu),
      formatAge(node.lastPollAt, now),
      node.lastError ?? "",
    ]),
  );
}

/** The terms of B3LB's formula for one node, as table cells. */
function loadTermCells(node: NodeStats, tunables: LoadTunables): string[] {
  const terms = loadTerms(node, tunables);
  return [node.id, formatNumber(terms.attendees), formatNumber(terms.meetings), formatNumber(terms.cpu), formatNumber(node.load), formatNumber(node.poolLoad)];
}

async function tenantMeetings(deps: CliDeps, slug: string): Promise<Array<{ tenant: string; meetingId: string; node: string; name?: string; attendees?: number }>> {
  const [mappings, summaries] = await Promise.all([deps.redis.hgetall(keys.meetings(slug)), deps.redis.hgetall(keys.summaries(slug))]);
  return Object.entries(mappings)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([meetingId, node]) => {
      const summary = summaries[meetingId];
      const name = summary === undefined ? undefined : elementText(summary, "meetingName");
      const attendees = summary === undefined ? undefined : elementText(summary, "participantCount");
      return { tenant: slug, meetingId, node, ...(name === undefined ? {} : { name }), ...(attendees === undefined ? {} : { attendees: Number(attendees) }) };
    });
}

/** Runs one command; answers what to print. Bad arguments throw `UsageError`. */
export async function runCommand(deps: CliDeps, args: readonly string[], json: boolean): Promise<string> {
  const [command, argument, ...extra] = args;
  if (command === undefined || command === "help" || command === "--help") return usage;
  if (extra.length > 0) throw new UsageError(`too many arguments for ${command}`);
  if (isStateVerb(command)) {
    if (argument === undefined) throw new UsageError(`${command} needs a node ID`);
    const node = deps.directory.nodes.get(argument);
    if (node === undefined) throw new UsageError(`unknown node "${argument}" (nodes: ${[...deps.directory.nodes.keys()].join(", ")})`);
    const report = await changeNodeState(deps.redis, deps.clients, node, stateVerbs[command]);
    if (json) return JSON.stringify(report, null, 2);
    const ended = report.end === undefined ? "" : `; ended ${report.end.ended.length} on the node${report.end.failed.length > 0 ? `, ${report.end.failed.length} ends failed` : ""}`;
    return `${report.node}: ${report.previous} -> ${report.state}${command === "panic" ? `; released ${report.released} meetings${ended}` : ""}`;
  }
  switch (command) {
    case "nodes": {
      const { nodes } = await collectFleetStats(deps.redis, deps.config, deps.now);
      return json ? JSON.stringify(nodes, null, 2) : nodesTable(nodes, deps.now);
    }
    case "load": {
      const { nodes } = await collectFleetStats(deps.redis, deps.config, deps.now);
      const rows = nodes.map((node) => loadTermCells(node, deps.directory.clusterLoad.get(node.cluster) ?? loadTunablesSchema.parse(undefined)));
      if (json) return JSON.stringify(rows.map(([node, attendees, meetings, cpu, load, pool]) => ({ node, attendees, meetings, cpu, load, pool })), null, 2);
      return formatTable(["NODE", "ATTENDEE TERM", "MEETING TERM", "CPU TERM", "LOAD AT POLL", "POOL SCORE NOW"], rows);
    }
    case "meetings": {
      if (argument !== undefined && !deps.directory.tenants.has(argument)) throw new UsageError(`unknown tenant "${argument}"`);
      const slugs = argument === undefined ? [...deps.directory.tenants.keys()] : [argument];
      const meetings = (await Promise.all(slugs.map((slug) => tenantMeetings(deps, slug)))).flat();
      if (json) return JSON.stringify(meetings, null, 2);
      return formatTable(
        ["TENANT", "MEETING", "NODE", "ATTENDEES", "NAME"],
        meetings.map((meeting) => [meeting.tenant, meeting.meetingId, meeting.node, formatNumber(meeting.attendees), meeting.name ?? ""]),
      );
    }
    case "tenant": {
      if (argument === undefined) throw new UsageError("tenant needs a tenant slug");
      const tenant = deps.directory.tenants.get(argument);
      if (tenant === undefined) throw new UsageError(`unknown tenant "${argument}"`);
      if (deps.baseDomain === undefined) throw new UsageError("tenant needs BASE_DOMAIN to print the API URLs");
      const urls = [`https://${tenant.slug}.${deps.baseDomain}/bigbluebutton/api/`, `https://${deps.baseDomain}/t/${tenant.slug}/bigbluebutton/api/`];
      if (json) return JSON.stringify({ tenant: tenant.slug, urls, secrets: tenant.secrets }, null, 2);
      return [`tenant:  ${tenant.slug}`, ...urls.map((url) => `url:     ${url}`), ...tenant.secrets.map((secret) => `secret:  ${secret}`)].join("\n");
    }
    case "stats":
      return JSON.stringify(await collectFleetStats(deps.redis, deps.config, deps.now), null, 2);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}
