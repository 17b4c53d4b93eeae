import { elementText } from "../bbb/xml.js";
import type { NodeClients } from "../nodes/client.js";
import { parseGetMeetings } from "../poller/getMeetingsXml.js";
import type { NodeEntry } from "../tenancy/directory.js";
import { nodeMeetingId, parseNodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { parseNodeMeetingMember } from "./release.js";

export interface EndOutcome {
  /** Node meeting IDs the node accepted an end for. */
  ended: string[];
  /** Node meeting IDs whose end failed (node unreachable, or it refused). */
  failed: string[];
}

/** The node's own list of the balancer's meetings, with the moderator password older bbb-web versions want on end. */
async function balancerMeetingsOn(clients: NodeClients, node: NodeEntry): Promise<Map<string, string> | undefined> {
  try {
    const answer = parseGetMeetings(await clients.call(node, "getMeetings", ""));
    if (!answer.ok) return undefined;
    const meetings = new Map<string, string>();
    for (const meeting of answer.meetings) {
      if (parseNodeMeetingId(meeting.nodeMeetingId) !== undefined) meetings.set(meeting.nodeMeetingId, elementText(meeting.xml, "moderatorPW") ?? "");
    }
    return meetings;
  } catch {
    return undefined;
  }
}

/**
 * Ends on the node every meeting the balancer created there: those it reports (tenant-namespaced IDs) and the
 * released mappings, in case its list is unavailable. Breakout rooms and meetings made outside the balancer stay.
 */
export async function endBalancerMeetings(clients: NodeClients, node: NodeEntry, releasedMembers: readonly string[]): Promise<EndOutcome> {
  const targets = (await balancerMeetingsOn(clients, node)) ?? new Map<string, string>();
  for (const member of releasedMembers) {
    const parsed = parseNodeMeetingMember(member);
    if (parsed === undefined) continue;
    const id = nodeMeetingId(parsed.tenant, parsed.meetingId);
    if (!targets.has(id)) targets.set(id, "");
  }
  const outcome: EndOutcome = { ended: [], failed: [] };
  await Promise.all(
    [...targets].map(async ([meetingId, password]) => {
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
