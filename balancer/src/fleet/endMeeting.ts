import { elementText } from "../bbb/xml.js";
import type { NodeClients } from "../nodes/client.js";
import type { RedisClient } from "../store/redisClient.js";
import { keys } from "../store/keys.js";
import { deferEndWhileCreating, releaseMeeting } from "../store/meetings.js";
import type { Directory } from "../tenancy/directory.js";
import { nodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { endOnNode } from "./endMeetings.js";

export type EndMeetingOutcome =
  | { kind: "notMapped" }
  /** The node accepted the end (or no longer had the meeting): the mapping is released. */
  | { kind: "ended"; node: string }
  /** The meeting's create is still at its node: the create ends it once the node has it (as the API's end does). */
  | { kind: "endAfterCreate"; node: string }
  /** The node did not answer or refused: the meeting stays mapped, as it may still run there. */
  | { kind: "failed"; node: string }
  /** Mapped to a node the config no longer names: nothing to ask; the poller's retirement releases it. */
  | { kind: "unknownNode"; node: string };

/**
 * An operator ends one tenant meeting: the node is told first (with the moderator password older bbb-web versions
 * want), and only an end the node accepted releases the mapping, so a meeting that still runs never goes unmapped.
 * While the create is still at the node, the node would answer "not found" and the create would then leave a
 * meeting running unmapped: the end is handed to the create instead.
 */
export async function endTenantMeeting(
  redis: RedisClient,
  clients: NodeClients,
  directory: Directory,
  tenant: string,
  meetingId: string,
): Promise<EndMeetingOutcome> {
  const [nodeId, summary] = await Promise.all([redis.hget(keys.meetings(tenant), meetingId), redis.hget(keys.summaries(tenant), meetingId)]);
  if (nodeId === null) return { kind: "notMapped" };
  const node = directory.nodes.get(nodeId);
  if (node === undefined) return { kind: "unknownNode", node: nodeId };
  if (await deferEndWhileCreating(redis, tenant, meetingId, nodeId)) return { kind: "endAfterCreate", node: nodeId };
  const password = summary === null ? "" : (elementText(summary, "moderatorPW") ?? "");
  const outcome = await endOnNode(clients, node, new Map([[nodeMeetingId(tenant, meetingId), password]]));
  if (outcome.ended.length === 0) return { kind: "failed", node: nodeId };
  await releaseMeeting(redis, tenant, meetingId, node);
  return { kind: "ended", node: nodeId };
}
