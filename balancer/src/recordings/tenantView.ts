import { createHash } from "node:crypto";
import { internalMetadataPrefix, tenantMetadataValue } from "../bbb/meetingXml.js";
import { hashMeetingId, parseNodeMeetingId } from "../tenancy/nodeMeetingId.js";
import type { RecordingDocument } from "./metadataXml.js";
import type { IndexedRecording, PlaybackFormat, RecordingState } from "./recording.js";

export class RecordingOwnershipError extends Error {
  override readonly name = "RecordingOwnershipError";
}

/** bbb-web's `meta_mediaplane-tenant`, as it lands in metadata.xml (lower-cased, prefix dropped). */
export const tenantMetaKey = `${internalMetadataPrefix}tenant`;

/**
 * BBB's record ID is the meeting's internal ID: `<sha1 of the external meeting ID>-<create time ms>`
 * (bbb-web `ParamsProcessorUtil.convertToInternalMeetingId` plus the create time). A recording whose ID does not
 * derive from its meeting's external ID is not that meeting's recording.
 */
export function recordIdMatchesMeeting(recordId: string, externalMeetingId: string): boolean {
  const prefix = `${createHash("sha1").update(externalMeetingId).digest("hex")}-`;
  return recordId.startsWith(prefix) && /^\d{1,16}$/.test(recordId.slice(prefix.length));
}

/**
 * The tenant's own meeting ID of a recording made on a node. A readable node meeting ID carries it; a hashed one
 * (meeting IDs too long for BBB) is resolved through the `m` of the balancer's end callback URL, which the same
 * create put in the metadata, checked against the hash so no other value can stand in.
 */
function tenantMeetingId(tenant: string, document: RecordingDocument): string {
  const parsed = parseNodeMeetingId(document.meeting.externalId);
  if (parsed === undefined || parsed.tenant !== tenant) {
    throw new RecordingOwnershipError(`recording ${document.id}: meeting ${JSON.stringify(document.meeting.externalId)} is not a meeting of tenant ${tenant}`);
  }
  if (parsed.kind === "readable") return parsed.meetingId;
  const callback = document.meta.find(([name]) => name === "endcallbackurl")?.[1];
  let candidate: string | null = null;
  try {
    candidate = callback === undefined ? null : new URL(callback).searchParams.get("m");
  } catch {
    candidate = null;
  }
  if (candidate === null || hashMeetingId(candidate) !== parsed.meetingIdHash) {
    throw new RecordingOwnershipError(`recording ${document.id}: the meeting ID behind ${document.meeting.externalId} is not in its metadata`);
  }
  return candidate;
}

/** A URL of the node as a path on the platform's hosts; a URL that is a path already stays one. */
function urlPath(link: string): string {
  try {
    const url = new URL(link);
    return `${url.pathname}${url.search}`;
  } catch {
    return link.startsWith("/") ? link : `/${link}`;
  }
}

function playbackFormat(document: RecordingDocument): PlaybackFormat {
  const { playback } = document;
  return {
    type: playback.format,
    path: urlPath(playback.link),
    processingTimeMs: playback.processingTime,
    durationMs: playback.duration,
    size: playback.size,
    previewImages: playback.previewImages.map(({ link, ...attributes }) => ({ path: urlPath(link), ...attributes })),
  };
}

function tenantMetadata(meta: RecordingDocument["meta"], meetingId: string): Record<string, string> {
  const view: Record<string, string> = {};
  for (const [name, value] of meta) {
    const shown = name === "meetingId" ? meetingId : tenantMetadataValue(name, value);
    if (shown !== undefined) view[name] = shown;
  }
  return view;
}

/**
 * Checks that one format's metadata.xml is a recording of `tenant`'s meeting: the balancer's tenant metadata,
 * the node meeting ID and the record ID agree. Throws `RecordingOwnershipError` naming what does not.
 */
export function verifyOwnership(tenant: string, document: RecordingDocument): string {
  const claimed = document.meta.find(([name]) => name === tenantMetaKey)?.[1];
  if (claimed !== tenant) throw new RecordingOwnershipError(`recording ${document.id}: its metadata names tenant ${JSON.stringify(claimed ?? null)}, not ${tenant}`);
  if (document.meeting.id !== document.id || !recordIdMatchesMeeting(document.id, document.meeting.externalId)) {
    throw new RecordingOwnershipError(`recording ${document.id}: the record ID is not the internal ID of meeting ${JSON.stringify(document.meeting.externalId)}`);
  }
  return tenantMeetingId(tenant, document);
}

/**
 * The tenant's view of a recording from the metadata.xml of each of its formats (the share's state directory
 * decides `state`): as bbb-web merges formats into one `<recording>`, the first format (by name) gives the rest.
 */
export function indexedRecording(tenant: string, state: RecordingState, documents: readonly RecordingDocument[]): IndexedRecording {
  const sorted = [...documents].sort((a, b) => (a.playback.format < b.playback.format ? -1 : a.playback.format > b.playback.format ? 1 : 0));
  const first = sorted[0];
  if (first === undefined) throw new RecordingOwnershipError("a recording needs at least one format");
  const meetingId = verifyOwnership(tenant, first);
  for (const other of sorted.slice(1)) {
    if (other.id !== first.id) throw new RecordingOwnershipError(`formats of recording ${first.id} disagree on the record ID (${other.id})`);
    verifyOwnership(tenant, other);
  }
  return {
    recordId: first.id,
    tenant,
    meetingId,
    internalMeetingId: first.meeting.id,
    name: first.meeting.name,
    isBreakout: first.meeting.breakout,
    ...(first.breakout === undefined ? {} : { breakout: first.breakout }),
    breakoutRooms: first.breakoutRooms,
    state,
    startTime: first.startTime,
    endTime: first.endTime,
    participants: first.participants,
    rawSize: first.rawSize,
    metadata: tenantMetadata(first.meta, meetingId),
    playback: sorted.map(playbackFormat),
  };
}
