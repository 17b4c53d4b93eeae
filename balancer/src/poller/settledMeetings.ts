import { parseNodeMeetingMember } from "../fleet/release.js";
import { keys } from "../store/keys.js";
import type { RedisClient } from "../store/redisClient.js";

/**
 * The members of a node's meeting set whose create had finished on the node, read before its snapshot is taken:
 * only these can prove a meeting gone by their absence. A create that finishes after the snapshot was taken (its
 * marker gone by the time the poll reads Redis) is absent from that snapshot without being gone.
 */
export async function settledMeetings(redis: RedisClient, node: { id: string; cluster: string }): Promise<Set<string>> {
  const members = await redis.smembers(keys.nodeMeetings(node.cluster, node.id));
  const settled = await Promise.all(
    members.map(async (member) => {
      const parsed = parseNodeMeetingMember(member);
      if (parsed === undefined) return undefined;
      const [mappedTo, creating] = await Promise.all([
        redis.hget(keys.meetings(parsed.tenant), parsed.meetingId),
        redis.hexists(keys.creating(parsed.tenant), parsed.meetingId),
      ]);
      return mappedTo === node.id && creating === 0 ? member : undefined;
    }),
  );
  return new Set(settled.filter((member): member is string => member !== undefined));
}
