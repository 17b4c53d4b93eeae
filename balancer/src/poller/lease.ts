import type { Redis } from "ioredis";
import { LuaScript } from "../store/script.js";
import { keys } from "../store/keys.js";

/**
 * Poll leases: time is cut into slots of one poll interval and a node is polled in a slot only by the poller that
 * wins `SET NX` on its lease, which expires when the slot ends; a poller that dies holds nothing beyond its slot,
 * and the survivors take its nodes in the next one. Slots are read from the Redis server's clock inside the
 * script, so pollers on hosts with skewed clocks, or whose command reaches Redis just after a slot boundary,
 * still never get the same node twice in one slot.
 * KEYS: the node's lease. ARGV: poller ID, interval (ms). Returns the slot won, or nil when the lease is taken.
 */
const acquireScript = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[2])
local slot = math.floor(now / interval)
local ttl = (slot + 1) * interval - now
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

/** The slot this poller won the node's lease for, or `undefined` when another poller holds it. */
export async function acquireLease(redis: Redis, nodeId: string, pollerId: string, intervalMs: number): Promise<number | undefined> {
  const slot = await acquireScript.run(redis, [keys.pollLease(nodeId)], [pollerId, intervalMs]);
  return typeof slot === "number" ? slot : undefined;
}
