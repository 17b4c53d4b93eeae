import type { RedisClient } from "./redisClient.js";
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
// so concurrent creates spread over the pool before any poll. The members tied at the lowest load hold
// consecutive ranks, so the pick is by rank: O(log n), not a walk over the ties, which grow with the fleet.
// The meeting joins the picked node's meeting set here, saving the create a round trip. That key can only be
// named once the node is picked; it is built from ARGV[3] and ARGV[4] around the node ID and carries the pool's
// hash tag, so it lives in the pool's slot on a clustered Redis.
// ARGV[6..] are members never to pick (nodes the caller's config does not name). At most that many rank before
// the first eligible member, and a draw that lands on one moves on to the next tied member, else to that first.
const placeScript = new LuaScript(`
local pool = KEYS[1]
local skipped, skipCount = {}, #ARGV - 5
for i = 6, #ARGV do skipped[ARGV[i]] = true end
local head = redis.call('ZRANGE', pool, 0, skipCount, 'WITHSCORES')
local first, lowest
for i = 1, #head, 2 do
  if not skipped[head[i]] then first, lowest = head[i], head[i + 1] break end
end
if first == nil then return false end
local below = 0
if skipCount > 0 then below = redis.call('ZCOUNT', pool, '-inf', '(' .. lowest) end
local tied = redis.call('ZCOUNT', pool, lowest, lowest)
local index = math.min(math.floor(tonumber(ARGV[2]) * tied), tied - 1)
local pick = first
for _, member in ipairs(redis.call('ZRANGE', pool, below + index, below + math.min(index + skipCount, tied - 1))) do
  if not skipped[member] then pick = member break end
end
redis.call('ZINCRBY', pool, ARGV[1], pick)
redis.call('SADD', ARGV[3] .. pick .. ARGV[4], ARGV[5])
return pick
`);

// Only a node still in the pool gets its cost back: a node the poller removed meanwhile must not be re-added.
// ARGV[3], when given, is the meeting to take out of the node's meeting set.
const unplaceScript = new LuaScript(`
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZINCRBY', KEYS[1], -tonumber(ARGV[2]), ARGV[1])
end
if ARGV[3] ~= '' then redis.call('SREM', KEYS[2], ARGV[3]) end
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
// Answers the meeting's voice bridge number (read from its summary) so the caller can free it.
const releaseScript = new LuaScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
if ARGV[3] ~= '' then redis.call('HDEL', KEYS[3], ARGV[3]) end
local summary = redis.call('HGET', KEYS[2], ARGV[1])
local voiceBridge = ''
if summary then
  voiceBridge = string.match(summary, '<voiceBridge>(%d+)</voiceBridge>') or ''
  redis.call('HDEL', KEYS[2], ARGV[1])
  -- getMeetings caches by revision: only a change to the summaries is one.
  redis.call('INCR', KEYS[4])
end
return voiceBridge
`);

// Claims a meeting for a node unless it is mapped already, within the tenant's and the secret's limits (-1: none).
// Attendees are counted from the summaries, as the last polls saw them. Answers {1} won, {0, holder} lost,
// {-1, limit, scope} refused.
const claimScript = new LuaScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return { 0, redis.call('HGET', KEYS[1], ARGV[1]) }
end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
local function refuse(limit, scope)
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
  return { -1, limit, scope }
end
local tenantMeetings, secretMeetings = tonumber(ARGV[4]), tonumber(ARGV[5])
local tenantAttendees, secretAttendees = tonumber(ARGV[6]), tonumber(ARGV[7])
if tenantMeetings >= 0 and redis.call('HLEN', KEYS[1]) > tenantMeetings then return refuse('maxMeetings', 'tenant') end
if secretMeetings < 0 and tenantAttendees < 0 and secretAttendees < 0 then return { 1 } end
local owners = redis.call('HGETALL', KEYS[5])
local ownMeetings, allAttendees, ownAttendees = 0, 0, 0
for i = 1, #owners, 2 do
  local summary = redis.call('HGET', KEYS[2], owners[i])
  local attendees = summary and tonumber(string.match(summary, '<participantCount>(%d+)</participantCount>')) or 0
  allAttendees = allAttendees + attendees
  if owners[i + 1] == ARGV[3] then
    ownMeetings = ownMeetings + 1
    ownAttendees = ownAttendees + attendees
  end
end
if secretMeetings >= 0 and ownMeetings > secretMeetings then return refuse('maxMeetings', 'secret') end
if tenantAttendees >= 0 and allAttendees >= tenantAttendees then return refuse('maxAttendees', 'tenant') end
if secretAttendees >= 0 and ownAttendees >= secretAttendees then return refuse('maxAttendees', 'secret') end
return { 1 }
`);

const releaseVoiceBridgeScript = new LuaScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
`);

function tenantKeys(tenant: string): string[] {
  return [keys.meetings(tenant), keys.summaries(tenant), keys.longMeetingIds(tenant), keys.revision(tenant), keys.meetingSecrets(tenant)];
}

/** The key under which a long meeting ID's reverse is kept, or '' when the node sees the readable form. */
function longMeetingIdField(tenant: string, meetingId: string): string {
  return nodeMeetingId(tenant, meetingId).includes("#") ? hashMeetingId(meetingId) : "";
}

/** The node meeting set's key around a node ID, for the placement script to name the picked node's set. */
function nodeMeetingsKeyAround(cluster: string): [string, string] {
  const marker = "\n";
  const [head = "", tail = ""] = keys.nodeMeetings(cluster, marker).split(marker);
  return [head, tail];
}

/**
 * Takes the least-loaded node of a cluster's pool other than `skipped`, counts the placement and adds the
 * meeting to the node's meeting set; `null` when no such node is in the pool. A placement that does not lead to
 * a claim is given back with `undoPlacement`.
 */
export async function placeInCluster(
  redis: RedisClient,
  cluster: string,
  meeting: { tenant: string; meetingId: string },
  placement: { cost: number; random: number; skipped: Iterable<string> },
): Promise<string | null> {
  const { cost, random, skipped } = placement;
  const args = [cost, random, ...nodeMeetingsKeyAround(cluster), nodeMeetingMember(meeting.tenant, meeting.meetingId), ...skipped];
  const pick = await placeScript.run(redis, [keys.pool(cluster)], args);
  return typeof pick === "string" ? pick : null;
}

/** A placement to give back: the node's cost, and the meeting set's member unless another claim holds it there. */
export interface PlacementUndo {
  cluster: string;
  nodeId: string;
  cost: number;
  /** The meeting to take out of the node's meeting set; absent when a claim on this node holds the member. */
  meeting?: { tenant: string; meetingId: string } | undefined;
}

export async function undoPlacement(redis: RedisClient, { cluster, nodeId, cost, meeting }: PlacementUndo): Promise<void> {
  const member = meeting === undefined ? "" : nodeMeetingMember(meeting.tenant, meeting.meetingId);
  await unplaceScript.run(redis, [keys.pool(cluster), keys.nodeMeetings(cluster, nodeId)], [nodeId, cost, member]);
}

/** The lowest load in each cluster's pool (for tenants on several clusters); missing for empty pools. */
export async function lowestLoads(redis: RedisClient, clusters: readonly string[]): Promise<Array<{ cluster: string; lowestLoad: number }>> {
  // One command per pool, not one pipeline: on a clustered Redis the pools live in different slots.
  const heads = await Promise.all(clusters.map((cluster) => redis.zrange(keys.pool(cluster), "0", "0", "WITHSCORES")));
  return clusters.flatMap((cluster, i) => {
    const head = heads[i] ?? [];
    return head.length < 2 ? [] : [{ cluster, lowestLoad: Number(head[1]) }];
  });
}

/** Limits that apply to one create: its tenant's and its secret's; `undefined` is unlimited. */
export interface ClaimLimits {
  tenantMaxMeetings?: number | undefined;
  secretMaxMeetings?: number | undefined;
  tenantMaxAttendees?: number | undefined;
  secretMaxAttendees?: number | undefined;
}

export type Claim =
  | { outcome: "won" }
  | { outcome: "lost"; holder: string }
  | { outcome: "refused"; limit: "maxMeetings" | "maxAttendees"; scope: "tenant" | "secret" };

export interface ClaimArgs {
  tenant: string;
  meetingId: string;
  node: { id: string };
  /** Names the secret that signed the create (not the secret itself). */
  secretId: string;
  limits: ClaimLimits;
}

/**
 * Records that a meeting lives on `node` (placed by `placeInCluster`, which added it to the node's meeting set)
 * unless another replica got there first (then the holder is returned; it may be the same node, and the loser
 * still has a placement to give back), and unless the tenant or the secret is at a limit. Limits are checked in the same script as the claim, so concurrent creates cannot overshoot.
 */
export async function claimMeeting(redis: RedisClient, { tenant, meetingId, node, secretId, limits }: ClaimArgs): Promise<Claim> {
  const limit = (value: number | undefined): number => value ?? -1;
  const reply = (await claimScript.run(redis, tenantKeys(tenant), [
    meetingId,
    node.id,
    secretId,
    limit(limits.tenantMaxMeetings),
    limit(limits.secretMaxMeetings),
    limit(limits.tenantMaxAttendees),
    limit(limits.secretMaxAttendees),
  ])) as [number, string?, string?];
  if (reply[0] === 1) return { outcome: "won" };
  if (reply[0] === 0) return { outcome: "lost", holder: reply[1] ?? "" };
  return { outcome: "refused", limit: reply[1] === "maxAttendees" ? "maxAttendees" : "maxMeetings", scope: reply[2] === "secret" ? "secret" : "tenant" };
}

/**
 * Takes a voice bridge number for a meeting, fleet-wide: the requested one when free, else a free random 5-digit
 * one. `undefined` when none was found in a few tries (the node then picks its own).
 */
export async function claimVoiceBridge(redis: RedisClient, tenant: string, meetingId: string, requested: string | undefined, random: () => number): Promise<string | undefined> {
  const member = nodeMeetingMember(tenant, meetingId);
  const candidates = requested !== undefined && /^\d{1,9}$/.test(requested) ? [requested] : [];
  for (let i = 0; i < 8; i++) candidates.push(String(10_000 + Math.floor(random() * 90_000)));
  for (const candidate of candidates) {
    if ((await redis.hsetnx(keys.voiceBridges(), candidate, member)) === 1) return candidate;
  }
  return undefined;
}

export async function releaseVoiceBridge(redis: RedisClient, tenant: string, meetingId: string, voiceBridge: string): Promise<void> {
  await releaseVoiceBridgeScript.run(redis, [keys.voiceBridges()], [voiceBridge, nodeMeetingMember(tenant, meetingId)]);
}

/** Stores the tenant's view of a meeting for getMeetings (see docs/redis-keys.md for the value's format). */
export async function storeSummary(redis: RedisClient, tenant: string, meetingId: string, nodeId: string, meetingXml: string): Promise<boolean> {
  const stored = await summarizeScript.run(redis, tenantKeys(tenant), [meetingId, nodeId, meetingXml, longMeetingIdField(tenant, meetingId)]);
  return stored === 1;
}

/**
 * Forgets a meeting on evidence that it is gone from `node` (its end callback, the node's "not found", a poll,
 * an admin action). Safe to call twice and from any replica. Returns whether this call removed the mapping.
 */
export async function releaseMeeting(redis: RedisClient, tenant: string, meetingId: string, node: { id: string; cluster: string }): Promise<boolean> {
  const voiceBridge = await releaseScript.run(redis, tenantKeys(tenant), [meetingId, node.id, longMeetingIdField(tenant, meetingId)]);
  await redis.srem(keys.nodeMeetings(node.cluster, node.id), nodeMeetingMember(tenant, meetingId));
  if (typeof voiceBridge !== "string") return false;
  if (voiceBridge !== "") await releaseVoiceBridge(redis, tenant, meetingId, voiceBridge);
  return true;
}

/** The tenant's getMeetings revision: one GET per getMeetings while nothing changed. */
export async function tenantRevision(redis: RedisClient, tenant: string): Promise<string> {
  return (await redis.get(keys.revision(tenant))) ?? "0";
}

/** Every summary of a tenant and the revision they belong to, read together. */
export async function tenantSummaries(redis: RedisClient, tenant: string): Promise<{ revision: string; meetings: string[] }> {
  const results = await redis.multi().get(keys.revision(tenant)).hvals(keys.summaries(tenant)).exec();
  const [revision, meetings] = (results ?? []).map(([error, value]) => {
    if (error !== null) throw error;
    return value;
  });
  return { revision: typeof revision === "string" ? revision : "0", meetings: Array.isArray(meetings) ? (meetings as string[]) : [] };
}
