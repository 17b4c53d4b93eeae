import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { metadataXml, type RecordingDocument } from "../recordings/metadataXml.js";
import type { MeetingRecord } from "./model.js";

/**
 * What a BBB node's record-and-playback does once a recorded meeting ends, cut to its outputs: the presentation
 * format published in `/var/bigbluebutton/published/presentation/<recordID>/` (metadata.xml as bbb-common-web's
 * `RecMeta.toMetadataXml` and its `sample-metadata.xml` have it, plus a small playback tree of the files the 2.3
 * player loads), then each post-publish script run as `rap-base-worker.rb` runs them:
 * `<script> -m <recordID> -f <format>` (record-and-playback/core/scripts/workers/rap-base-worker.rb).
 */

export interface RecordingSettings {
  /** Each node's `/var/bigbluebutton` is `<directory>/<nodeId>`. */
  readonly directory: string;
  /** Run after publishing; it also gets MEDIAPLANE_NODE_ID, MEDIAPLANE_NODE_SECRET and BBB_PUBLISHED_DIR. */
  readonly postPublishHook?: { readonly command: string; readonly env?: Readonly<Record<string, string>> };
}

export interface PublishedRecording {
  readonly meetingId: string;
  readonly recordId: string;
  readonly format: string;
  /** The published format directory on the node. */
  readonly directory: string;
  /** Why publishing failed (a full disk, a directory it may not write): nothing was published. */
  readonly failure?: string;
  /** How the post-publish hook ended, when there is one. */
  readonly hook?: { readonly exitCode: number | null; readonly output: string };
}

export interface PublishingNode {
  readonly id: string;
  readonly secret: string;
  /** The node's origin, as BBB's `playback_host`. */
  readonly origin: string;
}

const format = "presentation";
/** A 1×1 PNG: slides and thumbnails are images the player loads, their pixels do not matter here. */
const onePixelPng = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", "base64");

/** bbb-web adds these to a meeting's metadata for the recording (MeetingService), ahead of the `meta_*` received. */
function recordingMeta(meeting: MeetingRecord): Array<[string, string]> {
  const own: Array<[string, string]> = [
    ["isBreakout", String(meeting.isBreakout)],
    ["meetingId", meeting.meetingId],
    ["meetingName", meeting.name],
  ];
  return [...own, ...[...meeting.metadata].filter(([name]) => !own.some(([key]) => key === name))];
}

function recordingDocument(node: PublishingNode, meeting: MeetingRecord, endTime: number, presentationId: string, sizes: number): RecordingDocument {
  const recordId = meeting.internalMeetingId;
  const thumbnail = (n: number): string => `${node.origin}/presentation/${recordId}/presentation/${presentationId}/thumbnails/thumb-${n}.png`;
  return {
    id: recordId,
    state: "published",
    published: true,
    startTime: meeting.startTime,
    endTime,
    participants: meeting.participantIds.size,
    rawSize: sizes * 3,
    meeting: { id: recordId, externalId: meeting.meetingId, name: meeting.name, breakout: meeting.isBreakout },
    meta: recordingMeta(meeting),
    breakoutRooms: [],
    playback: {
      format,
      link: `${node.origin}/playback/presentation/2.3/${recordId}`,
      processingTime: 1_234,
      duration: Math.max(0, endTime - meeting.startTime),
      size: sizes,
      previewImages: [
        { link: thumbnail(1), width: "176", height: "136", alt: "Welcome" },
        { link: thumbnail(2), width: "176", height: "136", alt: "(this slide left blank for use as a whiteboard)" },
      ],
    },
  };
}

/** The playback's `captions.json` as `record-and-playback/core/scripts/utils/gen_webvtt.rb` writes it: `{locale, localeName}` per locale typed. */
function captionList(meeting: MeetingRecord): Array<{ locale: string; localeName: string }> {
  return [...meeting.liveCaptions].map(([locale, { localeName }]) => ({ locale, localeName }));
}

const cueTime = (seconds: number): string => `${new Date(seconds * 1000).toISOString().slice(11, 23)}`;
const escapedCueText = (line: string): string => line.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** One locale's `caption_<locale>.vtt` as gen_webvtt renders it: a cue of a few seconds per line, its text HTML-escaped. */
function liveCaptionsWebVtt(lines: readonly string[]): string {
  const cues = lines.map((line, i) => `${cueTime(i * 4)} --> ${cueTime(i * 4 + 3)}\n${escapedCueText(line)}\n\n`);
  return `WEBVTT\n\n${cues.join("")}`;
}

/** The playback tree, metadata.xml aside: what the player fetches under `/presentation/<recordID>/`. */
function playbackFiles(meeting: MeetingRecord, presentationId: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>([
    ["shapes.svg", Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" version="1.1"><image id="image1" in="0.0" out="${(Date.now() - meeting.startTime) / 1000}" xlink:href="presentation/${presentationId}/slide-1.png" xmlns:xlink="http://www.w3.org/1999/xlink" width="1600" height="1200"/></svg>\n`)],
    ["panzooms.xml", Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<recording id="panzoom_events"/>\n`)],
    ["cursor.xml", Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<recording id="cursor_events"/>\n`)],
    ["captions.json", Buffer.from(`${JSON.stringify(captionList(meeting), null, 2)}\n`)],
    ["video/webcams.webm", Buffer.from("\u001aE\u00df\u00a3 simulated webm")],
  ]);
  for (const [locale, captions] of meeting.liveCaptions) files.set(`caption_${locale}.vtt`, Buffer.from(liveCaptionsWebVtt(captions.lines)));
  for (const n of [1, 2]) {
    files.set(`presentation/${presentationId}/slide-${n}.png`, onePixelPng);
    files.set(`presentation/${presentationId}/thumbnails/thumb-${n}.png`, onePixelPng);
  }
  return files;
}

async function runHook(hook: NonNullable<RecordingSettings["postPublishHook"]>, node: PublishingNode, publishedDir: string, recordId: string): Promise<{ exitCode: number | null; output: string }> {
  const child = spawn(hook.command, ["-m", recordId, "-f", format], {
    env: { ...process.env, MEDIAPLANE_NODE_ID: node.id, MEDIAPLANE_NODE_SECRET: node.secret, BBB_PUBLISHED_DIR: publishedDir, ...hook.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const [exitCode] = (await once(child, "close")) as [number | null];
  return { exitCode, output };
}

/** Publishes a recorded meeting's presentation format (moved into place whole, as BBB's publish step does) and runs the hook. */
export async function publishRecording(node: PublishingNode, meeting: MeetingRecord, endTime: number, settings: RecordingSettings): Promise<PublishedRecording> {
  const recordId = meeting.internalMeetingId;
  const nodeDir = join(settings.directory, node.id);
  const publishedDir = join(nodeDir, "published");
  const target = join(publishedDir, format, recordId);
  const building = join(nodeDir, "publish", format, recordId);
  const presentationId = `${createHash("sha1").update(`${meeting.meetingId}/default.pdf`).digest("hex")}-${meeting.createTime}`;
  const files = playbackFiles(meeting, presentationId);
  const size = [...files.values()].reduce((total, content) => total + content.length, 0);
  await rm(building, { recursive: true, force: true });
  for (const [path, content] of files) {
    await mkdir(dirname(join(building, path)), { recursive: true });
    await writeFile(join(building, path), content);
  }
  await writeFile(join(building, "metadata.xml"), metadataXml(recordingDocument(node, meeting, endTime, presentationId, size)));
  await mkdir(dirname(target), { recursive: true });
  await rm(target, { recursive: true, force: true });
  await rename(building, target);
  const published = { meetingId: meeting.meetingId, recordId, format, directory: target };
  if (settings.postPublishHook === undefined) return published;
  return { ...published, hook: await runHook(settings.postPublishHook, node, publishedDir, recordId) };
}
