import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The recording callbacks a tenant asks for in create metadata, which the balancer replaces by its own endpoints
 * (as it does the end callback): BBB's post-publish script calls the first recording-ready URL it finds
 * (`record-and-playback/core/scripts/post_publish/post_publish_recording_ready_callback.rb`: `bbb-recording-ready-url`,
 * then `bn-recording-ready-url`, then `canvas-recording-ready-url`), and its post-events script calls
 * `analytics-callback-url` (`record-and-playback/core/scripts/post_events/post_events_analytics_callback.rb`), both
 * signed with the node's secret. The balancer verifies them and calls the tenant's URL signed with the tenant's
 * secret and carrying the tenant's meeting ID. Everything the balancer needs travels in its URL, signed, so any
 * replica can take the callback.
 */

export type RecordingCallbackKind = "recordingReady" | "analytics";

/** Metadata names (as BBB lower-cases them) of each kind, in the order BBB looks them up. */
export const recordingCallbackNames: Readonly<Record<RecordingCallbackKind, readonly string[]>> = {
  recordingReady: ["bbb-recording-ready-url", "bn-recording-ready-url", "canvas-recording-ready-url"],
  analytics: ["analytics-callback-url"],
};

/** Under `/t/`, routed to the API on the base domain like the end callback; `_` never starts a tenant slug. */
export const recordingCallbackPaths: Readonly<Record<RecordingCallbackKind, string>> = {
  recordingReady: "/t/_mediaplane/recording-ready",
  analytics: "/t/_mediaplane/analytics",
};

export interface RecordingCallbackTarget {
  readonly kind: RecordingCallbackKind;
  readonly tenant: string;
  readonly meetingId: string;
  readonly nodeId: string;
  /** Which of the tenant's secrets signed the create (`TenantEntry.secretIds`): the tenant's URL is signed with it. */
  readonly secretId: string;
  readonly tenantUrl: string;
}

function signature(key: string, target: RecordingCallbackTarget): string {
  const signed = ["mediaplane recording callback", target.kind, target.tenant, target.meetingId, target.nodeId, target.secretId, target.tenantUrl].join("\n");
  return createHmac("sha256", key).update(signed).digest("hex");
}

/** `base` is the balancer's public URL as nodes reach it. */
export function recordingCallbackUrl(base: string, key: string, target: RecordingCallbackTarget): string {
  const query = new URLSearchParams({ t: target.tenant, m: target.meetingId, n: target.nodeId, k: target.secretId, u: target.tenantUrl, s: signature(key, target) });
  return `${base.replace(/\/+$/, "")}${recordingCallbackPaths[target.kind]}?${query.toString()}`;
}

/** A callback request's target; `undefined` unless its URL is one the balancer signed for this kind. */
export function verifyRecordingCallback(kind: RecordingCallbackKind, query: URLSearchParams, key: string): RecordingCallbackTarget | undefined {
  const [tenant, meetingId, nodeId, secretId, tenantUrl, given] = ["t", "m", "n", "k", "u", "s"].map((name) => query.get(name));
  if (tenant == null || meetingId == null || nodeId == null || secretId == null || tenantUrl == null || given == null) return undefined;
  const target: RecordingCallbackTarget = { kind, tenant, meetingId, nodeId, secretId, tenantUrl };
  const expected = Buffer.from(signature(key, target), "latin1");
  const actual = Buffer.from(given, "latin1");
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? target : undefined;
}

/** Whether a metadata name (lower-cased, `meta_` dropped) is one of the recording callbacks. */
export function isRecordingCallbackName(name: string): boolean {
  return Object.values(recordingCallbackNames).some((names) => names.includes(name));
}
