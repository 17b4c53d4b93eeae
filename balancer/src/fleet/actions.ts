import type { RedisClient } from "../store/redisClient.js";
import type { NodeState } from "../config/schema.js";
import type { NodeClients } from "../nodes/client.js";
import { metrics } from "../observability/metrics.js";
import type { NodeEntry } from "../tenancy/directory.js";
import { endBalancerMeetings, type EndOutcome } from "./endMeetings.js";
import { setNodeState } from "./fleetStore.js";

export interface StateChangeReport {
  node: string;
  previous: NodeState;
  state: NodeState;
  /** Mappings released (panic only). */
  released: number;
  /** Panic only: what the node did with the end requests. */
  end?: EndOutcome;
}

/**
 * The one way the admin API and the CLI change a node's state: atomically in Redis first (so placement stops
 * at once), then, on panic, the node is told to end the meetings the balancer put there.
 */
export async function changeNodeState(redis: RedisClient, clients: NodeClients, node: NodeEntry, state: NodeState): Promise<StateChangeReport> {
  const change = await setNodeState(redis, node, state);
  // A node no poll or start has recorded yet is still in its configured state.
  const report: StateChangeReport = { node: node.id, previous: change.previous ?? node.config.state, state, released: change.released.length };
  if (change.released.length > 0) metrics.meetingsReleased.inc({ cluster: node.cluster, node: node.id, why: "panic" }, change.released.length);
  if (state === "panic") report.end = await endBalancerMeetings(clients, node, change.released);
  return report;
}
