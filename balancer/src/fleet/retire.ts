import type { RedisClient } from "../store/redisClient.js";
import { keys } from "../store/keys.js";
import { nodeMeetingMember } from "../store/meetings.js";
import { forgetNode, registerAndFindUnnamed, type NodeRef } from "../store/nodeRegistry.js";
import { LuaScript } from "../store/script.js";
import { releaseMembers } from "./release.js";

/**
 * How long no running process's config may have named a node before it is retired, in poll intervals. Every
 * poller names its nodes at the start of each cycle, so while any poller still runs with the node in its config
 * (the old replicas of a rolling update), the node stays; three intervals forgive one late or skipped cycle.
 */
export const retireAfterIntervals = 3;

// Placement stops first; the record goes with it, so no poll, stat or admin view finds the node again. Answers
// the node's meeting set, whose members are released next (through the tenants' tags, so not in this script).
const retireScript = new LuaScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return redis.call('SMEMBERS', KEYS[3])
`);

export interface RetiredNode extends NodeRef {
  /** Tenant mappings released (those still naming the node). */
  released: number;
  /** The cluster the config now puts the node in, when it only moved. */
  movedTo?: string;
}

/**
 * A node moved to another cluster keeps its ID, and the tenants' mappings name only the ID: its meetings still
 * run, so they move to its meeting set in the new cluster (where its polls reconcile them) instead of going.
 */
async function moveMeetingSet(redis: RedisClient, from: NodeRef, to: NodeRef, members: readonly string[]): Promise<void> {
  if (members.length > 0) await redis.sadd(keys.nodeMeetings(to.cluster, to.id), ...members);
  await redis.del(keys.nodeMeetings(from.cluster, from.id));
}

/**
 * Meetings of the tenants mapped to a node, read from the tenants' mappings: a create interrupted between its
 * claim and its meeting-set entry leaves a mapping only this finds. One read per tenant; retirements are rare.
 */
async function mappedMembers(redis: RedisClient, nodeId: string, tenants: readonly string[]): Promise<string[]> {
  const mappings = await Promise.all(tenants.map((tenant) => redis.hgetall(keys.meetings(tenant))));
  return tenants.flatMap((tenant, i) =>
    Object.entries(mappings[i] ?? {})
      .filter(([, node]) => node === nodeId)
      .map(([meetingId]) => nodeMeetingMember(tenant, meetingId)),
  );
}

/**
 * Registers the configured nodes and retires every node Redis holds that no config has named for `unnamedForMs`:
 * out of its pool, its record deleted, its meetings (in its meeting set or in the tenants' mappings) released
 * through `releaseMeeting` (mapping, summary, revision, voice bridge). It leaves the registry only once its
 * meeting set is empty, so a create that raced the retirement is released by the next cycle. A node that is
 * configured in another cluster now only leaves its old cluster.
 */
export async function retireUnconfiguredNodes(
  redis: RedisClient,
  configured: { nodes: readonly NodeRef[]; tenants: readonly string[] },
  unnamedForMs: number,
): Promise<RetiredNode[]> {
  const unnamed = await registerAndFindUnnamed(redis, configured.nodes, unnamedForMs);
  const retired: RetiredNode[] = [];
  for (const node of unnamed) {
    const members = (await retireScript.run(redis, [keys.pool(node.cluster), keys.node(node.cluster, node.id), keys.nodeMeetings(node.cluster, node.id)], [
      node.id,
    ])) as string[];
    const moved = configured.nodes.find((other) => other.id === node.id);
    if (moved !== undefined) {
      await moveMeetingSet(redis, node, moved, members);
      await forgetNode(redis, node, unnamedForMs);
      retired.push({ ...node, released: 0, movedTo: moved.cluster });
      continue;
    }
    const mapped = await mappedMembers(redis, node.id, configured.tenants);
    const released = await releaseMembers(redis, node, [...new Set([...members, ...mapped])]);
    if ((await redis.scard(keys.nodeMeetings(node.cluster, node.id))) === 0) await forgetNode(redis, node, unnamedForMs);
    retired.push({ ...node, released });
  }
  return retired;
}
