import type { RedisClient } from "../store/redisClient.js";
import { releaseMeeting } from "../store/meetings.js";
import { keys } from "../store/keys.js";
import { refreshSummariesScript } from "./scripts.js";

/** Reads back a member of `keys.nodeMeetings` (written by `nodeMeetingMember` as `<tenant>\n<meetingID>`). */
export function parseNodeMeetingMember(member: string): { tenant: string; meetingId: string } | undefined {
  const newline = member.indexOf("\n");
  if (newline <= 0) return undefined;
  return { tenant: member.slice(0, newline), meetingId: member.slice(newline + 1) };
}

/**
 * Releases the tenants' mappings of meetings a node no longer holds (or must give up). Each release is a
 * compare-and-delete, so a meeting already created anew on another node keeps its new mapping. Releases are
 * rare next to polls, so one call each, all in flight at once, is enough. Returns how many mappings went.
 */
export async function releaseMembers(redis: RedisClient, node: { id: string; cluster: string }, members: readonly string[]): Promise<number> {
  const released = await Promise.all(
    members.map((member) => {
      const parsed = parseNodeMeetingMember(member);
      return parsed === undefined ? false : releaseMeeting(redis, parsed.tenant, parsed.meetingId, node);
    }),
  );
  return released.filter(Boolean).length;
}

/** Writes fresh summaries (tenant -> meetingID -> `<meeting>` XML) of one node, one script per tenant. */
export async function refreshSummaries(redis: RedisClient, nodeId: string, byTenant: ReadonlyMap<string, Record<string, string>>): Promise<void> {
  await Promise.all(
    [...byTenant].map(([tenant, summaries]) =>
      refreshSummariesScript.run(redis, [keys.meetings(tenant), keys.summaries(tenant), keys.revision(tenant), keys.attendees(tenant)], [nodeId, JSON.stringify(summaries)]),
    ),
  );
}
