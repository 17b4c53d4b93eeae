import type { BbbNode, NodeState } from "../config/schema.js";
import { healthFromStored, type HealthRecord } from "./health.js";
import { isNodeState } from "./nodeState.js";

/** Per tenant, what a node reported at its last poll. */
export type TenantUsage = Record<string, { meetings: number; attendees: number }>;

/**
 * A node's runtime record: the `keys.node` hash, typed. Fields (all strings in Redis):
 * `state`, `stateChangedAt` (admin); `health` (unknown | healthy | unhealthy), `failStreak`, `okStreak`,
 * `attendees`, `meetings`, `cpu`, `load`, `tenants` (JSON TenantUsage), `lastPollAt`, `lastSuccessAt`,
 * `lastError`, `lastPollMs`, `pollHistory`, `missing` (JSON list of meeting entries absent from the last poll)
 * (poller).
 */
export interface NodeRecord extends HealthRecord {
  id: string;
  cluster: string;
  state: NodeState;
  attendees: number;
  meetings: number;
  cpu: number;
  load: number;
  tenants: TenantUsage;
  lastPollAt: number | undefined;
  lastSuccessAt: number | undefined;
  lastError: string | undefined;
  /** How long the last poll took (getMeetings and load URL), in ms. */
  lastPollMs: number | undefined;
  /** Outcomes of the latest polls, oldest first: `+` succeeded, `-` failed (at most `pollHistoryLength`). */
  pollHistory: string;
  /** Entries absent from the last poll: released when the next poll misses them too. */
  missing: string[];
}

/** How many poll outcomes a node's record keeps, for the console's health history. */
export const pollHistoryLength = 20;

/** The history after one more poll, oldest outcome dropped once it is full. */
export function appendPollOutcome(history: string, succeeded: boolean): string {
  return `${history}${succeeded ? "+" : "-"}`.slice(-pollHistoryLength);
}

function numberOr(value: string | undefined, fallback: number): number {
  const parsed = value === undefined || value === "" ? Number.NaN : Number(value);
  return Number.isFinite(parsed) ? parsed : fallback;
}

function jsonOr<T>(value: string | undefined, fallback: T): T {
  if (value === undefined || value === "") return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

/** Reads the hash as stored; a node never written yet gets its configured state and unknown health. */
export function parseNodeRecord(node: Pick<BbbNode, "id" | "cluster" | "state">, hash: Record<string, string>): NodeRecord {
  const state = hash["state"];
  return {
    id: node.id,
    cluster: node.cluster,
    state: state !== undefined && isNodeState(state) ? state : node.state,
    healthy: healthFromStored(hash["health"]),
    failStreak: numberOr(hash["failStreak"], 0),
    okStreak: numberOr(hash["okStreak"], 0),
    attendees: numberOr(hash["attendees"], 0),
    meetings: numberOr(hash["meetings"], 0),
    cpu: numberOr(hash["cpu"], 0),
    load: numberOr(hash["load"], 0),
    tenants: jsonOr<TenantUsage>(hash["tenants"], {}),
    lastPollAt: hash["lastPollAt"] === undefined ? undefined : numberOr(hash["lastPollAt"], 0),
    lastSuccessAt: hash["lastSuccessAt"] === undefined ? undefined : numberOr(hash["lastSuccessAt"], 0),
    lastError: hash["lastError"] === undefined || hash["lastError"] === "" ? undefined : hash["lastError"],
    lastPollMs: hash["lastPollMs"] === undefined ? undefined : numberOr(hash["lastPollMs"], 0),
    pollHistory: (hash["pollHistory"] ?? "").replace(/[^+-]/g, "").slice(-pollHistoryLength),
    missing: jsonOr<string[]>(hash["missing"], []),
  };
}
