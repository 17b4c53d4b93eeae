import { elementText, isBbbResponse } from "../bbb/xml.js";

/**
 * Reads a node's getMeetings answer: only what polling needs (each meeting's ID, attendee count, breakout flag,
 * and its `<meeting>` element verbatim for the tenant summaries), by a small tag scanner rather than a full DOM,
 * so a poll cycle of 1,000 nodes x 20 meetings stays cheap. A metadata element that happens to be called
 * `<meeting>` sits deeper than the meeting list and is not mistaken for one.
 */

export interface ReportedMeeting {
  /** The meeting ID as the node knows it (tenant-namespaced when the balancer created it). */
  nodeMeetingId: string;
  attendees: number;
  isBreakout: boolean;
  /** The whole `<meeting>...</meeting>` element. */
  xml: string;
}

export type GetMeetingsAnswer =
  | { ok: true; meetings: ReportedMeeting[] }
  | { ok: false; problem: string };

const tagPattern = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>/g;

/** The `<meeting>` elements at depth 3 (`response > meetings > meeting`). */
function meetingElements(xml: string): string[] | undefined {
  const found: string[] = [];
  const stack: string[] = [];
  let meetingStart = -1;
  tagPattern.lastIndex = 0;
  for (let match = tagPattern.exec(xml); match !== null; match = tagPattern.exec(xml)) {
    const [tag, closing, name, selfClosing] = match;
    if (name === undefined || selfClosing === "/") continue;
    if (closing === "/") {
      if (stack.pop() !== name) return undefined;
      if (name === "meeting" && stack.length === 2 && meetingStart !== -1) {
        found.push(xml.slice(meetingStart, match.index + tag.length));
        meetingStart = -1;
      }
      continue;
    }
    if (name === "meeting" && stack.length === 2 && stack[1] === "meetings") meetingStart = match.index;
    stack.push(name);
  }
  return stack.length === 0 ? found : undefined;
}

export function parseGetMeetings(xml: string): GetMeetingsAnswer {
  if (!isBbbResponse(xml)) return { ok: false, problem: "not a BBB answer" };
  if (elementText(xml, "returncode") !== "SUCCESS") return { ok: false, problem: `FAILED ${elementText(xml, "messageKey") ?? ""}`.trim() };
  const elements = meetingElements(xml);
  if (elements === undefined) return { ok: false, problem: "malformed XML" };
  const meetings: ReportedMeeting[] = [];
  for (const element of elements) {
    const id = elementText(element, "meetingID");
    if (id === undefined) return { ok: false, problem: "a meeting without meetingID" };
    const attendees = Number.parseInt(elementText(element, "participantCount") ?? "0", 10);
    meetings.push({
      nodeMeetingId: id,
      attendees: Number.isFinite(attendees) && attendees > 0 ? attendees : 0,
      isBreakout: elementText(element, "isBreakout") === "true",
      xml: element,
    });
  }
  return { ok: true, meetings };
}
