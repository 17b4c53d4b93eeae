/**
 * What an uploaded text track becomes on the share. BBB's caption inbox (`record-and-playback/core/scripts/
 * rap-caption-inbox.rb`) runs `ffmpeg -i <upload> -map 0:s -f webvtt`, so it takes any subtitle format ffmpeg
 * reads. Here the two the players and authoring tools use are taken: WebVTT as it is, and SubRip (SRT) rewritten
 * as WebVTT (its cue timings with a `.` before the milliseconds). Anything else is refused, not stored broken.
 */

const webVttSignature = /^WEBVTT(?:[ \t]|\n|$)/;
const srtTiming = /^(\d{1,3}):(\d{2}):(\d{2})[,.](\d{3})[ \t]*-->[ \t]*(\d{1,3}):(\d{2}):(\d{2})[,.](\d{3})(?:[ \t].*)?$/;

const timestamp = (hours: string, minutes: string, seconds: string, millis: string): string => `${hours.padStart(2, "0")}:${minutes}:${seconds}.${millis}`;

/** SRT cues as WebVTT, `undefined` when any block is not a cue or there is none. */
function srtAsWebVtt(text: string): string | undefined {
  const blocks = text.split(/\n{2,}/).map((block) => block.replace(/^\n+|\n+$/g, "")).filter((block) => block !== "");
  const cues: string[] = [];
  for (const block of blocks) {
    const lines = block.split("\n");
    if (lines[0] !== undefined && /^\d+$/.test(lines[0].trim())) lines.shift();
    const timing = srtTiming.exec(lines.shift() ?? "");
    if (timing === null) return undefined;
    const [, h1 = "", m1 = "", s1 = "", ms1 = "", h2 = "", m2 = "", s2 = "", ms2 = ""] = timing;
    // A cue's text may not hold the timing arrow in WebVTT.
    const body = lines.map((line) => line.replaceAll("-->", "--&gt;"));
    cues.push([`${timestamp(h1, m1, s1, ms1)} --> ${timestamp(h2, m2, s2, ms2)}`, ...body].join("\n"));
  }
  return cues.length === 0 ? undefined : `WEBVTT\n\n${cues.join("\n\n")}\n`;
}

/** The WebVTT document to store for an uploaded track; `undefined` when it is neither WebVTT nor SRT in UTF-8. */
export function asWebVtt(upload: Uint8Array): string | undefined {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(upload);
  } catch {
    return undefined;
  }
  if (text.includes("\0")) return undefined;
  const lines = text.replace(/\r\n?/g, "\n");
  if (webVttSignature.test(lines)) return lines;
  return srtAsWebVtt(lines);
}
