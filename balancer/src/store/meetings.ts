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

/** Redis' own clock in ms, so every replica's deadlines and hold-outs agree. */
const nowMsLua = `
local function nowMs()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`;

/** A `<meeting>` summary's attendees, as its node counted them (`participantCount`). */
export const participantsLua = `
local function participantsOf(summary)
  return tonumber(string.match(summary, '<participantCount>(%d+)</participantCount>')) or 0
end
`;

// The picked node's load grows by the meeting's cost (ARGV[1]) times the node's multiplier (its record's
// `loadMultiplier`, written from the config), so concurrent creates spread over the pool before any poll; the
// meeting joins the node's meeting set, saving the create a round trip. The record's and the set's keys can only
// be named once the node is picked: they are built from ARGV[3], ARGV[4] and ARGV[5] around the node ID and carry
// the pool's hash tag, so they live in the pool's slot on a clustered Redis. ARGV[6] is the set's member.
// Answers { node, what its load grew by }.
const chargePickLua = `
local function chargePick(pool, pick)
  local multiplier = tonumber(redis.call('HGET', ARGV[3] .. pick .. ARGV[4], 'loadMultiplier')) or 1
  local cost = tonumber(ARGV[1]) * multiplier
  redis.call('ZINCRBY', pool, cost, pick)
  redis.call('SADD', ARGV[3] .. pick .. ARGV[5], ARGV[6])
  return { pick, tostring(cost) }
end
`;

// Lowest load wins, ties at random (ARGV[2] in [0,1)). The members tied at the lowest load hold consecutive
// ranks, so the pick is by rank: O(log n), not a walk over the ties, which grow with the fleet.
// ARGV[7..] are members never to pick (nodes the caller's config does not name). At most that many rank before
// the first eligible member, and a draw that lands on one moves on to the next tied member, else to that first.
// Nodes held out (KEYS[2]: they failed a create a moment ago) are skipped like ARGV[7..].
const placeScript = new LuaScript(`${nowMsLua}${chargePickLua}
local pool = KEYS[1]
local skipped, skipCount = {}, #ARGV - 6
for i = 7, #ARGV do skipped[ARGV[i]] = true end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. nowMs(), '+inf')) do
  if not skipped[member] then skipped[member], skipCount = true, skipCount + 1 end
end
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
return chargePick(pool, pick)
`);

// The same, among the candidates ARGV[7..] only (the nodes a server tag selects): those in the pool and not held
// out, lowest load first, ties at random. O(candidates).
const placeAmongScript = new LuaScript(`${nowMsLua}${chargePickLua}
local pool = KEYS[1]
local candidates = {}
for i = 7, #ARGV do candidates[#candidates + 1] = ARGV[i] end
if #candidates == 0 then return false end
local now = nowMs()
local scores = redis.call('ZMSCORE', pool, unpack(candidates))
local lowest, tied = nil, {}
for i, member in ipairs(candidates) do
  local score = tonumber(scores[i])
  local heldOut = score and (tonumber(redis.call('ZSCORE', KEYS[2], member)) or 0) > now
  if score and not heldOut then
    if lowest == nil or score < lowest then lowest, tied = score, { member }
    elseif score == lowest then tied[#tied + 1] = member end
  end
end
if lowest == nil then return false end
return chargePick(pool, tied[math.min(math.floor(tonumber(ARGV[2]) * #tied), #tied - 1) + 1])
`);

// Holds a node out of placement for ARGV[2] ms; the key lives as long as its last hold-out.
const holdOutScript = new LuaScript(`${nowMsLua}
local now = nowMs()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local untilMs = now + tonumber(ARGV[2])
if (tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1])) or 0) < untilMs then redis.call('ZADD', KEYS[1], untilMs, ARGV[1]) end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last[2]) - now))
return 1
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

// The create under way for a meeting (KEYS[6], see keys.creating), or nil; an expired marker (its replica died
// mid-create) is removed and counts as none.
const creatingLua = `${nowMsLua}
local function pendingCreate(creating, meetingId)
  local marker = redis.call('HGET', creating, meetingId)
  if not marker then return nil end
  local nodeId, expires, flag = string.match(marker, '^([^\\n]*)\\n(%d+)\\n?(.*)$')
  if nodeId == nil or tonumber(expires) <= nowMs() then
    redis.call('HDEL', creating, meetingId)
    return nil
  end
  return { node = nodeId, marker = marker, endRequested = flag == 'end' }
end
`;

// The node answered the create: the marker goes. A summary is written only while the mapping still points at
// that node, and not when an end arrived meanwhile: then 2 tells the create to end the meeting on the node.
const summarizeScript = new LuaScript(`${creatingLua}
local pending = pendingCreate(KEYS[6], ARGV[1])
if pending and pending.node == ARGV[2] then redis.call('HDEL', KEYS[6], ARGV[1]) end
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if pending and pending.node == ARGV[2] and pending.endRequested then return 2 end
if ARGV[3] == '' then return 1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('INCR', KEYS[4])
return 1
`);

// Compare-and-delete: a release on evidence about one node never removes a mapping that moved to another.
// While the create is under way the node may not have the meeting yet: evidence that it is gone proves nothing,
// and only the create itself (ARGV[4] = '1', giving up) releases it; others get -1.
// Answers the meeting's voice bridge number (read from its summary) so the caller can free it.
const releaseScript = new LuaScript(`${creatingLua}
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return false end
if ARGV[4] == '1' then
  redis.call('HDEL', KEYS[6], ARGV[1])
elseif pendingCreate(KEYS[6], ARGV[1]) then
  return -1
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('HDEL', KEYS[7], ARGV[1])
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

// The tenant's attendees (KEYS[7], see keys.attendees), all and those of the meetings created with secret `own`.
const attendeeCountsLua = `
local function attendeeCounts(own)
  local estimates = redis.call('HGETALL', KEYS[7])
  local all, ofSecret = 0, 0
  for i = 1, #estimates, 2 do
    local count = tonumber(estimates[i + 1]) or 0
    all = all + count
    if own and redis.call('HGET', KEYS[5], estimates[i]) == own then ofSecret = ofSecret + count end
  end
  return all, ofSecret
end
`;

// Claims a meeting for a node unless it is mapped already, within the tenant's and the secret's limits (-1: none).
// Answers {1} won, {0, holder} lost, {-1, limit, scope} refused. A won claim marks the create under way for
// ARGV[8] ms at most, and maps a long meeting ID's hash back to it (ARGV[9]) before the node can name it in an event.
const claimScript = new LuaScript(`${nowMsLua}${attendeeCountsLua}
local function won()
  redis.call('HSET', KEYS[6], ARGV[1], ARGV[2] .. '\\n' .. (nowMs() + tonumber(ARGV[8])))
  if ARGV[9] ~= '' then redis.call('HSET', KEYS[3], ARGV[9], ARGV[1]) end
  return { 1 }
end
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
if secretMeetings >= 0 then
  local ownMeetings = 0
  for _, secret in ipairs(redis.call('HVALS', KEYS[5])) do
    if secret == ARGV[3] then ownMeetings = ownMeetings + 1 end
  end
  if ownMeetings > secretMeetings then return refuse('maxMeetings', 'secret') end
end
if tenantAttendees < 0 and secretAttendees < 0 then return won() end
local allAttendees, ownAttendees = attendeeCounts(ARGV[3])
if tenantAttendees >= 0 and allAttendees >= tenantAttendees then return refuse('maxAttendees', 'tenant') end
if secretAttendees >= 0 and ownAttendees >= secretAttendees then return refuse('maxAttendees', 'secret') end
return won()
`);

// Admits one attendee to a mapped meeting (ARGV[1]) within the tenant's attendee limit (ARGV[2], -1: none) and
// the limit of the secret that created the meeting (ARGV[3..]: secretId, limit pairs): counted at once, so racing
// joins on any replica never pass a limit. Answers {1, node} admitted, {-1, node, scope} refused, {0} not mapped.
const admitJoinScript = new LuaScript(`${attendeeCountsLua}
local nodeId = redis.call('HGET', KEYS[1], ARGV[1])
if not nodeId then return { 0 } end
local owner = redis.call('HGET', KEYS[5], ARGV[1])
local tenantMax, secretMax = tonumber(ARGV[2]), -1
for i = 3, #ARGV, 2 do
  if ARGV[i] == owner then secretMax = tonumber(ARGV[i + 1]) end
end
if tenantMax >= 0 or secretMax >= 0 then
  local all, ofOwner = attendeeCounts(secretMax >= 0 and owner or nil)
  if tenantMax >= 0 and all >= tenantMax then return { -1, nodeId, 'tenant' } end
  if secretMax >= 0 and ofOwner >= secretMax then return { -1, nodeId, 'secret' } end
end
redis.call('HINCRBY', KEYS[7], ARGV[1], 1)
return { 1, nodeId }
`);

// A join the node refused gives its place back; never below zero, and only while the meeting is counted.
const giveBackJoinScript = new LuaScript(`
local count = tonumber(redis.call('HGET', KEYS[7], ARGV[1]))
if count and count > 0 then redis.call('HINCRBY', KEYS[7], ARGV[1], -1) end
return 1
`);

// An end of a meeting whose create is under way on ARGV[2]: marked for the create to carry out (1), else 0.
const deferEndScript = new LuaScript(`${creatingLua}
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local pending = pendingCreate(KEYS[6], ARGV[1])
if not pending or pending.node ~= ARGV[2] then return 0 end
if not pending.endRequested then redis.call('HSET', KEYS[6], ARGV[1], pending.marker .. '\\nend') end
return 1
`);

const releaseVoiceBridgeScript = new LuaScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
`);

function tenantKeys(tenant: string): string[] {
  return [
    keys.meetings(tenant),
    keys.summaries(tenant),
    keys.longMeetingIds(tenant),
    keys.revision(tenant),
    keys.meetingSecrets(tenant),
    keys.creating(tenant),
    keys.attendees(tenant),
  ];
}

/** The key under which a long meeting ID's reverse is kept, or '' when the node sees the readable form. */
function longMeetingIdField(tenant: string, meetingId: string): string {
  return nodeMeetingId(tenant, meetingId).includes("#") ? hashMeetingId(meetingId) : "";
}

/**
 * A node's record key and meeting set key around its ID ([head, record tail, set tail]), for the placement scripts
 * to name the picked node's keys. Both keys share the head, as both carry the cluster's hash tag.
 */
function nodeKeysAround(cluster: string): [string, string, string] {
  const marker = "\n";
  const [head = "", recordTail = ""] = keys.node(cluster, marker).split(marker);
  const [meetingsHead = "", meetingsTail = ""] = keys.nodeMeetings(cluster, marker).split(marker);
  if (meetingsHead !== head) throw new Error(`a node's keys of cluster ${cluster} do not share their head`);
  return [head, recordTail, meetingsTail];
}

/** A node picked for a meeting, and what its load grew by (the cost times the node's multiplier). */
export interface Placed {
  nodeId: string;
  cost: number;
}

function placed(reply: unknown): Placed | null {
  if (!Array.isArray(reply)) return null;
  const [nodeId, cost] = reply as [string, string];
  return { nodeId, cost: Number(cost) };
}

export interface PlacementRequest {
  /** What a meeting weighs before the picked node's multiplier (`placementCost`). */
  cost: number;
  random: number;
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
  placement: PlacementRequest & { skipped: Iterable<string> },
): Promise<Placed | null> {
  const args = [placement.cost, placement.random, ...nodeKeysAround(cluster), nodeMeetingMember(meeting.tenant, meeting.meetingId), ...placement.skipped];
  return placed(await placeScript.run(redis, [keys.pool(cluster), keys.holdOut(cluster)], args));
}

/** As `placeInCluster`, among `candidates` only (the nodes a server tag selects); `null` when none is in the pool. */
export async function placeAmong(
  redis: RedisClient,
  cluster: string,
  meeting: { tenant: string; meetingId: string },
  placement: PlacementRequest & { candidates: readonly string[] },
): Promise<Placed | null> {
  if (placement.candidates.length === 0) return null;
  const args = [placement.cost, placement.random, ...nodeKeysAround(cluster), nodeMeetingMember(meeting.tenant, meeting.meetingId), ...placement.candidates];
  return placed(await placeAmongScript.run(redis, [keys.pool(cluster), keys.holdOut(cluster)], args));
}

/** Keeps a node that failed a create out of its cluster's placement for `ms`, on every replica. */
export async function holdOutNode(redis: RedisClient, node: { id: string; cluster: string }, ms: number): Promise<void> {
  if (ms <= 0) return;
  await holdOutScript.run(redis, [keys.holdOut(node.cluster)], [node.id, Math.round(ms)]);
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
  /** How long the create may take at most: its marker (see `keys.creating`) expires then, should its process die. */
  createBudgetMs: number;
}

/**
 * Records that a meeting lives on `node` (placed by `placeInCluster`, which added it to the node's meeting set)
 * unless another replica got there first (then the holder is returned; it may be the same node, and the loser
 * still has a placement to give back), and unless the tenant or the secret is at a limit. Limits are checked in the same script as the claim, so concurrent creates cannot overshoot.
 */
export async function claimMeeting(redis: RedisClient, { tenant, meetingId, node, secretId, limits, createBudgetMs }: ClaimArgs): Promise<Claim> {
  const limit = (value: number | undefined): number => value ?? -1;
  const reply = (await claimScript.run(redis, tenantKeys(tenant), [
    meetingId,
    node.id,
    secretId,
    limit(limits.tenantMaxMeetings),
    limit(limits.secretMaxMeetings),
    limit(limits.tenantMaxAttendees),
    limit(limits.secretMaxAttendees),
    createBudgetMs,
    longMeetingIdField(tenant, meetingId),
  ])) as [number, string?, string?];
  if (reply[0] === 1) return { outcome: "won" };
  if (reply[0] === 0) return { outcome: "lost", holder: reply[1] ?? "" };
  return { outcome: "refused", limit: reply[1] === "maxAttendees" ? "maxAttendees" : "maxMeetings", scope: reply[2] === "secret" ? "secret" : "tenant" };
}

/** The attendee limits a join is checked against: the tenant's, and each secret's for the meetings it created. */
export interface AttendeeLimits {
  tenant: number | undefined;
  /** [secretId, limit] for every secret of the tenant that has an attendee limit. */
  bySecret: ReadonlyArray<readonly [string, number]>;
}

export type Admission =
  | { outcome: "admitted"; nodeId: string }
  | { outcome: "refused"; nodeId: string; scope: "tenant" | "secret" }
  | { outcome: "unmapped" };

/**
 * Looks a meeting's node up and counts one more attendee in it, unless that would pass an attendee limit: in one
 * script, so joins racing on any number of replicas are counted one after the other and never overshoot.
 */
export async function admitJoin(redis: RedisClient, tenant: string, meetingId: string, limits: AttendeeLimits): Promise<Admission> {
  const args = [meetingId, limits.tenant ?? -1, ...limits.bySecret.flat()];
  const [code, nodeId = "", scope] = (await admitJoinScript.run(redis, tenantKeys(tenant), args)) as [number, string?, string?];
  if (code === 1) return { outcome: "admitted", nodeId };
  if (code === -1) return { outcome: "refused", nodeId, scope: scope === "secret" ? "secret" : "tenant" };
  return { outcome: "unmapped" };
}

/** Uncounts a join the node refused (full meeting, guest denied...): the next poll would, this is sooner. */
export async function giveBackJoin(redis: RedisClient, tenant: string, meetingId: string): Promise<void> {
  await giveBackJoinScript.run(redis, tenantKeys(tenant), [meetingId]);
}

/** A voice bridge number for a new meeting: `claimed` (the node gets it), `taken` by a live meeting, or `none`. */
export type VoiceBridgeClaim = { outcome: "claimed"; voiceBridge: string } | { outcome: "taken" } | { outcome: "none" };

// Takes over a number from ARGV[2] (a meeting no longer mapped) for ARGV[3]: only while ARGV[2] still holds it.
const takeOverVoiceBridgeScript = new LuaScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`);

/** Whether the meeting named by a `voiceBridges` value is still mapped (a number is held only by a live meeting). */
async function holderIsLive(redis: RedisClient, holder: string): Promise<boolean> {
  const parsed = /^([^\n]+)\n([\s\S]+)$/.exec(holder);
  if (parsed === null) return false;
  return (await redis.hexists(keys.meetings(parsed[1] ?? ""), parsed[2] ?? "")) === 1;
}

/**
 * Takes a voice bridge number for a meeting, fleet-wide. A requested number is the meeting's or nobody's: one a
 * live meeting holds is `taken` (bbb-web refuses such a create, see `api/create.ts`), one held by a meeting no
 * longer mapped is taken over. A request that is not a number is left to the node to refuse (`none`). Without a
 * request, a free random 5-digit number, as bbb-web draws them; `none` when a few draws found none (the node then
 * picks its own).
 */
export async function claimVoiceBridge(
  redis: RedisClient,
  tenant: string,
  meetingId: string,
  requested: string | undefined,
  random: () => number,
): Promise<VoiceBridgeClaim> {
  const member = nodeMeetingMember(tenant, meetingId);
  const claim = async (candidate: string): Promise<boolean> => (await redis.hsetnx(keys.voiceBridges(), candidate, member)) === 1;
  if (requested !== undefined && requested !== "") {
    if (!/^\d{1,9}$/.test(requested)) return { outcome: "none" };
    if (await claim(requested)) return { outcome: "claimed", voiceBridge: requested };
    const holder = await redis.hget(keys.voiceBridges(), requested);
    const ours =
      holder === member ||
      (holder === null
        ? await claim(requested)
        : !(await holderIsLive(redis, holder)) && (await takeOverVoiceBridgeScript.run(redis, [keys.voiceBridges()], [requested, holder, member])) === 1);
    return ours ? { outcome: "claimed", voiceBridge: requested } : { outcome: "taken" };
  }
  for (let i = 0; i < 8; i++) {
    const candidate = String(10_000 + Math.floor(random() * 90_000));
    if (await claim(candidate)) return { outcome: "claimed", voiceBridge: candidate };
  }
  return { outcome: "none" };
}

export async function releaseVoiceBridge(redis: RedisClient, tenant: string, meetingId: string, voiceBridge: string): Promise<void> {
  await releaseVoiceBridgeScript.run(redis, [keys.voiceBridges()], [voiceBridge, nodeMeetingMember(tenant, meetingId)]);
}

/**
 * What became of a created meeting: `stored` (its summary is served), `moved` (no longer mapped to the node that
 * answered), or `endRequested` (an end arrived while the create was under way: the caller ends it on the node).
 */
export type CreatedMeeting = "stored" | "moved" | "endRequested";

/**
 * Records a node's answer to a fresh create: the tenant's view of the meeting for getMeetings (see
 * docs/redis-keys.md), or none when the node already had it (`idNotUnique`); either way the create is over.
 */
export async function storeSummary(redis: RedisClient, tenant: string, meetingId: string, nodeId: string, meetingXml: string | undefined): Promise<CreatedMeeting> {
  const outcome = await summarizeScript.run(redis, tenantKeys(tenant), [meetingId, nodeId, meetingXml ?? ""]);
  return outcome === 1 ? "stored" : outcome === 2 ? "endRequested" : "moved";
}

/**
 * An end of a meeting whose create is still under way on `nodeId`: marked, for the create to carry out once the
 * node has the meeting. False when no create is under way (the end goes to the node as usual).
 */
export async function deferEndWhileCreating(redis: RedisClient, tenant: string, meetingId: string, nodeId: string): Promise<boolean> {
  return (await deferEndScript.run(redis, tenantKeys(tenant), [meetingId, nodeId])) === 1;
}

/**
 * Forgets a meeting on evidence that it is gone from `node` (its end callback, the node's "not found", a poll,
 * an admin action). Safe to call twice and from any replica. Returns whether this call removed the mapping.
 * While the meeting's create is under way nothing is released (the node may not have it yet), unless `byCreate`:
 * the create itself giving up.
 */
export async function releaseMeeting(
  redis: RedisClient,
  tenant: string,
  meetingId: string,
  node: { id: string; cluster: string },
  { byCreate = false }: { byCreate?: boolean } = {},
): Promise<boolean> {
  const voiceBridge = await releaseScript.run(redis, tenantKeys(tenant), [meetingId, node.id, longMeetingIdField(tenant, meetingId), byCreate ? "1" : ""]);
  if (voiceBridge === -1) return false;
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

// Maps meetings a node reports that the tenant's mappings lack (with their attendees as counted now) (ARGV[2]: JSON [{id, summary, long}]) to node
// ARGV[1]. Answers per meeting: 'adopted', 'mapped' (already on this node), or `<other node>\n<its attendees>`
// when another node holds the mapping (the same meeting runs twice).
const adoptScript = new LuaScript(`${participantsLua}
local nodeId, out, changed = ARGV[1], {}, false
for _, meeting in ipairs(cjson.decode(ARGV[2])) do
  local current = redis.call('HGET', KEYS[1], meeting.id)
  if not current then
    redis.call('HSET', KEYS[1], meeting.id, nodeId)
    redis.call('HSET', KEYS[2], meeting.id, meeting.summary)
    redis.call('HSET', KEYS[7], meeting.id, participantsOf(meeting.summary))
    if meeting.long ~= '' then redis.call('HSET', KEYS[3], meeting.long, meeting.id) end
    changed = true
    out[#out + 1] = 'adopted'
  elseif current == nodeId then
    out[#out + 1] = 'mapped'
  else
    local summary = redis.call('HGET', KEYS[2], meeting.id) or ''
    out[#out + 1] = current .. '\\n' .. participantsOf(summary)
  end
end
if changed then redis.call('INCR', KEYS[4]) end
return out
`);

// Moves a mapping from ARGV[2] to ARGV[3] (compare-and-set), with the new copy's summary ARGV[4] and attendees.
const moveScript = new LuaScript(`${participantsLua}
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[7], ARGV[1], participantsOf(ARGV[4]))
redis.call('HDEL', KEYS[6], ARGV[1])
redis.call('INCR', KEYS[4])
return 1
`);

/** A reported meeting the tenant's mappings lack, in the tenant's view. */
export interface MeetingToAdopt {
  meetingId: string;
  /** The tenant's view of the node's `<meeting>` (see `tenantMeetingXml`). */
  summary: string;
}

export type Adoption = { outcome: "adopted" | "mapped" } | { outcome: "elsewhere"; node: string; attendees: number };

/**
 * Maps meetings a node runs for a tenant back to it when nothing maps them (after a Redis loss or failover, a
 * create that timed out on the node and went elsewhere, a node back from a hang): joins find them again and a
 * create of the same ID reaches them instead of starting a second copy. Adds each adopted meeting to the node's
 * set, so polls keep it. A meeting mapped to another node is reported, not touched.
 */
export async function adoptMeetings(redis: RedisClient, tenant: string, node: { id: string; cluster: string }, meetings: readonly MeetingToAdopt[]): Promise<Adoption[]> {
  if (meetings.length === 0) return [];
  const payload = meetings.map(({ meetingId, summary }) => ({ id: meetingId, summary, long: longMeetingIdField(tenant, meetingId) }));
  const replies = (await adoptScript.run(redis, tenantKeys(tenant), [node.id, JSON.stringify(payload)])) as string[];
  const adopted = meetings.filter((_, i) => replies[i] === "adopted").map(({ meetingId }) => nodeMeetingMember(tenant, meetingId));
  if (adopted.length > 0) await redis.sadd(keys.nodeMeetings(node.cluster, node.id), ...adopted);
  return replies.map((reply): Adoption => {
    if (reply === "adopted" || reply === "mapped") return { outcome: reply };
    const [holder = "", attendees = "0"] = reply.split("\n");
    return { outcome: "elsewhere", node: holder, attendees: Number(attendees) };
  });
}

/** Moves a meeting's mapping from the node that holds it to another copy of it; false when it moved meanwhile. */
export async function moveMeeting(
  redis: RedisClient,
  tenant: string,
  meeting: MeetingToAdopt,
  from: { id: string; cluster: string },
  to: { id: string; cluster: string },
): Promise<boolean> {
  const moved = (await moveScript.run(redis, tenantKeys(tenant), [meeting.meetingId, from.id, to.id, meeting.summary])) === 1;
  if (!moved) return false;
  const member = nodeMeetingMember(tenant, meeting.meetingId);
  await redis.srem(keys.nodeMeetings(from.cluster, from.id), member);
  await redis.sadd(keys.nodeMeetings(to.cluster, to.id), member);
  return true;
}

/** The tenant's meeting IDs behind hashed node meeting IDs (`undefined` where Redis no longer knows one). */
export async function meetingIdsOfHashes(redis: RedisClient, tenant: string, hashes: readonly string[]): Promise<Array<string | undefined>> {
  if (hashes.length === 0) return [];
  return (await redis.hmget(keys.longMeetingIds(tenant), ...hashes)).map((id) => id ?? undefined);
}
