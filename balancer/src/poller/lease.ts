import type { Redis } from "ioredis";
import { keys } from "../store/keys.js";

/**
 * Poll leases: time is cut into slots of one poll interval, the same for every poller (wall clock), and a node is
 * polled in a slot only by the poller that wins `SET NX` on its lease. The lease expires when the slot ends, so a
 * poller that dies holds nothing beyond it: the survivors take its nodes in the next slot.
 */
export function slotOf(now: number, intervalMs: number): number {
  return Math.floor(now / intervalMs);
}

export function slotEnd(slot: number, intervalMs: number): number {
  return (slot + 1) * intervalMs;
}

export async function acquireLease(redis: Redis, nodeId: string, pollerId: string, slot: number, intervalMs: number, now: number): Promise<boolean> {
  const ttl = Math.max(1, slotEnd(slot, intervalMs) - now);
  return (await redis.set(keys.pollLease(nodeId), `${pollerId} ${slot}`, "PX", ttl, "NX")) === "OK";
}
