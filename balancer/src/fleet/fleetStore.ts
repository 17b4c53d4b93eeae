import type { RedisClient } from "../store/redisClient.js";
import type { BbbNode, NodeState } from "../config/schema.js";
import { keys } from "../store/keys.js";
import { pipelineBySlot, type KeyedCommand } from "../store/slotPipeline.js";
import { parseNodeRecord, type NodeRecord } from "./nodeRecord.js";
import { releaseMembers } from "./release.js";
import { setStateScript } from "./scripts.js";

/** A node's record with where it stands in placement right now. */
export interface NodeStatus extends NodeRecord {
  /** Its score in the cluster pool (placements since the last poll included), `undefined` when out of the pool. */
  poolLoad: number | undefined;
}

/** Every configured node's record and pool score, in one round trip (one per cluster slot on a Redis Cluster). */
export async function readNodeStatuses(redis: RedisClient, nodes: readonly BbbNode[]): Promise<NodeStatus[]> {
  const replies = await pipelineBySlot(
    redis,
    nodes.flatMap((node): KeyedCommand[] => [
      ["hgetall", keys.node(node.cluster, node.id)],
      ["zscore", keys.pool(node.cluster), node.id],
    ]),
  );
  return nodes.map((node, i) => {
    const hash = replies[2 * i];
    const score = replies[2 * i + 1];
    const record = parseNodeRecord(node, (hash ?? {}) as Record<string, string>);
    return { ...record, poolLoad: typeof score === "string" ? Number(score) : undefined };
  });
}

export interface StateChange {
  previous: NodeState | undefined;
  /** Members of the node's meeting set (`<tenant>\n<meetingID>`) released: all of them on panic. */
  released: string[];
}

/** Sets a node's admin state and its pool membership atomically; panic also releases the tenants' mappings. */
export async function setNodeState(redis: RedisClient, node: { id: string; cluster: string }, state: NodeState, now = Date.now()): Promise<StateChange> {
  const reply = (await setStateScript.run(redis, [keys.node(node.cluster, node.id), keys.pool(node.cluster), keys.nodeMeetings(node.cluster, node.id)], [
    node.id,
    state,
    now,
  ])) as string[];
  const [previous = "", ...released] = reply;
  if (released.length > 0) await releaseMembers(redis, node, released);
  return { previous: previous === "" ? undefined : (previous as NodeState), released };
}
