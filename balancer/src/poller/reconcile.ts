import { internalMetadataPrefix, tenantMeetingXml } from "../bbb/meetingXml.js";
import { elementText } from "../bbb/xml.js";
import type { TenantUsage } from "../fleet/nodeRecord.js";
import { parseNodeMeetingMember } from "../fleet/release.js";
import { nodeMeetingId, parseNodeMeetingId } from "../tenancy/nodeMeetingId.js";
import type { ReportedMeeting } from "./getMeetingsXml.js";

/** A meeting the node runs for a tenant that Redis does not map to this node: to be mapped again (adopted). */
export interface UnmappedMeeting {
  tenant: string;
  /** The tenant's meeting ID, or for a long one only its hash (`nodeMeetingId`), to be looked up. */
  meeting: { meetingId: string } | { meetingIdHash: string };
  nodeMeetingId: string;
  attendees: number;
  /** The node's `<meeting>` element. */
  xml: string;
}

/** How bbb-web reports `meta_mediaplane-tenant`: lower-cased, without its prefix, under `<metadata>`. */
const tenantMetadataElement = `${internalMetadataPrefix}tenant`;

export interface Reconciliation {
  /** Members of `keys.nodeMeetings` to release: absent from this poll and from the one before. */
  release: string[];
  /** Members absent from this poll for the first time: a create may have raced the poll, so they get one more. */
  missing: string[];
  /** The balancer's meetings the node runs that are not in its meeting set (see `UnmappedMeeting`). */
  unmapped: UnmappedMeeting[];
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
/**
 * The tenant a reported meeting belongs to, when the balancer created it: its ID names the tenant and so does the
 * metadata the balancer put on its create (a meeting made on the node by hand with such an ID is not adopted),
 * and it has not been ended.
 */
function balancerMeeting(meeting: ReportedMeeting): UnmappedMeeting | undefined {
  const owner = parseNodeMeetingId(meeting.nodeMeetingId);
  if (owner === undefined) return undefined;
  if (elementText(meeting.xml, tenantMetadataElement) !== owner.tenant || elementText(meeting.xml, "hasBeenForciblyEnded") === "true") return undefined;
  return {
    tenant: owner.tenant,
    meeting: owner.kind === "readable" ? { meetingId: owner.meetingId } : { meetingIdHash: owner.meetingIdHash },
    nodeMeetingId: meeting.nodeMeetingId,
    attendees: meeting.attendees,
    xml: meeting.xml,
  };
}

/** `settled`: the mapped members whose create had finished before the node's report was taken (see `settledMeetings`); only they can be missing. */
export function reconcile(mapped: readonly string[], previouslyMissing: readonly string[], reported: readonly ReportedMeeting[], settled: ReadonlySet<string> = new Set(mapped)): Reconciliation {
  const mappedByNodeMeetingId = new Map<string, { member: string; tenant: string; meetingId: string }>();
  for (const member of mapped) {
    const parsed = parseNodeMeetingMember(member);
    if (parsed !== undefined) mappedByNodeMeetingId.set(nodeMeetingId(parsed.tenant, parsed.meetingId), { member, ...parsed });
  }
  const summaries = new Map<string, Record<string, string>>();
  const usage: TenantUsage = {};
  const present = new Set<string>();
  const unmapped: UnmappedMeeting[] = [];
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
    if (mappedMeeting === undefined) {
      const adoptable = balancerMeeting(meeting);
      if (adoptable !== undefined) unmapped.push(adoptable);
      continue;
    }
    present.add(mappedMeeting.member);
    let tenantSummaries = summaries.get(mappedMeeting.tenant);
    if (tenantSummaries === undefined) summaries.set(mappedMeeting.tenant, (tenantSummaries = {}));
    tenantSummaries[mappedMeeting.meetingId] = tenantMeetingXml(meeting.xml, mappedMeeting.tenant, mappedMeeting.meetingId);
  }
  const missedBefore = new Set(previouslyMissing);
  const release: string[] = [];
  const missing: string[] = [];
  for (const { member } of mappedByNodeMeetingId.values()) {
    if (present.has(member) || !settled.has(member)) continue;
    (missedBefore.has(member) ? release : missing).push(member);
  }
  return { release, missing, unmapped, summaries, usage, attendees, meetings };
}
