import { tenantMeetingXml } from "../bbb/meetingXml.js";
import { elementText } from "../bbb/xml.js";
import type { BalancerConfig } from "../config/schema.js";
import { endOnNode } from "../fleet/endMeetings.js";
import type { NodeClients } from "../nodes/client.js";
import type { Logger } from "../observability/logger.js";
import { metrics } from "../observability/metrics.js";
import { keys } from "../store/keys.js";
import { adoptMeetings, meetingIdsOfHashes, moveMeeting, type MeetingToAdopt } from "../store/meetings.js";
import type { RedisClient } from "../store/redisClient.js";
import type { Directory, NodeEntry } from "../tenancy/directory.js";
import type { UnmappedMeeting } from "./reconcile.js";

/**
 * The fleet is the truth: what a node runs for a tenant is mapped, whatever Redis forgot. Meetings a poll finds
 * unmapped are adopted; one that runs on two nodes is settled by the configured rule (`poller.duplicateMeetings`)
 * and reported (metric, log, and the admin API's list of recent duplicates).
 */

export type DuplicateRule = BalancerConfig["poller"]["duplicateMeetings"];

/** The same tenant meeting on the polled node and on the node its mapping names. */
export interface Duplicate {
  tenant: string;
  meeting: MeetingToAdopt;
  /** The copy on the polled node. */
  here: UnmappedMeeting;
  mapped: { nodeId: string; attendees: number };
}

/** How a duplicate ended: which copy runs on, or that both do (`reported`), or that ending a copy failed. */
export type DuplicateResolution = "keptMapped" | "keptBusier" | "reported" | "endFailed";

/** The most recent duplicates the admin API shows (a capped list, newest first). */
export const recentDuplicatesKept = 100;

export interface DuplicateRecord {
  tenant: string;
  meetingId: string;
  /** The node the mapping named, then the node the poll found the other copy on. */
  nodes: [string, string];
  attendees: [number, number];
  resolution: DuplicateResolution;
  at: string;
}

/** The tenant's meeting IDs of a node's unmapped meetings, long ones looked up by their hash. */
async function withMeetingIds(redis: RedisClient, tenant: string, meetings: readonly UnmappedMeeting[]): Promise<Array<{ meetingId: string; meeting: UnmappedMeeting }>> {
  const hashed = meetings.flatMap((meeting) => ("meetingIdHash" in meeting.meeting ? [meeting.meeting.meetingIdHash] : []));
  const looked = new Map(hashed.map((hash, i) => [hash, i]));
  const found = await meetingIdsOfHashes(redis, tenant, hashed);
  return meetings.flatMap((meeting) => {
    const meetingId = "meetingId" in meeting.meeting ? meeting.meeting.meetingId : found[looked.get(meeting.meeting.meetingIdHash) ?? -1];
    return meetingId === undefined ? [] : [{ meetingId, meeting }];
  });
}

/**
 * Adopts the balancer's meetings a node runs that nothing maps, for tenants the config names; answers how many
 * were adopted and the ones another node's mapping holds.
 */
export async function adoptUnmapped(
  redis: RedisClient,
  node: NodeEntry,
  unmapped: readonly UnmappedMeeting[],
  tenants: ReadonlySet<string>,
): Promise<{ adopted: number; duplicates: Duplicate[] }> {
  const byTenant = new Map<string, UnmappedMeeting[]>();
  for (const meeting of unmapped) {
    if (!tenants.has(meeting.tenant)) continue;
    const list = byTenant.get(meeting.tenant);
    if (list === undefined) byTenant.set(meeting.tenant, [meeting]);
    else list.push(meeting);
  }
  let adopted = 0;
  const duplicates: Duplicate[] = [];
  for (const [tenant, meetings] of byTenant) {
    const known = await withMeetingIds(redis, tenant, meetings);
    const toAdopt = known.map(({ meetingId, meeting }) => ({ meetingId, summary: tenantMeetingXml(meeting.xml, tenant, meetingId) }));
    const outcomes = await adoptMeetings(redis, tenant, node, toAdopt);
    outcomes.forEach((outcome, i) => {
      const meeting = toAdopt[i];
      const here = known[i]?.meeting;
      if (meeting === undefined || here === undefined) return;
      if (outcome.outcome === "adopted") adopted += 1;
      if (outcome.outcome === "elsewhere") duplicates.push({ tenant, meeting, here, mapped: { nodeId: outcome.node, attendees: outcome.attendees } });
    });
  }
  if (adopted > 0) metrics.adoptedMeetings.inc({ cluster: node.cluster, node: node.id }, adopted);
  return { adopted, duplicates };
}

export interface SettleDeps {
  redis: RedisClient;
  clients: NodeClients;
  directory: Directory;
  rule: DuplicateRule;
  logger: Logger;
}

/** Ends one copy of a meeting on its node; the moderator password is the same on both copies (one create's). */
async function endCopy(clients: NodeClients, node: NodeEntry, duplicate: Duplicate): Promise<boolean> {
  const password = elementText(duplicate.here.xml, "moderatorPW") ?? "";
  const outcome = await endOnNode(clients, node, new Map([[duplicate.here.nodeMeetingId, password]]));
  return outcome.ended.length === 1;
}

/**
 * Settles a meeting found on the polled node while its mapping names another: by the rule, the copy with more
 * attendees (the mapped one on a tie) or the mapped one runs on, and the other is ended on its node; `report`
 * ends neither. A copy whose end fails is found again by the next poll.
 */
export async function settleDuplicate(deps: SettleDeps, polled: NodeEntry, duplicate: Duplicate): Promise<DuplicateResolution> {
  const mappedNode = deps.directory.nodes.get(duplicate.mapped.nodeId);
  const keepHere = mappedNode === undefined || (deps.rule === "mostAttendees" && duplicate.here.attendees > duplicate.mapped.attendees);
  let resolution: DuplicateResolution = "reported";
  if (deps.rule !== "report" || mappedNode === undefined) {
    const from = mappedNode ?? { id: duplicate.mapped.nodeId, cluster: "-removed" };
    if (keepHere) {
      const moved = await moveMeeting(deps.redis, duplicate.tenant, duplicate.meeting, from, polled);
      resolution = moved && (mappedNode === undefined || (await endCopy(deps.clients, mappedNode, duplicate))) ? "keptBusier" : "endFailed";
    } else {
      resolution = (await endCopy(deps.clients, polled, duplicate)) ? "keptMapped" : "endFailed";
    }
  }
  const record: DuplicateRecord = {
    tenant: duplicate.tenant,
    meetingId: duplicate.meeting.meetingId,
    nodes: [duplicate.mapped.nodeId, polled.id],
    attendees: [duplicate.mapped.attendees, duplicate.here.attendees],
    resolution,
    at: new Date().toISOString(),
  };
  metrics.duplicateMeetings.inc({ tenant: duplicate.tenant, resolution });
  deps.logger.warn(record, "meeting found running on two nodes");
  await deps.redis.multi().lpush(keys.recentDuplicates(), JSON.stringify(record)).ltrim(keys.recentDuplicates(), 0, recentDuplicatesKept - 1).exec();
  return resolution;
}

/** The duplicates polls found lately, newest first (for the admin API). */
export async function recentDuplicates(redis: RedisClient): Promise<DuplicateRecord[]> {
  return (await redis.lrange(keys.recentDuplicates(), 0, -1)).map((entry) => JSON.parse(entry) as DuplicateRecord);
}
