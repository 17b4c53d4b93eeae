import { isRunning, type SimulatedAttendee, type SimulatedMeeting } from "./model.js";
import { element, elements, escapeXml, response, type XmlValue } from "./xml.js";

/** An error as bbb-web reports it: HTTP 200, FAILED, a machine key and a human message. */
export interface BbbError {
  readonly key: string;
  readonly message: string;
}

export function errorXml({ key, message }: BbbError): string {
  return response(elements([["returncode", "FAILED"], ["messageKey", key], ["message", message]]));
}

export function versionXml(): string {
  // bbb-web hides its exact version unless allowRevealOfBBBVersion is set, which is the default on real nodes.
  return response(elements([["returncode", "SUCCESS"], ["version", "2.0"], ["apiVersion", "2.0"], ["bbbVersion", ""]]));
}

const weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const twoDigits = (n: number): string => String(n).padStart(2, "0");

/** `createDate` is Java's `Date.toString()` on a node running in UTC, e.g. `Sun Nov 22 03:09:44 UTC 2026`. */
export function javaDateString(epochMs: number): string {
  const d = new Date(epochMs);
  const time = `${twoDigits(d.getUTCHours())}:${twoDigits(d.getUTCMinutes())}:${twoDigits(d.getUTCSeconds())}`;
  return `${weekdays[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${twoDigits(d.getUTCDate())} ${time} UTC ${d.getUTCFullYear()}`;
}

export interface CreateOutcome {
  readonly messageKey: string;
  readonly message: string;
}

export function createXml(meeting: SimulatedMeeting, outcome: CreateOutcome = { messageKey: "", message: "" }): string {
  return response(
    elements([
      ["returncode", "SUCCESS"],
      ["meetingID", meeting.meetingId],
      ["internalMeetingID", meeting.internalMeetingId],
      ["parentMeetingID", meeting.params["parentMeetingID"] ?? "bbb-none"],
      ["attendeePW", meeting.attendeePW],
      ["moderatorPW", meeting.moderatorPW],
      ["createTime", meeting.createTime],
      ["voiceBridge", meeting.voiceBridge],
      ["dialNumber", meeting.dialNumber],
      ["createDate", javaDateString(meeting.createTime)],
      ["hasUserJoined", meeting.hasUserJoined],
      ["duration", meeting.duration],
      ["hasBeenForciblyEnded", false],
      ["messageKey", outcome.messageKey],
      ["message", outcome.message],
    ]),
  );
}

function attendeeXml(attendee: SimulatedAttendee): string {
  const customData = Object.entries(attendee.customData)
    .map(([key, value]) => element(key, value))
    .join("");
  return `<attendee>${elements([
    ["userID", attendee.userId],
    ["fullName", attendee.fullName],
    ["role", attendee.role],
    ["isPresenter", attendee.isPresenter],
    ["isListeningOnly", attendee.isListeningOnly],
    ["hasJoinedVoice", attendee.hasJoinedVoice],
    ["hasVideo", attendee.hasVideo],
    ["clientType", attendee.clientType],
  ])}<customdata>${customData}</customdata></attendee>`;
}

function count(meeting: SimulatedMeeting, predicate: (attendee: SimulatedAttendee) => boolean): number {
  return meeting.attendees.reduce((n, attendee) => (predicate(attendee) ? n + 1 : n), 0);
}

/** The fields of one meeting, shared by getMeetingInfo (at the top level) and getMeetings (inside `<meeting>`). */
export function meetingFieldsXml(meeting: SimulatedMeeting): string {
  const fields: Array<readonly [string, XmlValue]> = [
    ["meetingName", meeting.name],
    ["meetingID", meeting.meetingId],
    ["internalMeetingID", meeting.internalMeetingId],
    ["createTime", meeting.createTime],
    ["createDate", javaDateString(meeting.createTime)],
    ["voiceBridge", meeting.voiceBridge],
    ["dialNumber", meeting.dialNumber],
    ["attendeePW", meeting.attendeePW],
    ["moderatorPW", meeting.moderatorPW],
    ["running", isRunning(meeting)],
    ["duration", meeting.duration],
    ["hasUserJoined", meeting.hasUserJoined],
    ["recording", meeting.record],
    ["hasBeenForciblyEnded", false],
    ["startTime", meeting.startTime],
    ["endTime", 0],
    ["participantCount", meeting.attendees.length],
    ["listenerCount", count(meeting, (a) => a.isListeningOnly)],
    ["voiceParticipantCount", count(meeting, (a) => a.hasJoinedVoice)],
    ["videoCount", count(meeting, (a) => a.hasVideo)],
    ["maxUsers", meeting.maxParticipants],
    ["moderatorCount", count(meeting, (a) => a.role === "MODERATOR")],
  ];
  const metadata = [...meeting.metadata].map(([key, value]) => element(key, value)).join("");
  const breakout = meeting.isBreakout
    ? elements([
        ["parentMeetingID", meeting.params["parentMeetingID"] ?? ""],
        ["sequence", meeting.params["sequence"] ?? "0"],
        ["freeJoin", meeting.params["freeJoin"] === "true"],
      ])
    : "";
  return (
    elements(fields) +
    `<attendees>${meeting.attendees.map(attendeeXml).join("")}</attendees>` +
    `<metadata>${metadata}</metadata>` +
    element("isBreakout", meeting.isBreakout) +
    breakout
  );
}

export function meetingInfoXml(meeting: SimulatedMeeting): string {
  return response(element("returncode", "SUCCESS") + meetingFieldsXml(meeting));
}

export function meetingsXml(meetings: Iterable<SimulatedMeeting>): string {
  let inner = "";
  for (const meeting of meetings) inner += `<meeting>${meetingFieldsXml(meeting)}</meeting>`;
  if (inner === "") {
    return response(
      element("returncode", "SUCCESS") +
        "<meetings></meetings>" +
        elements([["messageKey", "noMeetings"], ["message", "no meetings were found on this server"]]),
    );
  }
  return response(`${element("returncode", "SUCCESS")}<meetings>${inner}</meetings>`);
}

export function isMeetingRunningXml(running: boolean): string {
  return response(elements([["returncode", "SUCCESS"], ["running", running]]));
}

export function successXml(messageKey: string, message: string): string {
  return response(elements([["returncode", "SUCCESS"], ["messageKey", messageKey], ["message", message]]));
}

export interface JoinedSession {
  readonly internalMeetingId: string;
  readonly internalUserId: string;
  readonly authToken: string;
  readonly sessionToken: string;
  readonly clientUrl: string;
}

export function joinedXml(session: JoinedSession): string {
  return response(
    elements([
      ["returncode", "SUCCESS"],
      ["messageKey", "successfullyJoined"],
      ["message", "You have joined successfully."],
      ["meeting_id", session.internalMeetingId],
      ["user_id", session.internalUserId],
      ["auth_token", session.authToken],
      ["session_token", session.sessionToken],
      ["guestStatus", "ALLOW"],
      ["url", session.clientUrl],
    ]),
  );
}

export function noRecordingsXml(): string {
  return response(
    element("returncode", "SUCCESS") +
      "<recordings></recordings>" +
      elements([["messageKey", "noRecordings"], ["message", "There are no recordings for the meeting(s)."]]),
  );
}

/** The page the HTML5 client would serve, enough for a browser (or a test) to see where a join landed. */
export function clientPageHtml(nodeId: string, sessionToken: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>BigBlueButton</title></head><body><p>Simulated node ${escapeXml(nodeId)}: session ${escapeXml(sessionToken)}</p></body></html>`;
}
