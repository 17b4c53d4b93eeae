import type { RedisClient } from "../store/redisClient.js";
import type { BalancerConfig, NodeState } from "../config/schema.js";
import { readNodeStatuses } from "../fleet/fleetStore.js";
import { storedHealth, type StoredHealth } from "../fleet/health.js";
import { takesNewMeetings } from "../fleet/nodeState.js";
import { keys } from "../store/keys.js";
import { pipelineBySlot } from "../store/slotPipeline.js";

export interface NodeStats {
  id: string;
  cluster: string;
  state: NodeState;
  health: StoredHealth;
  /** Whether placement may choose it now (enabled and not unhealthy). */
  takesNewMeetings: boolean;
  /** Load computed at the last poll (B3LB formula). */
  load: number;
  /** Its score in the pool now: the polled load plus placements since; absent when out of the pool. */
  poolLoad?: number;
  cpu: number;
  meetings: number;
  attendees: number;
  failStreak: number;
  /** Outcomes of the latest polls, oldest first: `+` succeeded, `-` failed. */
  pollHistory: string;
  /** How long the last poll took, in ms. */
  lastPollMs?: number;
  lastPollAt?: string;
  lastSuccessAt?: string;
  lastError?: string;
}

export interface FleetStats {
  generatedAt: string;
  /** Per tenant: live meetings (mappings in Redis) and attendees (as the nodes reported them at the last polls). */
  tenants: Record<string, { meetings: number; attendees: number }>;
  nodes: NodeStats[];
}

const isoTime = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The stats document of the admin API, the CLI and the fleet gauges: a few pipelined reads, no node contacted. */
export async function collectFleetStats(redis: RedisClient, config: Pick<BalancerConfig, "tenants" | "nodes">, now = Date.now()): Promise<FleetStats> {
  const [meetingCounts, statuses] = await Promise.all([
    pipelineBySlot(redis, config.tenants.map((tenant) => ["hlen", keys.meetings(tenant.slug)] as const)),
    readNodeStatuses(redis, config.nodes),
  ]);
  const tenants: FleetStats["tenants"] = {};
  config.tenants.forEach((tenant, i) => {
    tenants[tenant.slug] = { meetings: Number(meetingCounts[i] ?? 0), attendees: 0 };
  });
  for (const status of statuses) {
    for (const [slug, usage] of Object.entries(status.tenants)) {
      const tenant = tenants[slug];
      if (tenant !== undefined) tenant.attendees += usage.attendees;
    }
  }
  const nodes = statuses.map((status): NodeStats => {
    const optional = {
      poolLoad: status.poolLoad,
      lastPollMs: status.lastPollMs,
      lastPollAt: isoTime(status.lastPollAt),
      lastSuccessAt: isoTime(status.lastSuccessAt),
      lastError: status.lastError,
    };
    return {
      id: status.id,
      cluster: status.cluster,
      state: status.state,
      health: storedHealth(status.healthy),
      takesNewMeetings: takesNewMeetings(status.state, status.healthy),
      load: status.load,
      cpu: status.cpu,
      meetings: status.meetings,
      attendees: status.attendees,
      failStreak: status.failStreak,
      pollHistory: status.pollHistory,
      ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    };
  });
  return { generatedAt: new Date(now).toISOString(), tenants, nodes };
}
