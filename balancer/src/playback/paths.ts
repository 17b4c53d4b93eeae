import { isRecordId } from "../recordings/share.js";

/**
 * The paths BBB's players load a recording from, as a node's nginx serves them (bbb-playback's README:
 * `location /playback/presentation/2.3 { root /var/bigbluebutton; try_files $uri /playback/presentation/2.3/index.html; }`;
 * the presentation format's files under `/presentation/<recordID>/` from `/var/bigbluebutton/published/presentation`;
 * the video format under `/playback/video/<recordID>/` from `/var/bigbluebutton/published/video`).
 */
export type PlaybackPath =
  /** The 2.3 player's page for one recording: the player's index.html. */
  | { kind: "player"; recordId: string }
  /** The player's own code and styles (`/playback/presentation/2.3/static/...`): no recording's data. */
  | { kind: "playerAsset"; path: readonly string[] }
  /** A file of a recording's format directory on the share. */
  | { kind: "recordingFile"; recordId: string; format: string; path: readonly string[] };

const playerPrefix = ["playback", "presentation", "2.3"];

/**
 * Path segments a file may have: no `.`/`..`, nothing hidden, no separators or NUL once decoded. Everything else
 * (an encoded slash, `..` in any spelling) makes the whole path unknown rather than something to normalise.
 */
function safeSegment(segment: string): boolean {
  return segment !== "" && !segment.startsWith(".") && !/[\\/\0]/.test(segment) && segment.length <= 255;
}

function decodedSegments(path: string): string[] | undefined {
  if (!path.startsWith("/")) return undefined;
  try {
    const segments = path.slice(1).split("/").map(decodeURIComponent);
    // A trailing slash names the directory's index (the video format's `/playback/video/<id>/`).
    if (segments.at(-1) === "") segments[segments.length - 1] = "index.html";
    return segments.every(safeSegment) ? segments : undefined;
  } catch {
    return undefined;
  }
}

/** What a request path names; `undefined` for anything else, hostile spellings included. */
export function parsePlaybackPath(path: string): PlaybackPath | undefined {
  const segments = decodedSegments(path);
  if (segments === undefined) return undefined;
  const [first, second, third, fourth, ...rest] = segments;
  if (first === "presentation" && second !== undefined && isRecordId(second) && third !== undefined) {
    return { kind: "recordingFile", recordId: second, format: "presentation", path: segments.slice(2) };
  }
  if (first === "playback" && second === "video" && third !== undefined && isRecordId(third)) {
    return { kind: "recordingFile", recordId: third, format: "video", path: fourth === undefined ? ["index.html"] : [fourth, ...rest] };
  }
  if (playerPrefix.every((part, i) => segments[i] === part) && fourth !== undefined) {
    if (fourth === "static" || (rest.length === 0 && !isRecordId(fourth))) return { kind: "playerAsset", path: segments.slice(3) };
    if (isRecordId(fourth)) return { kind: "player", recordId: fourth };
  }
  return undefined;
}
