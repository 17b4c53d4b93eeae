import type { SimulatedMeeting } from "./model.js";

/** One end-of-meeting notification the node sent (or tried to). */
export interface EndCallbackAttempt {
  readonly meetingId: string;
  readonly url: string;
  /** The HTTP status the receiver answered, when it answered. */
  readonly status?: number;
  readonly error?: string;
}

/**
 * Whether the recording has marks: the meeting was created with `record=true` and its recording ran, started
 * by a moderator or by itself (`autoStartRecording`) with someone in it. Only such a meeting is processed and
 * published (bbb-record skips a recording without marks).
 */
export function hasRecordingMarks(meeting: SimulatedMeeting): boolean {
  return meeting.record && (meeting.recordingStarted || (meeting.params["autoStartRecording"]?.toLowerCase() === "true" && meeting.hasUserJoined));
}

/** Apache URIBuilder.addParameter: form encoding (space as `+`), appended after any query the URL already has. */
function addParameters(url: string, parameters: ReadonlyArray<readonly [string, string]>): string {
  const hashAt = url.indexOf("#");
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  const fragment = hashAt === -1 ? "" : url.slice(hashAt);
  const added = new URLSearchParams(parameters.map(([name, value]): [string, string] => [name, value])).toString();
  const separator = !base.includes("?") ? "?" : base.endsWith("?") || base.endsWith("&") ? "" : "&";
  return `${base}${separator}${added}${fragment}`;
}

/**
 * The URLs bbb-web calls with GET when a meeting ends: `meta_endCallbackUrl` with `recordingmarks` and
 * `meetingID` added, and `meetingEndedURL` as given. Breakout rooms notify nobody.
 */
export function endCallbackUrls(meeting: SimulatedMeeting): string[] {
  if (meeting.isBreakout) return [];
  const urls: string[] = [];
  const metadataUrl = meeting.metadata.get("endcallbackurl");
  if (metadataUrl !== undefined && metadataUrl !== "") {
    urls.push(addParameters(metadataUrl, [["recordingmarks", String(hasRecordingMarks(meeting))], ["meetingID", meeting.meetingId]]));
  }
  const endedUrl = meeting.params["meetingEndedURL"];
  if (endedUrl !== undefined && endedUrl !== "") urls.push(endedUrl);
  return urls;
}

const callbackTimeoutMs = 5_000;

export async function sendEndCallback(meetingId: string, url: string): Promise<EndCallbackAttempt> {
  try {
    const answer = await fetch(url, { method: "GET", redirect: "manual", signal: AbortSignal.timeout(callbackTimeoutMs) });
    await answer.body?.cancel();
    return { meetingId, url, status: answer.status };
  } catch (error) {
    return { meetingId, url, error: error instanceof Error ? error.message : String(error) };
  }
}
