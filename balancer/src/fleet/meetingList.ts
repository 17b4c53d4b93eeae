import { elementText } from "../bbb/xml.js";
import { keys } from "../store/keys.js";
import type { RedisClient } from "../store/redisClient.js";
import { parseNodeMeetingMember } from "./release.js";

/** One live meeting as operators list it (CLI and admin API): where it runs, and what its summary says. */
export interface ListedMeeting {
  tenant: string;
  meetingId: string;
  node: string;
  name?: string;
  attendees?: number;
}

function listed(tenant: string, meetingId: string, node: string, summary: string | null | undefined): ListedMeeting {
  const name = summary == null ? undefined : elementText(summary, "meetingName");
  const attendees = summary == null ? undefined : elementText(summary, "participantCount");
  return { tenant, meetingId, node, ...(name === undefined ? {} : { name }), ...(attendees === undefined ? {} : { attendees: Number(attendees) }) };
}

const byMeetingId = (a: ListedMeeting, b: ListedMeeting): number => a.tenant.localeCompare(b.tenant) || a.meetingId.localeCompare(b.meetingId);

/** A tenant's mapped meetings, by meeting ID. */
export async function tenantMeetings(redis: RedisClient, tenant: string): Promise<ListedMeeting[]> {
  const [mappings, summaries] = await Promise.all([redis.hgetall(keys.meetings(tenant)), redis.hgetall(keys.summaries(tenant))]);
  return Object.entries(mappings)
    .map(([meetingId, node]) => listed(tenant, meetingId, node, summaries[meetingId]))
    .sort(byMeetingId);
}

/**
 * The meetings mapped to one node, by tenant and meeting ID. The node's meeting set also holds creates still
 * under way (placement adds them before the node answers): only those whose tenant mapping names the node are
 * listed, the meetings a join would be sent to.
 */
export async function nodeMeetings(redis: RedisClient, node: { id: string; cluster: string }): Promise<ListedMeeting[]> {
  const members = (await redis.smembers(keys.nodeMeetings(node.cluster, node.id))).flatMap((member) => parseNodeMeetingMember(member) ?? []);
  const byTenant = new Map<string, string[]>();
  for (const { tenant, meetingId } of members) byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), meetingId]);
  const perTenant = await Promise.all(
    [...byTenant].map(async ([tenant, meetingIds]) => {
      const [mapped, summaries] = await Promise.all([redis.hmget(keys.meetings(tenant), ...meetingIds), redis.hmget(keys.summaries(tenant), ...meetingIds)]);
      return meetingIds.flatMap((meetingId, i) => (mapped[i] === node.id ? [listed(tenant, meetingId, node.id, summaries[i])] : []));
    }),
  );
  return perTenant.flat().sort(byMeetingId);
}
