import { tenantMeetingXml } from "../bbb/meetingXml.js";
import type { TenantUsage } from "../fleet/nodeRecord.js";
import { parseNodeMeetingMember } from "../fleet/release.js";
import { nodeMeetingId, parseNodeMeetingId } from "../tenancy/nodeMeetingId.js";
import type { ReportedMeeting } from "./getMeetingsXml.js";

export interface Reconciliation {
  /** Members of `keys.nodeMeetings` to release: absent from this poll and from the one before. */
  release: string[];
  /** Members absent from this poll for the first time: a create may have raced the poll, so they get one more. */
  missing: string[];
  /** tenant -> meetingID -> the tenant's view of the `<meeting>` the node reported, for the mapped meetings. */
  summaries: Map<string, Record<string, string>>;
  usage: TenantUsage;
  /** Node totals as placement counts them: attendees of every meeting, meetings except breakout rooms. */
  attendees: number;
  meetings: number;
}

/**
 * Compares what Redis maps to a node with what the node reported. A mapping is released only after two polls in a
 * row miss it: a meeting created while a poll was under way is not on that poll's list, and must survive it.
 * (Ends announced by the end callback or the end call are released at once by the API, not here.)
 */
export function reconcile(mapped: readonly string[], previouslyMissing: readonly string[], reported: readonly ReportedMeeting[]): Reconciliation {
  const mappedByNodeMeetingId = new Map<string, { member: string; tenant: string; meetingId: string }>();
  for (const member of mapped) {
    const parsed = parseNodeMeetingMember(member);
    if (parsed !== undefined) mappedByNodeMeetingId.set(nodeMeetingId(parsed.tenant, parsed.meetingId), { member, ...parsed });
  }
  const summaries = new Map<string, Record<string, string>>();
  const usage: TenantUsage = {};
  const present = new Set<string>();
  let attendees = 0;
  let meetings = 0;
  for (const meeting of reported) {
    attendees += meeting.attendees;
    if (!meeting.isBreakout) meetings += 1;
    const owner = parseNodeMeetingId(meeting.nodeMeetingId);
    if (owner !== undefined) {
      const tenantUsage = (usage[owner.tenant] ??= { meetings: 0, attendees: 0 });
      tenantUsage.attendees += meeting.attendees;
      if (!meeting.isBreakout) tenantUsage.meetings += 1;
    }
    const mappedMeeting = mappedByNodeMeetingId.get(meeting.nodeMeetingId);
    if (mappedMeeting === undefined) continue;
    present.add(mappedMeeting.member);
    let tenantSummaries = summaries.get(mappedMeeting.tenant);
    if (tenantSummaries === undefined) summaries.set(mappedMeeting.tenant, (tenantSummaries = {}));
    tenantSummaries[mappedMeeting.meetingId] = tenantMeetingXml(meeting.xml, mappedMeeting.tenant, mappedMeeting.meetingId);
  }
  const missedBefore = new Set(previouslyMissing);
  const release: string[] = [];
  const missing: string[] = [];
  for (const { member } of mappedByNodeMeetingId.values()) {
    if (present.has(member)) continue;
    (missedBefore.has(member) ? release : missing).push(member);
  }
  return { release, missing, summaries, usage, attendees, meetings };
}
