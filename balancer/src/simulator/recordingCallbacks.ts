import { SignJWT } from "jose";
import { request } from "undici";
import type { MeetingRecord } from "./model.js";

/**
 * The two callbacks a BBB node's record-and-playback makes with its own secret, as its scripts make them:
 * - `post_publish/post_publish_recording_ready_callback.rb`: after publishing, to the first of
 *   `bbb-recording-ready-url`, `bn-recording-ready-url`, `canvas-recording-ready-url` in the meeting's metadata, a POST
 *   form `signed_parameters=<JWT HS256 {meeting_id: external ID, record_id}>`;
 * - `post_events/post_events_analytics_callback.rb`: after the meeting's events are processed, to
 *   `analytics-callback-url`, a POST of JSON `{version: "1.0", meeting_id, internal_meeting_id, data}` with
 *   `Authorization: Bearer <JWT HS512 {exp: now + 24 h}>`; `data` is bbb-events' summary with metadata names
 *   snake-cased (`-` to `_`), `meeting_id` and `gl_*` names dropped.
 */

export interface RecordingCallbackAttempt {
  readonly kind: "recordingReady" | "analytics";
  readonly meetingId: string;
  readonly url: string;
  readonly status?: number;
  readonly error?: string;
}

const readyNames = ["bbb-recording-ready-url", "bn-recording-ready-url", "canvas-recording-ready-url"];

async function post(kind: RecordingCallbackAttempt["kind"], meeting: MeetingRecord, url: string, headers: Record<string, string>, body: string): Promise<RecordingCallbackAttempt> {
  try {
    const answer = await request(url, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
    await answer.body.dump();
    return { kind, meetingId: meeting.meetingId, url, status: answer.statusCode };
  } catch (error) {
    return { kind, meetingId: meeting.meetingId, url, error: error instanceof Error ? error.message : String(error) };
  }
}

const secretKey = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** The recording-ready callback of a published recording, when the meeting asked for one. */
export async function sendRecordingReady(secret: string, meeting: MeetingRecord, recordId: string): Promise<RecordingCallbackAttempt | undefined> {
  const url = readyNames.map((name) => meeting.metadata.get(name)).find((value) => value !== undefined && value !== "");
  if (url === undefined) return undefined;
  const token = await new SignJWT({ meeting_id: meeting.meetingId, record_id: recordId }).setProtectedHeader({ alg: "HS256" }).sign(secretKey(secret));
  return post("recordingReady", meeting, url, { "content-type": "application/x-www-form-urlencoded" }, new URLSearchParams({ signed_parameters: token }).toString());
}

const snakeCase = (name: string): string => name.replace(/-/g, "_").replace(/([a-z\d])([A-Z])/g, "$1_$2").toLowerCase();

/** The analytics callback of an ended meeting, when the meeting asked for one. */
export async function sendAnalytics(secret: string, meeting: MeetingRecord, endTime: number): Promise<RecordingCallbackAttempt | undefined> {
  const url = meeting.metadata.get("analytics-callback-url");
  if (url === undefined || url === "") return undefined;
  const metadata: Record<string, string> = { meeting_name: meeting.name, is_breakout: String(meeting.isBreakout) };
  for (const [name, value] of meeting.metadata) if (!name.startsWith("gl-")) metadata[snakeCase(name)] = value;
  const payload = {
    version: "1.0",
    meeting_id: meeting.meetingId,
    internal_meeting_id: meeting.internalMeetingId,
    data: {
      metadata,
      duration: Math.round((endTime - meeting.startTime) / 1000),
      start: new Date(meeting.startTime).toISOString(),
      finish: new Date(endTime).toISOString(),
      attendees: meeting.attendees.map((attendee) => ({ name: attendee.fullName, moderator: attendee.role === "MODERATOR" })),
      files: [],
      polls: [],
    },
  };
  const token = await new SignJWT({ exp: Math.floor(Date.now() / 1000) + 24 * 3_600 }).setProtectedHeader({ alg: "HS512", typ: "JWT" }).sign(secretKey(secret));
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}`, "user-agent": "BigBlueButton Analytics Callback" };
  return post("analytics", meeting, url, headers, JSON.stringify(payload));
}
