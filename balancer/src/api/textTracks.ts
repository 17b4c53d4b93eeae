import { BbbError } from "../bbb/errors.js";
import { maxTextTrackBytes } from "../http/body.js";
import { getRecording } from "../recordings/index.js";
import { trackLanguage } from "../recordings/languageTag.js";
import { readTextTracks, storeTextTrack, textTrackKinds, type StoreOutcome, type TextTrackKind } from "../recordings/textTracks.js";
import { asWebVtt } from "../recordings/webvtt.js";
import type { ApiAnswer, ApiContext, ApiRequest } from "./context.js";

/**
 * getRecordingTextTracks and putRecordingTextTrack, answered in JSON as bbb-web answers them
 * (`bigbluebutton-web/.../controllers/RecordingController.groovy`; the bodies are bbb-common-web's
 * `api2/domain/TextTracks.scala` case classes as Gson writes them from `api2/util/RecMetaXmlHelper.scala`). The tracks
 * are the recording's on the share (`recordings/textTracks.ts`); every lookup is the tenant's own, so another
 * tenant's record ID is answered as one that does not exist.
 */

/** Gson leaves out what is absent (a track without a label has no `label`), as `JSON.stringify` does. */
function json(response: Record<string, unknown>): ApiAnswer {
  return { kind: "json", body: JSON.stringify({ response }) };
}

/** A refusal in the calls' JSON; the dispatcher answers their checksum and request errors with it too. */
export const jsonFailure = (messageKey: string, message: string): ApiAnswer => json({ returncode: "FAILED", messageKey, message });

/** bbb-web checks only that putRecordingTextTrack has a checksum, in its JSON; a wrong one is refused here too. */
export const putTextTrackChecksumError = (reason: "missing" | "mismatch"): BbbError =>
  reason === "missing" ? new BbbError("paramError", "Missing param checksum.") : new BbbError("checksumError", "You did not pass the checksum security check");

/** `StringUtils.strip` of a parameter; `""` for an absent one (`StringUtils.isEmpty` is true for both). */
const stripped = (params: URLSearchParams, name: string): string => (params.get(name) ?? "").trim();

const unavailable = (): ApiAnswer => jsonFailure("recordingsUnavailable", "Text tracks are not available here: this balancer has no recordings share");

export async function getRecordingTextTracks(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const recordId = stripped(request.params, "recordID");
  if (recordId === "") return jsonFailure("missingParamRecordID", "You must specify a recordID.");
  const tenant = request.tenant.slug;
  if ((await getRecording(context.redis, tenant, recordId)) === undefined) return jsonFailure("noRecordings", `No recording found for ${recordId}`);
  const { shareRoot, playbackUrl } = context.recordings;
  if (shareRoot === undefined) return unavailable();
  const tracks = await readTextTracks(shareRoot, tenant, recordId);
  if (tracks === undefined) return jsonFailure("noCaptionsFound", `No captions found for ${recordId}`);
  return json({
    returncode: "SUCCESS",
    tracks: tracks.map((track) => ({
      href: playbackUrl(request.tenant, recordId, `/presentation/${recordId}/${track.file}`),
      kind: track.kind,
      label: track.label,
      lang: track.lang,
      source: track.source,
    })),
  });
}

/** bbb-web's `PutRecTextTrackResult` of a failed upload; `message` says why it failed here. */
const uploadFailed = (recordId: string, why: string): ApiAnswer =>
  json({ returncode: "FAILED", recordId, messageKey: "upload_text_track_failed", message: `Text track upload failed: ${why}.` });

const storeFailures: Readonly<Record<Exclude<StoreOutcome, "stored">, string>> = {
  noPresentation: "the recording has no presentation playback to hold text tracks",
  unreadableList: "the recording's list of text tracks on the share cannot be read",
  busy: "the recording is being changed; try again",
};

const isTrackKind = (kind: string): kind is TextTrackKind => (textTrackKinds as readonly string[]).includes(kind);

/**
 * Checks in bbb-web's order (recordID, the recording, kind, lang, label, file), then what bbb-web leaves to its
 * caption inbox and ffmpeg (a file that is a text track, within `maxTextTrackBytes`), which here is checked before
 * the answer: an accepted track is on the share when the tenant hears so.
 */
export async function putRecordingTextTrack(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const { params } = request;
  const recordId = stripped(params, "recordID");
  if (recordId === "") return jsonFailure("paramError", "Missing param recordID.");
  const tenant = request.tenant.slug;
  if ((await getRecording(context.redis, tenant, recordId)) === undefined) return jsonFailure("noRecordings", `No recording was found for ${recordId}`);
  if ((params.get("kind") ?? "") === "") return jsonFailure("paramError", "Missing param kind.");
  const kind = stripped(params, "kind");
  if (!isTrackKind(kind)) return jsonFailure("invalidKind", `Invalid kind parameter, expected='subtitles|captions' actual=${kind}`);
  if ((params.get("lang") ?? "") === "") return jsonFailure("paramError", "Missing param lang.");
  const language = trackLanguage(stripped(params, "lang"));
  if (language === undefined) return jsonFailure("invalidLang", `Malformed lang param, received=${stripped(params, "lang")}`);
  const label = (params.get("label") ?? "") === "" ? language.displayName : stripped(params, "label");
  const file = request.upload?.get("file");
  if (!(file instanceof File) || file.size === 0) return jsonFailure("empty_uploaded_text_track", "Empty uploaded text track.");
  if (file.size > maxTextTrackBytes) return uploadFailed(recordId, `the file is larger than ${maxTextTrackBytes / 2 ** 20} MiB`);
  const webVtt = asWebVtt(new Uint8Array(await file.arrayBuffer()));
  if (webVtt === undefined) return uploadFailed(recordId, "the file is neither WebVTT nor SubRip (SRT) text in UTF-8");
  const { shareRoot, logger } = context.recordings;
  if (shareRoot === undefined) return unavailable();
  const outcome = await storeTextTrack({ redis: context.redis, shareRoot, logger }, tenant, recordId, { kind, lang: language.tag, label, webVtt });
  if (outcome !== "stored") return uploadFailed(recordId, storeFailures[outcome]);
  return json({ returncode: "SUCCESS", recordId, messageKey: "upload_text_track_success", message: "Text track uploaded successfully" });
}
