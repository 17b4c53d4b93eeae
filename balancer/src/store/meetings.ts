import type { Redis } from "ioredis";
import { hashMeetingId, nodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { keys } from "./keys.js";
import { LuaScript } from "./script.js";

/**
 * The meeting mappings and summaries of one tenant, and the placement records of the nodes that host them.
 * Every script touches one hash tag only (`{t:<tenant>}` or `{c:<cluster>}`), so all of it runs on a clustered
 * Redis; a step that spans both is two calls, ordered so that a crash between them leaves nothing a poll cannot fix.
 */

/** The member of a node's meeting set that names one tenant's meeting. */
export function nodeMeetingMember(tenant: string, meetingId: string): string {
  return `${tenant}\n${meetingId}`;
}

// Lowest load wins, ties at random (ARGV[2] in [0,1)); the winner's load grows by the meeting's cost at once,
// so concurrent creates spread over the pool before any poll.
const placeScript = new LuaScript(`
local lowest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #lowest == 0 then return false end
local tied = redis.call('ZCOUNT', KEYS[1], lowest[2], lowest[2])
local index = math.floor(tonumber(ARGV[2]) * tied)
if index >= tied then index = tied - 1 end
local pick = redis.call('ZRANGEBYSCORE', KEYS[1], lowest[2], lowest[2], 'LIMIT', index, 1)[1]
redis.call('ZINCRBY', KEYS[1], ARGV[1], pick)
return pick
`);

// Only a node still in the pool gets its cost back: a node the poller removed meanwhile must not be re-added.
const unplaceScript = new LuaScript(`
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZINCRBY', KEYS[1], -tonumber(ARGV[2]), ARGV[1])
end
return 1
`);

// A summary is written only while the mapping still points at the node that answered the create: an end that
// raced ahead of the create's answer must not leave a ghost in getMeetings.
const summarizeScript = new LuaScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], ARGV[4], ARGV[1]) end
redis.call('INCR', KEYS[4])
return 1
`);

// Compare-and-delete: a release on evidence about one node never removes a mapping that moved to another.
const releaseScript = new LuaScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[3] ~= '' then redis.call('HDEL', KEYS[3], ARGV[3]) end
-- getMeetings caches by revision: only a change to the summaries is one.
if redis.call('HDEL', KEYS[2], ARGV[1]) == 1 then redis.call('INCR', KEYS[4]) end
return 1
`);

function tenantKeys(tenant: string): string[] {
  return [keys.meetings(tenant), keys.summaries(tenant), keys.longMeetingIds(tenant), keys.revision(tenant)];
}

/** The key under which a long meeting ID's reverse is kept, or '' when the node sees the readable form. */
function longMeetingIdField(tenant: string, meetingId: string): string {
  return nodeMeetingId(tenant, meetingId).includes("#") ? hashMeetingId(meetingId) : "";
}

/** The node of a tenant's live meeting: the one Redis round trip of a join. */
export async function meetingNode(redis: Redis, tenant: string, meetingId: string): Promise<string | null> {
  return redis.hget(keys.meetings(tenant), meetingId);
}

/** Takes the least-loaded node of a cluster's pool and counts the placement; `null` when the pool is empty. */
export async function placeInCluster(redis: Redis, cluster: string, cost: number, random: number): Promise<string | null> {
  const pick = await placeScript.run(redis, [keys.pool(cluster)], [cost, random]);
  return typeof pick === "string" ? pick : null;
}

export async function undoPlacement(redis: Redis, cluster: string, nodeId: string, cost: number): Promise<void> {
  await unplaceScript.run(redis, [keys.pool(cluster)], [nodeId, cost]);
}

/** The lowest load in each cluster's pool (for tenants on several clusters); missing for empty pools. */
export async function lowestLoads(redis: Redis, clusters: readonly string[]): Promise<Array<{ cluster: string; lowestLoad: number }>> {
  const pipeline = redis.pipeline();
  for (const cluster of clusters) pipeline.zrange(keys.pool(cluster), "0", "0", "WITHSCORES");
  const results = (await pipeline.exec()) ?? [];
  return clusters.flatMap((cluster, i) => {
    const [error, head] = results[i] ?? [null, []];
    if (error !== null || !Array.isArray(head) || head.length < 2) return [];
    return [{ cluster, lowestLoad: Number(head[1]) }];
  });
}

export type Claim = { won: true } | { won: false; holder: string };

/**
 * Records that a meeting lives on `node` unless another replica got there first, in which case the node that
 * holds it is returned (it may be the same node: the loser still has a placement to give back).
 */
export async function claimMeeting(redis: Redis, tenant: string, meetingId: string, node: { id: string; cluster: string }): Promise<Claim> {
  const won = await redis.hsetnx(keys.meetings(tenant), meetingId, node.id);
  if (won === 1) {
    await redis.sadd(keys.nodeMeetings(node.cluster, node.id), nodeMeetingMember(tenant, meetingId));
    return { won: true };
  }
  const holder = await redis.hget(keys.meetings(tenant), meetingId);
  // Released between the two calls (an end): try again as if first.
  return holder === null ? claimMeeting(redis, tenant, meetingId, node) : { won: false, holder };
}

/** Stores the tenant's view of a meeting for getMeetings (see docs/redis-keys.md for the value's format). */
export async function storeSummary(redis: Redis, tenant: string, meetingId: string, nodeId: string, meetingXml: string): Promise<boolean> {
  const stored = await summarizeScript.run(redis, tenantKeys(tenant), [meetingId, nodeId, meetingXml, longMeetingIdField(tenant, meetingId)]);
  return stored === 1;
}

/**
 * Forgets a meeting on evidence that it is gone from `node` (its end callback, the node's "not found", a poll,
 * an admin action). Safe to call twice and from any replica. Returns whether this call removed the mapping.
 */
export async function releaseMeeting(redis: Redis, tenant: string, meetingId: string, node: { id: string; cluster: string }): Promise<boolean> {
  const released = await releaseScript.run(redis, tenantKeys(tenant), [meetingId, node.id, longMeetingIdField(tenant, meetingId)]);
  await redis.srem(keys.nodeMeetings(node.cluster, node.id), nodeMeetingMember(tenant, meetingId));
  return released === 1;
}

/** The tenant's getMeetings revision: one GET per getMeetings while nothing changed. */
export async function tenantRevision(redis: Redis, tenant: string): Promise<string> {
  return (await redis.get(keys.revision(tenant))) ?? "0";
}

/** Every summary of a tenant and the revision they belong to, read together. */
export async function tenantSummaries(redis: Redis, tenant: string): Promise<{ revision: string; meetings: string[] }> {
  const results = await redis.multi().get(keys.revision(tenant)).hvals(keys.summaries(tenant)).exec();
  const [revision, meetings] = (results ?? []).map(([error, value]) => {
    if (error !== null) throw error;
    return value;
  });
  return { revision: typeof revision === "string" ? revision : "0", meetings: Array.isArray(meetings) ? (meetings as string[]) : [] };
}

export async function tenantMeetingCount(redis: Redis, tenant: string): Promise<number> {
  return redis.hlen(keys.meetings(tenant));
}
