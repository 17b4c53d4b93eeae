import type { SimulatedAttendee, SimulatedMeeting } from "./model.js";
import { javaDateString } from "./responses.js";

/**
 * The events a node's bbb-webhooks (v3.4.0) posts, shaped as its src/process/event.js maps them from BBB's own
 * messages (see example/events/mapped-events.json): `{ data: { type: "event", id, attributes, event: { ts } } }`.
 * `undefined` fields are left out, as JSON.stringify leaves them out of bbb-webhooks' posts.
 */

export interface WebhookEvent {
  readonly data: {
    readonly type: "event";
    readonly id: string;
    readonly attributes: Readonly<Record<string, unknown>>;
    readonly event: { readonly ts: number };
  };
}

function event(id: string, attributes: Record<string, unknown>, ts: number): WebhookEvent {
  return { data: { type: "event", id, attributes, event: { ts } } };
}

function meetingIds(meeting: SimulatedMeeting): Record<string, string> {
  return { "internal-meeting-id": meeting.internalMeetingId, "external-meeting-id": meeting.meetingId };
}

/** MeetingCreatedEvtMsg as bbb-webhooks maps it (meetingTemplate). */
export function meetingCreatedEvent(meeting: SimulatedMeeting, ts: number): WebhookEvent {
  return event(
    "meeting-created",
    {
      meeting: {
        ...meetingIds(meeting),
        name: meeting.name,
        "is-breakout": meeting.isBreakout,
        "parent-id": meeting.params["parentMeetingID"] ?? "bbb-none",
        duration: meeting.duration,
        "create-time": meeting.createTime,
        "create-date": javaDateString(meeting.createTime),
        "moderator-pass": meeting.moderatorPW,
        "viewer-pass": meeting.attendeePW,
        record: meeting.record,
        "voice-conf": meeting.voiceBridge,
        "dial-number": meeting.dialNumber,
        "max-users": meeting.maxParticipants,
        metadata: Object.fromEntries(meeting.metadata),
      },
    },
    ts,
  );
}

/** UserJoinedMeetingEvtMsg (userTemplate): the user's name, role, presenter flag and custom data, never a guest here. */
export function userJoinedEvent(meeting: SimulatedMeeting, attendee: SimulatedAttendee, ts: number): WebhookEvent {
  const userdata = Object.keys(attendee.customData).length === 0 ? undefined : attendee.customData;
  return event(
    "user-joined",
    {
      meeting: meetingIds(meeting),
      user: {
        "internal-user-id": attendee.internalUserId,
        "external-user-id": attendee.userId,
        name: attendee.fullName,
        role: attendee.role,
        presenter: attendee.isPresenter,
        ...(userdata === undefined ? {} : { userdata }),
        guest: false,
      },
    },
    ts,
  );
}

/** UserLeftMeetingEvtMsg carries only the user's IDs. */
export function userLeftEvent(meeting: SimulatedMeeting, attendee: SimulatedAttendee, ts: number): WebhookEvent {
  return event("user-left", { meeting: meetingIds(meeting), user: { "internal-user-id": attendee.internalUserId, "external-user-id": attendee.userId, guest: false } }, ts);
}

export function meetingEndedEvent(meeting: SimulatedMeeting, ts: number): WebhookEvent {
  return event("meeting-ended", { meeting: meetingIds(meeting) }, ts);
}

interface MeetingSnapshot {
  readonly meeting: SimulatedMeeting;
  readonly attendees: ReadonlyMap<string, SimulatedAttendee>;
}

/** Who is where, by internal IDs: what a change is told from. */
export type NodeSnapshot = ReadonlyMap<string, MeetingSnapshot>;

export function snapshotOf(meetings: Iterable<SimulatedMeeting>): NodeSnapshot {
  const snapshot = new Map<string, MeetingSnapshot>();
  for (const meeting of meetings) {
    snapshot.set(meeting.internalMeetingId, { meeting, attendees: new Map(meeting.attendees.map((attendee) => [attendee.internalUserId, attendee])) });
  }
  return snapshot;
}

/**
 * The events a change of the node's meetings makes, in the order BBB sends them: users leaving, then joining;
 * a new meeting before its users; a meeting's remaining users leaving before it ends (bbb-webhooks 3.0.0).
 */
export function eventsBetween(before: NodeSnapshot, after: NodeSnapshot, ts: number): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  for (const [id, was] of before) {
    const now = after.get(id);
    for (const [userId, attendee] of was.attendees) if (now?.attendees.has(userId) !== true) events.push(userLeftEvent(was.meeting, attendee, ts));
    if (now === undefined) events.push(meetingEndedEvent(was.meeting, ts));
  }
  for (const [id, now] of after) {
    const was = before.get(id);
    if (was === undefined) events.push(meetingCreatedEvent(now.meeting, ts));
    for (const [userId, attendee] of now.attendees) if (was?.attendees.has(userId) !== true) events.push(userJoinedEvent(now.meeting, attendee, ts));
  }
  return events;
}
