import { recordingSize, type IndexedRecording, type PlaybackFormat } from "../recordings/recording.js";
import { element, escapeXml, successXml } from "./xml.js";

/**
 * getRecordings' answer as bbb-web writes it: one `<recording>` per record ID with every format merged into its
 * `<playback>` (bbb-common-web `RecMetaResponse.toXml`, `api2/domain/Recording.scala`), `<length>` the format's
 * duration in whole minutes, preview images as the format's `<extensions>` hold them, and `<totalElements>` after
 * `</recordings>` when the request paginates (`XmlServiceImpl.constructPaginatedResponse`).
 */

/** The absolute URL a tenant is given for a playback or preview path of a recording (host, and token if protected). */
export type PlaybackUrl = (recordId: string, path: string) => string;

function attribute(name: string, value: string | undefined): string {
  return value === undefined ? "" : ` ${name}="${escapeXml(value)}"`;
}

function formatXml(recordId: string, format: PlaybackFormat, urlOf: PlaybackUrl): string {
  const images = format.previewImages.map(
    (image) => `<image${attribute("width", image.width)}${attribute("height", image.height)}${attribute("alt", image.alt)}>${escapeXml(urlOf(recordId, image.path))}</image>`,
  );
  return (
    "<format>" +
    element("type", format.type) +
    element("url", urlOf(recordId, format.path)) +
    element("processingTime", format.processingTimeMs) +
    element("length", Math.floor(format.durationMs / 60_000)) +
    element("size", format.size) +
    (images.length === 0 ? "" : `<preview><images>${images.join("")}</images></preview>`) +
    "</format>"
  );
}

/** Metadata names are written as element names, as bbb-web does; one XML cannot carry is left out. */
const xmlName = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function recordingXml(recording: IndexedRecording, urlOf: PlaybackUrl): string {
  const metadata = Object.entries(recording.metadata)
    .filter(([name]) => xmlName.test(name))
    .map(([name, value]) => element(name, value))
    .join("");
  const breakout =
    recording.breakout === undefined ? "" : `<breakout>${element("parentId", recording.breakout.parentMeetingId)}${element("sequence", recording.breakout.sequence)}</breakout>`;
  const rooms = recording.breakoutRooms.length === 0 ? "" : `<breakoutRooms>${recording.breakoutRooms.map((room) => element("breakoutRoom", room)).join("")}</breakoutRooms>`;
  return (
    "<recording>" +
    element("recordID", recording.recordId) +
    element("meetingID", recording.meetingId) +
    element("internalMeetingID", recording.internalMeetingId) +
    element("name", recording.name) +
    element("isBreakout", recording.isBreakout) +
    element("published", recording.state === "published") +
    element("state", recording.state) +
    element("startTime", recording.startTime) +
    element("endTime", recording.endTime) +
    element("participants", recording.participants) +
    element("rawSize", recording.rawSize) +
    `<metadata>${metadata}</metadata>` +
    breakout +
    rooms +
    element("size", recordingSize(recording)) +
    `<playback>${recording.playback.map((format) => formatXml(recording.recordId, format, urlOf)).join("")}</playback>` +
    "<data/>" +
    "</recording>"
  );
}

/**
 * The whole answer. No recording is bbb-web's `noRecordings` (SUCCESS); `totalElements` is given when the
 * request carried a valid `limit`.
 */
export function getRecordingsXml(recordings: readonly IndexedRecording[], urlOf: PlaybackUrl, totalElements?: number): string {
  const total = totalElements === undefined ? "" : element("totalElements", totalElements);
  if (recordings.length === 0) {
    return successXml(`<recordings></recordings><messageKey>noRecordings</messageKey><message>There are no recordings for the meeting(s).</message>${total}`);
  }
  return successXml(`<recordings>${recordings.map((recording) => recordingXml(recording, urlOf)).join("")}</recordings>${total}`);
}
