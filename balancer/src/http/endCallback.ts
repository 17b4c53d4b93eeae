import type { RedisClient } from "../store/redisClient.js";
import { elementText } from "../bbb/xml.js";
import type { NodeClients } from "../nodes/client.js";
import type { Logger } from "../observability/logger.js";
import { releaseMeeting } from "../store/meetings.js";
import type { Directory, NodeEntry } from "../tenancy/directory.js";
import { tenantCallbackUrl, verifyEndCallback } from "../tenancy/endCallback.js";
import { nodeMeetingId } from "../tenancy/nodeMeetingId.js";

export interface EndCallbackDeps {
  redis: RedisClient;
  directory: Directory;
  nodes: NodeClients;
  key: string;
  notify: (url: string) => void;
  logger: Logger;
}

/**
 * Whether the node runs a newer meeting of the same ID than the one that ended: a tenant that ends a meeting and
 * creates it again at once must not lose the new one to the old one's late callback. An unreachable node proves
 * nothing either way; the callback itself is the evidence then.
 */
async function runsAgain(nodes: NodeClients, node: NodeEntry, tenant: string, meetingId: string): Promise<boolean> {
  try {
    const info = await nodes.call(node, "getMeetingInfo", new URLSearchParams({ meetingID: nodeMeetingId(tenant, meetingId) }).toString());
    return elementText(info, "returncode") === "SUCCESS" && elementText(info, "hasBeenForciblyEnded") !== "true" && elementText(info, "endTime") === "0";
  } catch {
    return false;
  }
}

/**
 * A node tells the balancer that a meeting ended: the mapping is released at once (the poller would find it
 * later anyway) and the tenant's own callback, if it gave one, is called with the tenant's meeting ID.
 * Returns whether the callback was genuine.
 */
export async function handleEndCallback(deps: EndCallbackDeps, query: URLSearchParams): Promise<boolean> {
  const target = verifyEndCallback(query, deps.key);
  if (target === undefined) return false;
  const node = deps.directory.nodes.get(target.nodeId);
  if (node !== undefined && !(await runsAgain(deps.nodes, node, target.tenant, target.meetingId))) {
    await releaseMeeting(deps.redis, target.tenant, target.meetingId, node);
  }
  deps.logger.info({ tenant: target.tenant, meetingId: target.meetingId, node: target.nodeId }, "meeting ended");
  if (target.tenantUrl !== undefined) deps.notify(tenantCallbackUrl(target.tenantUrl, target.meetingId, query));
  return true;
}
