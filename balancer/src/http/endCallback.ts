import type { Redis } from "ioredis";
import type { Logger } from "../observability/logger.js";
import { releaseMeeting } from "../store/meetings.js";
import type { Directory } from "../tenancy/directory.js";
import { tenantCallbackUrl, verifyEndCallback } from "../tenancy/endCallback.js";

export interface EndCallbackDeps {
  redis: Redis;
  directory: Directory;
  key: string;
  notify: (url: string) => void;
  logger: Logger;
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
  if (node !== undefined) await releaseMeeting(deps.redis, target.tenant, target.meetingId, node);
  deps.logger.info({ tenant: target.tenant, meetingId: target.meetingId, node: target.nodeId }, "meeting ended");
  if (target.tenantUrl !== undefined) deps.notify(tenantCallbackUrl(target.tenantUrl, target.meetingId, query));
  return true;
}
