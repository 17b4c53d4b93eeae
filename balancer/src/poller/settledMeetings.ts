import { parseNodeMeetingMember } from "../fleet/release.js";
import { keys } from "../store/keys.js";
import type { RedisClient } from "../store/redisClient.js";

/**
 * The members of a node's meeting set whose create had finished on the node, read before its snapshot is taken:
 * only these can prove a meeting gone by their absence. A create that finishes after the snapshot was taken (its
 * marker gone by the time the poll reads Redis) is absent from that snapshot without being gone.
 * Read per tenant (two HMGETs of one hash slot each), not per meeting: a poll's Redis reads grow with tenants only.
 */
export async function settledMeetings(redis: RedisClient, node: { id: string; cluster: string }): Promise<Set<string>> {
  const members = await redis.smembers(keys.nodeMeetings(node.cluster, node.id));
  const byTenant = new Map<string, { member: string; meetingId: string }[]>();
  for (const member of members) {
    const parsed = parseNodeMeetingMember(member);
    if (parsed === undefined) continue;
    const entries = byTenant.get(parsed.tenant) ?? [];
    entries.push({ member, meetingId: parsed.meetingId });
    byTenant.set(parsed.tenant, entries);
  }
  const settled = await Promise.all(
    [...byTenant].map(async ([tenant, entries]) => {
      const meetingIds = entries.map((entry) => entry.meetingId);
      const [mappedTo, creating] = await Promise.all([
        redis.hmget(keys.meetings(tenant), ...meetingIds),
        redis.hmget(keys.creating(tenant), ...meetingIds),
      ]);
      return entries.filter((_, i) => mappedTo[i] === node.id && creating[i] === null).map((entry) => entry.member);
    }),
  );
  return new Set(settled.flat());
}
