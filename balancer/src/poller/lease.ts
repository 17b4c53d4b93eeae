import type { RedisClient } from "../store/redisClient.js";
import { LuaScript } from "../store/script.js";
import { keys } from "../store/keys.js";

/**
 * Poll leases: time is cut into slots of one poll interval and a node is polled in a slot only by the poller that
 * wins `SET NX` on its lease, which expires when the slot ends; a poller that dies holds nothing beyond its slot,
 * and the survivors take its nodes in the next one. Slots are read from the Redis server's clock inside the
 * script, so pollers on hosts with skewed clocks, or whose command reaches Redis just after a slot boundary,
 * still never get the same node twice in one slot.
 * Near a slot's end no lease is granted: a poll started then would reach its node in the next slot, next to
 * that slot's own poll.
 * KEYS: the node's lease. ARGV: poller ID, interval (ms), closing margin (ms).
 * Returns the slot won, -1 when the slot is closing, nil when another poller holds the lease.
 */
const acquireScript = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[2])
local slot = math.floor(now / interval)
local ttl = (slot + 1) * interval - now
if ttl < tonumber(ARGV[3]) then return -1 end
if redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. slot, 'PX', ttl, 'NX') then return slot end
return false
`);

/** The slot a local time falls in, for scheduling: the slot of record is the one the lease script returns. */
export function slotOf(now: number, intervalMs: number): number {
  return Math.floor(now / intervalMs);
}

export function slotEnd(slot: number, intervalMs: number): number {
  return (slot + 1) * intervalMs;
}

/** The last tenth of each slot takes no new polls. */
function closingMarginMs(intervalMs: number): number {
  return Math.floor(intervalMs / 10);
}

export type LeaseOutcome = { won: true; slot: number } | { won: false; slotClosing: boolean };

export async function acquireLease(redis: RedisClient, nodeId: string, pollerId: string, intervalMs: number): Promise<LeaseOutcome> {
  const slot = await acquireScript.run(redis, [keys.pollLease(nodeId)], [pollerId, intervalMs, closingMarginMs(intervalMs)]);
  if (typeof slot !== "number") return { won: false, slotClosing: false };
  return slot < 0 ? { won: false, slotClosing: true } : { won: true, slot };
}
