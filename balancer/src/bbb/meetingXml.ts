import { nodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { tenantViewOfCallbackUrl } from "../tenancy/endCallback.js";
import { isRecordingCallbackName } from "../tenancy/recordingCallbacks.js";
import { element, elementText, escapeXml, unescapeXml } from "./xml.js";

/**
 * Metadata the balancer adds for itself (`meta_mediaplane-tenant` and the like). bbb-web lower-cases metadata
 * names and drops the `meta_` prefix, so on a node's answer they appear as `<mediaplane-...>` elements.
 */
export const internalMetadataPrefix = "mediaplane-";
export const tenantMetadataParameter = `meta_${internalMetadataPrefix}tenant`;

const metadataBlock = /<metadata>([\s\S]*?)<\/metadata>|<metadata\/>/;
const metadataEntry = /<([A-Za-z0-9_.:-]+)>([\s\S]*?)<\/\1>|<([A-Za-z0-9_.:-]+)\/>/g;

/** Metadata that holds a URL the balancer put in place of the tenant's. */
const isCallbackName = (name: string): boolean => name === "endcallbackurl" || isRecordingCallbackName(name);

/** What the tenant sees of one metadata entry: `undefined` hides it (the balancer's own, a callback it added). */
export function tenantMetadataValue(name: string, value: string): string | undefined {
  if (name.startsWith(internalMetadataPrefix)) return undefined;
  return isCallbackName(name) ? tenantViewOfCallbackUrl(value) : value;
}

function tenantMetadata(inner: string): string {
  return inner.replace(metadataEntry, (whole, name: string | undefined, value: string | undefined, emptyName: string | undefined) => {
    const key = name ?? emptyName ?? "";
    if (key.startsWith(internalMetadataPrefix)) return "";
    if (!isCallbackName(key) || value === undefined) return whole;
    const tenantUrl = tenantMetadataValue(key, unescapeXml(value));
    return tenantUrl === undefined ? "" : element(key, tenantUrl);
  });
}

/**
 * Rewrites the meeting fields of a node's answer (a `<meeting>` of getMeetings, or a getMeetingInfo / create
 * `<response>`) into the tenant's view: the tenant's own meeting ID, the balancer's metadata removed, the tenant's
 * own end callback URL shown where the node holds the balancer's.
 */
export function tenantViewOfMeetingFields(nodeXml: string, meetingId: string): string {
  return nodeXml
    .replace(/<meetingID>[^<]*<\/meetingID>/, `<meetingID>${escapeXml(meetingId)}</meetingID>`)
    .replace(metadataBlock, (whole, inner: string | undefined) => (inner === undefined ? whole : `<metadata>${tenantMetadata(inner)}</metadata>`));
}

/**
 * The tenant's view of one `<meeting>` element from a node's getMeetings: this is the value stored in the
 * tenant's `summaries` hash (see docs/redis-keys.md). Refuses a meeting that is not this tenant's, so a caller's
 * mix-up can never show one tenant another's meeting.
 */
export function tenantMeetingXml(nodeMeetingXml: string, tenant: string, meetingId: string): string {
  const onNode = elementText(nodeMeetingXml, "meetingID");
  if (onNode !== nodeMeetingId(tenant, meetingId)) {
    throw new Error(`meeting ${JSON.stringify(onNode)} on the node is not ${tenant}'s ${JSON.stringify(meetingId)}`);
  }
  return tenantViewOfMeetingFields(nodeMeetingXml.trim(), meetingId);
}

/** The meeting fields of a successful getMeetingInfo answer: what getMeetings lists inside each `<meeting>`. */
export function meetingInfoFields(answer: string): string | undefined {
  return /<response>\s*<returncode>SUCCESS<\/returncode>([\s\S]*)<\/response>\s*$/.exec(answer)?.[1];
}

/**
 * The summary of a meeting just created, before any poll has seen it: built from the node's create answer and
 * the parameters the node received, in the `<meeting>` shape getMeetings answers with. It is built in the
 * tenant's view at once (the tenant's meeting ID, the tenant's metadata), not rewritten afterwards: this runs
 * on every create.
 */
export function createdMeetingXml(createAnswer: string, nodeParams: URLSearchParams, meetingId: string): string {
  const field = (name: string, fallback = ""): string => elementText(createAnswer, name) ?? fallback;
  const metadata: string[] = [];
  for (const [name, value] of nodeParams) {
    if (!name.toLowerCase().startsWith("meta_")) continue;
    const key = name.slice(5).toLowerCase();
    const shown = tenantMetadataValue(key, value);
    if (shown !== undefined) metadata.push(element(key, shown));
  }
  const createTime = field("createTime", "0");
  return (
    "<meeting>" +
    element("meetingName", nodeParams.get("name") ?? "") +
    element("meetingID", meetingId) +
    element("internalMeetingID", field("internalMeetingID")) +
    element("createTime", createTime) +
    element("createDate", field("createDate")) +
    element("voiceBridge", field("voiceBridge")) +
    element("dialNumber", field("dialNumber")) +
    element("attendeePW", field("attendeePW")) +
    element("moderatorPW", field("moderatorPW")) +
    "<running>false</running>" +
    element("duration", field("duration", "0")) +
    "<hasUserJoined>false</hasUserJoined>" +
    element("recording", "false") +
    element("hasBeenForciblyEnded", field("hasBeenForciblyEnded", "false")) +
    "<startTime>0</startTime><endTime>0</endTime>" +
    "<participantCount>0</participantCount><listenerCount>0</listenerCount>" +
    "<voiceParticipantCount>0</voiceParticipantCount><videoCount>0</videoCount>" +
    element("maxUsers", nodeParams.get("maxParticipants") ?? "0") +
    "<moderatorCount>0</moderatorCount><attendees></attendees>" +
    `<metadata>${metadata.join("")}</metadata>` +
    element("isBreakout", nodeParams.get("isBreakout") ?? "false") +
    "</meeting>"
  );
}
