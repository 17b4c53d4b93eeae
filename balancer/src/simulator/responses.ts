import { isRunning, type SimulatedAttendee, type SimulatedMeeting } from "./model.js";
import { element, elements, escapeXml, response } from "./xml.js";

/** An error as bbb-web reports it: HTTP 200, FAILED, a machine key and a human message. */
export interface BbbError {
  readonly key: string;
  readonly message: string;
}

export function errorXml({ key, message }: BbbError): string {
  return response(elements([["returncode", "FAILED"], ["messageKey", key], ["message", message]]));
}

/** bbb-web's older list form (ApiErrors), which it still uses for a voice-bridge clash. */
export interface BbbErrorList {
  readonly errors: readonly BbbError[];
}

export function errorListXml({ errors }: BbbErrorList): string {
  const items = errors.map((e) => `<error key="${escapeXml(e.key)}" message="${escapeXml(e.message)}"/>`).join("");
  return response(`<returncode>FAILED</returncode><errors>${items}</errors>`);
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
      ["hasBeenForciblyEnded", meeting.hasBeenForciblyEnded],
      ["messageKey", outcome.messageKey],
      ["message", outcome.message],
    ]),
  );
}

const e = escapeXml;

// Hand-written rather than built from element lists: getMeetings on thousands of nodes renders these a lot.
function attendeeXml(a: SimulatedAttendee): string {
  let customData = "";
  for (const key in a.customData) customData += element(key, a.customData[key] ?? "");
  return (
    `<attendee><userID>${e(a.userId)}</userID><fullName>${e(a.fullName)}</fullName><role>${a.role}</role>` +
    `<isPresenter>${a.isPresenter}</isPresenter><isListeningOnly>${a.isListeningOnly}</isListeningOnly>` +
    `<hasJoinedVoice>${a.hasJoinedVoice}</hasJoinedVoice><hasVideo>${a.hasVideo}</hasVideo>` +
    `<clientType>${e(a.clientType)}</clientType><customdata>${customData}</customdata></attendee>`
  );
}

interface Counts {
  listeners: number;
  voice: number;
  video: number;
  moderators: number;
}

function countsOf(attendees: readonly SimulatedAttendee[]): Counts {
  const counts: Counts = { listeners: 0, voice: 0, video: 0, moderators: 0 };
  for (const a of attendees) {
    if (a.isListeningOnly) counts.listeners++;
    if (a.hasJoinedVoice) counts.voice++;
    if (a.hasVideo) counts.video++;
    if (a.role === "MODERATOR") counts.moderators++;
  }
  return counts;
}

/** The fields of one meeting, shared by getMeetingInfo (at the top level) and getMeetings (inside `<meeting>`). */
export function meetingFieldsXml(m: SimulatedMeeting): string {
  const counts = countsOf(m.attendees);
  let attendees = "";
  for (const attendee of m.attendees) attendees += attendeeXml(attendee);
  let metadata = "";
  for (const [key, value] of m.metadata) metadata += element(key, value);
  const breakout = m.isBreakout
    ? elements([
        ["parentMeetingID", m.params["parentMeetingID"] ?? ""],
        ["sequence", m.params["sequence"] ?? "0"],
        ["freeJoin", m.params["freeJoin"] === "true"],
      ])
    : "";
  return (
    `<meetingName>${e(m.name)}</meetingName><meetingID>${e(m.meetingId)}</meetingID>` +
    `<internalMeetingID>${e(m.internalMeetingId)}</internalMeetingID><createTime>${m.createTime}</createTime>` +
    `<createDate>${javaDateString(m.createTime)}</createDate><voiceBridge>${e(m.voiceBridge)}</voiceBridge>` +
    `<dialNumber>${e(m.dialNumber)}</dialNumber><attendeePW>${e(m.attendeePW)}</attendeePW>` +
    `<moderatorPW>${e(m.moderatorPW)}</moderatorPW><running>${isRunning(m)}</running><duration>${m.duration}</duration>` +
    `<hasUserJoined>${m.hasUserJoined}</hasUserJoined><recording>${m.record}</recording>` +
    `<hasBeenForciblyEnded>${m.hasBeenForciblyEnded}</hasBeenForciblyEnded><startTime>${m.startTime}</startTime><endTime>0</endTime>` +
    `<participantCount>${m.attendees.length}</participantCount><listenerCount>${counts.listeners}</listenerCount>` +
    `<voiceParticipantCount>${counts.voice}</voiceParticipantCount><videoCount>${counts.video}</videoCount>` +
    `<maxUsers>${m.maxParticipants}</maxUsers><moderatorCount>${counts.moderators}</moderatorCount>` +
    `<attendees>${attendees}</attendees><metadata>${metadata}</metadata><isBreakout>${m.isBreakout}</isBreakout>${breakout}`
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
