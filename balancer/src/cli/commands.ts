import type { RedisClient } from "../store/redisClient.js";
import { loadTunablesSchema, type BalancerConfig, type LoadTunables } from "../config/schema.js";
import { describeEndOutcome } from "../admin/operatorActions.js";
import { changeNodeState } from "../fleet/actions.js";
import { endTenantMeeting } from "../fleet/endMeeting.js";
import { nodeMeetings, tenantMeetings, type ListedMeeting } from "../fleet/meetingList.js";
import { isStateVerb, stateVerbs } from "../fleet/nodeState.js";
import type { NodeClients } from "../nodes/client.js";
import { collectFleetStats, type NodeStats } from "../observability/stats.js";
import { loadTerms } from "../placement/load.js";
import { recentDuplicates } from "../poller/adopt.js";
import type { Directory } from "../tenancy/directory.js";
import { createLogger } from "../observability/logger.js";
import { rebuildIndex } from "../recordings/importer.js";
import { formatAge, formatNumber, formatTable } from "./table.js";

export interface CliDeps {
  redis: RedisClient;
  config: BalancerConfig;
  directory: Directory;
  clients: NodeClients;
  /** Tenants' API host names are `<tenant>.<baseDomain>`. */
  baseDomain: string | undefined;
  /** Where the recordings share is mounted (RECORDINGS_DIR), for `recordings-rebuild`. */
  recordingsDir: string | undefined;
  now: number;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The command ran and its outcome is a failure the operator must see (exit code 1), not a crash. */
export class CommandFailed extends Error {
  override readonly name = "CommandFailed";
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
  node-meetings <node>      the live meetings mapped to one node
  end <tenant> <meeting>    end a meeting on its node; the mapping goes once the node accepted
  duplicates                meetings polls found running on two nodes lately, and what was done
  tenant <slug>             the tenant's API URLs and secrets (needs BASE_DOMAIN)
  stats                     the stats document (JSON), as the admin API serves it
  recordings-rebuild        re-index every tenant's recordings from the share (RECORDINGS_DIR) into Redis

Environment: CONFIG_FILE (the balancer config), REDIS_URL, BASE_DOMAIN (for 'tenant'), RECORDINGS_DIR (for 'recordings-rebuild').`;

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
function loadTermCells(node: NodeStats, tunables: LoadTunables, loadMultiplier: number): string[] {
  const terms = loadTerms(node, tunables, loadMultiplier);
  return [node.id, formatNumber(terms.attendees), formatNumber(terms.meetings), formatNumber(terms.cpu), formatNumber(node.load), formatNumber(node.poolLoad)];
}

function meetingsTable(meetings: readonly ListedMeeting[]): string {
  return formatTable(
    ["TENANT", "MEETING", "NODE", "ATTENDEES", "NAME"],
    meetings.map((meeting) => [meeting.tenant, meeting.meetingId, meeting.node, formatNumber(meeting.attendees), meeting.name ?? ""]),
  );
}

function knownNode(deps: CliDeps, id: string | undefined, command: string) {
  if (id === undefined) throw new UsageError(`${command} needs a node ID`);
  const node = deps.directory.nodes.get(id);
  if (node === undefined) throw new UsageError(`unknown node "${id}" (nodes: ${[...deps.directory.nodes.keys()].join(", ")})`);
  return node;
}

/** Ends one meeting (`end <tenant> <meeting>`); a meeting already gone or a node that refused is exit code 1. */
async function endCommand(deps: CliDeps, tenant: string | undefined, meetingId: string | undefined, json: boolean): Promise<string> {
  if (tenant === undefined || meetingId === undefined) throw new UsageError("end needs a tenant slug and a meeting ID");
  if (!deps.directory.tenants.has(tenant)) throw new UsageError(`unknown tenant "${tenant}"`);
  const outcome = await endTenantMeeting(deps.redis, deps.clients, deps.directory, tenant, meetingId);
  const line = `${tenant}/${meetingId}: ${describeEndOutcome(outcome)}`;
  if (outcome.kind === "notMapped" || outcome.kind === "failed") throw new CommandFailed(line);
  return json ? JSON.stringify({ tenant, meetingId, ...outcome }, null, 2) : line;
}

async function rebuildCommand(deps: CliDeps, json: boolean): Promise<string> {
  if (deps.recordingsDir === undefined) throw new UsageError("recordings-rebuild needs RECORDINGS_DIR, where the recordings share is mounted");
  const logger = createLogger({ name: "recordings-rebuild", level: "silent" });
  const report = await rebuildIndex({ redis: deps.redis, shareRoot: deps.recordingsDir, logger }, new Set(deps.directory.tenants.keys()));
  if (json) return JSON.stringify(report, null, 2);
  const lines = [`indexed ${report.indexed.length}, dropped from the index ${report.removed.length}, not indexed ${report.failed.length}, held by an importer ${report.skipped}`];
  for (const failure of report.failed) lines.push(`not indexed: ${failure.recording}: ${failure.error}`);
  if (report.failed.length > 0) throw new CommandFailed(lines.join("\n"));
  return lines.join("\n");
}

/** Runs one command; answers what to print. Bad arguments throw `UsageError`. */
export async function runCommand(deps: CliDeps, args: readonly string[], json: boolean): Promise<string> {
  const [command, argument, ...extra] = args;
  if (command === undefined || command === "help" || command === "--help") return usage;
  if (command === "end" && extra.length <= 1) return endCommand(deps, argument, extra[0], json);
  if (extra.length > 0) throw new UsageError(`too many arguments for ${command}`);
  if (isStateVerb(command)) {
    const node = knownNode(deps, argument, command);
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
      const rows = nodes.map((node) => loadTermCells(node, deps.directory.clusterLoad.get(node.cluster) ?? loadTunablesSchema.parse(undefined), deps.directory.nodes.get(node.id)?.config.loadMultiplier ?? 1),
      );
      if (json) return JSON.stringify(rows.map(([node, attendees, meetings, cpu, load, pool]) => ({ node, attendees, meetings, cpu, load, pool })), null, 2);
      return formatTable(["NODE", "ATTENDEE TERM", "MEETING TERM", "CPU TERM", "LOAD AT POLL", "POOL SCORE NOW"], rows);
    }
    case "meetings": {
      if (argument !== undefined && !deps.directory.tenants.has(argument)) throw new UsageError(`unknown tenant "${argument}"`);
      const slugs = argument === undefined ? [...deps.directory.tenants.keys()] : [argument];
      const meetings = (await Promise.all(slugs.map((slug) => tenantMeetings(deps.redis, slug)))).flat();
      return json ? JSON.stringify(meetings, null, 2) : meetingsTable(meetings);
    }
    case "node-meetings": {
      const meetings = await nodeMeetings(deps.redis, knownNode(deps, argument, command));
      return json ? JSON.stringify(meetings, null, 2) : meetingsTable(meetings);
    }
    case "duplicates": {
      const duplicates = await recentDuplicates(deps.redis);
      if (json) return JSON.stringify(duplicates, null, 2);
      return formatTable(
        ["AT", "TENANT", "MEETING", "MAPPED NODE", "OTHER NODE", "ATTENDEES", "RESOLUTION"],
        duplicates.map((entry) => [entry.at, entry.tenant, entry.meetingId, entry.nodes[0], entry.nodes[1], entry.attendees.join(" / "), entry.resolution]),
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
    case "recordings-rebuild":
      return rebuildCommand(deps, json);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}
