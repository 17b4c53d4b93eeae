import { BbbError } from "../bbb/errors.js";
import { successXml } from "../bbb/xml.js";
import { type ApiAnswer, xmlAnswer } from "./context.js";

/** The balancer keeps no recordings yet: it answers as a BBB server that has none. */
export function getRecordings(): ApiAnswer {
  return xmlAnswer(successXml("<recordings></recordings><messageKey>noRecordings</messageKey><message>There are no recordings for the meeting(s).</message>"));
}

/** publishRecordings, deleteRecordings, updateRecordings: whatever record ID is named, there is none. */
export function changeRecordings(): ApiAnswer {
  throw new BbbError("notFound", "We could not find recordings");
}

/** getRecordingTextTracks and putRecordingTextTrack answer JSON in bbb-web. */
export function recordingTextTracks(): ApiAnswer {
  return { kind: "json", body: JSON.stringify({ response: { returncode: "FAILED", messageKey: "noRecordings", message: "No recording found" } }) };
}
