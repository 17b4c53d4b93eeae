import type { Redis } from "ioredis";
import type { BbbNode, NodeState } from "../config/schema.js";
import { keys } from "../store/keys.js";
import { parseNodeRecord, type NodeRecord } from "./nodeRecord.js";
import { releaseMembers } from "./release.js";
import { setStateScript } from "./scripts.js";

/** A node's record with where it stands in placement right now. */
export interface NodeStatus extends NodeRecord {
  /** Its score in the cluster pool (placements since the last poll included), `undefined` when out of the pool. */
  poolLoad: number | undefined;
}

/** Every configured node's record and pool score, in one round trip. */
export async function readNodeStatuses(redis: Redis, nodes: readonly BbbNode[]): Promise<NodeStatus[]> {
  const pipeline = redis.pipeline();
  for (const node of nodes) {
    pipeline.hgetall(keys.node(node.cluster, node.id));
    pipeline.zscore(keys.pool(node.cluster), node.id);
  }
  const replies = (await pipeline.exec()) ?? [];
  return nodes.map((node, i) => {
    const [hashError, hash] = replies[2 * i] ?? [];
    const [scoreError, score] = replies[2 * i + 1] ?? [];
    if (hashError) throw hashError;
    if (scoreError) throw scoreError;
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
export async function setNodeState(redis: Redis, node: { id: string; cluster: string }, state: NodeState, now = Date.now()): Promise<StateChange> {
  const reply = (await setStateScript.run(redis, [keys.node(node.cluster, node.id), keys.pool(node.cluster), keys.nodeMeetings(node.cluster, node.id)], [
    node.id,
    state,
    now,
  ])) as string[];
  const [previous = "", ...released] = reply;
  if (released.length > 0) await releaseMembers(redis, node, released);
  return { previous: previous === "" ? undefined : (previous as NodeState), released };
}
