import { elementText } from "../bbb/xml.js";
import type { NodeClients } from "../nodes/client.js";
import { parseGetMeetings, type ReportedMeeting } from "../poller/getMeetingsXml.js";
import type { NodeEntry } from "../tenancy/directory.js";
import { nodeMeetingId, parseNodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { parseNodeMeetingMember } from "./release.js";

export interface EndOutcome {
  /** Node meeting IDs the node accepted an end for. */
  ended: string[];
  /** Node meeting IDs whose end failed (node unreachable, or it refused). */
  failed: string[];
}

/**
 * The balancer's meetings (tenant-namespaced IDs) among those a node reports, each with the moderator password
 * older bbb-web versions want on end. Breakout rooms and meetings made outside the balancer are not among them.
 */
export function balancerMeetingsAmong(reported: readonly ReportedMeeting[]): Map<string, string> {
  const meetings = new Map<string, string>();
  for (const meeting of reported) {
    if (parseNodeMeetingId(meeting.nodeMeetingId) !== undefined) meetings.set(meeting.nodeMeetingId, elementText(meeting.xml, "moderatorPW") ?? "");
  }
  return meetings;
}

async function balancerMeetingsOn(clients: NodeClients, node: NodeEntry): Promise<Map<string, string> | undefined> {
  try {
    const answer = parseGetMeetings(await clients.call(node, "getMeetings", ""));
    return answer.ok ? balancerMeetingsAmong(answer.meetings) : undefined;
  } catch {
    return undefined;
  }
}

/** Asks the node to end each meeting (node meeting ID -> moderator password, "" when unknown), all at once. */
export async function endOnNode(clients: NodeClients, node: NodeEntry, meetings: ReadonlyMap<string, string>): Promise<EndOutcome> {
  const outcome: EndOutcome = { ended: [], failed: [] };
  await Promise.all(
    [...meetings].map(async ([meetingId, password]) => {
      const params = new URLSearchParams({ meetingID: meetingId });
      if (password !== "") params.set("password", password);
      try {
        const answer = await clients.call(node, "end", params.toString());
        const accepted = elementText(answer, "returncode") === "SUCCESS" || elementText(answer, "messageKey") === "notFound";
        (accepted ? outcome.ended : outcome.failed).push(meetingId);
      } catch {
        outcome.failed.push(meetingId);
      }
    }),
  );
  return outcome;
}

/**
 * Ends on the node every meeting the balancer created there: those it reports and the released mappings, in
 * case its list is unavailable. What fails here is ended by the polls that find the node in panic later.
 */
export async function endBalancerMeetings(clients: NodeClients, node: NodeEntry, releasedMembers: readonly string[]): Promise<EndOutcome> {
  const targets = (await balancerMeetingsOn(clients, node)) ?? new Map<string, string>();
  for (const member of releasedMembers) {
    const parsed = parseNodeMeetingMember(member);
    if (parsed === undefined) continue;
    const id = nodeMeetingId(parsed.tenant, parsed.meetingId);
    if (!targets.has(id)) targets.set(id, "");
  }
  return endOnNode(clients, node, targets);
}
