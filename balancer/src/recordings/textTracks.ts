import { randomInt } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { withRecordingClaim } from "./importer.js";
import type { RecordingsContext } from "./indexing.js";
import { findShareRecording, formatDirectory, replaceFile } from "./share.js";

/**
 * A recording's text tracks on the share. They live in its presentation format directory, where BBB's presentation
 * playback keeps them and the transfer already brings them: `caption_<lang>.vtt` files listed in `captions.json`
 * (bbb-playback's list: `{locale, localeName}` as `utils/gen_webvtt.rb` writes live captions, `{kind, locale,
 * localeName}` as `presentation/scripts/caption/presentation` adds uploaded ones). BBB's playback takes only kind
 * `captions`; `subtitles` tracks are kept beside them as `subtitles_<lang>.vtt`, listed in `subtitles.json` in the
 * same form, so the player's list stays what BBB's scripts make it.
 */

export const textTrackKinds = ["captions", "subtitles"] as const;
export type TextTrackKind = (typeof textTrackKinds)[number];

/** One track as getRecordingTextTracks lists it (bbb-common-web's `Track`), with the file it is served from. */
export interface TextTrack {
  readonly kind: TextTrackKind;
  readonly label: string | undefined;
  readonly lang: string;
  /** `live`: typed in the meeting and rendered by the node; `upload`: sent with putRecordingTextTrack. */
  readonly source: "live" | "upload";
  /** The file's name in the presentation format directory. */
  readonly file: string;
}

const presentation = "presentation";
const trackLists: Readonly<Record<TextTrackKind, string>> = { captions: "captions.json", subtitles: "subtitles.json" };
/** BBB's playback names a `captions` track `caption_<lang>.vtt` (the caption script's `dest_kind`). */
const fileName = (kind: TextTrackKind, lang: string): string => `${kind === "captions" ? "caption" : kind}_${lang}.vtt`;
/** Languages a file may be named after: what a node's gen_webvtt and `Locale.toLanguageTag` produce. */
const isTrackLanguage = (lang: string): boolean => /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(lang);

interface ListEntry {
  readonly kind?: string;
  readonly locale: string;
  readonly localeName?: string;
}

class UnreadableTrackList extends Error {}

/** A track list's entries; `undefined` when the file is absent, `UnreadableTrackList` when it is not a JSON list. */
async function readTrackList(directory: string, kind: TextTrackKind): Promise<ListEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(join(directory, trackLists[kind]), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UnreadableTrackList(`${trackLists[kind]} is not JSON`);
  }
  if (!Array.isArray(parsed)) throw new UnreadableTrackList(`${trackLists[kind]} is not a list`);
  return parsed.filter((entry): entry is ListEntry => typeof entry === "object" && entry !== null && typeof (entry as ListEntry).locale === "string");
}

/** The presentation format directory of one of the tenant's recordings, in whichever state it is. */
async function presentationDirectory(shareRoot: string, tenant: string, recordId: string): Promise<string | undefined> {
  const recording = await findShareRecording(shareRoot, tenant, recordId);
  const format = recording?.formats.find((candidate) => candidate.format === presentation);
  return format === undefined ? undefined : formatDirectory(shareRoot, tenant, format.state, presentation, recordId);
}

function tracksOf(kind: TextTrackKind, entries: readonly ListEntry[]): TextTrack[] {
  return entries
    .filter((entry) => isTrackLanguage(entry.locale) && (entry.kind === undefined || entry.kind === kind))
    .map((entry) => ({
      kind,
      label: typeof entry.localeName === "string" ? entry.localeName : undefined,
      lang: entry.locale,
      // gen_webvtt's entries carry no kind; the caption script's (an upload on the node, or here) do.
      source: entry.kind === undefined ? "live" : "upload",
      file: fileName(kind, entry.locale),
    }));
}

/**
 * The recording's tracks in list order, captions first; `undefined` when the recording has no track list at all
 * (bbb-web's `noCaptionsFound`): no presentation format, or one without a `captions.json`, or an unreadable one.
 */
export async function readTextTracks(shareRoot: string, tenant: string, recordId: string): Promise<TextTrack[] | undefined> {
  const directory = await presentationDirectory(shareRoot, tenant, recordId);
  if (directory === undefined) return undefined;
  try {
    const [captions, subtitles] = await Promise.all(textTrackKinds.map((kind) => readTrackList(directory, kind)));
    if (captions === undefined && subtitles === undefined) return undefined;
    return [...tracksOf("captions", captions ?? []), ...tracksOf("subtitles", subtitles ?? [])];
  } catch (error) {
    if (error instanceof UnreadableTrackList) return undefined;
    throw error;
  }
}

export interface NewTextTrack {
  readonly kind: TextTrackKind;
  /** A BCP 47 tag (`languageTag.ts`): letters, digits and hyphens. */
  readonly lang: string;
  readonly label: string;
  readonly webVtt: string;
}

export type StoreOutcome = "stored" | "noPresentation" | "unreadableList" | "busy";

/** How long an upload waits for the recording's claim (held by another upload, a change or an importer). */
const claimWaitMs = 10_000;

/** Runs `work` under the recording's claim, waiting for it; `undefined` when it stayed taken. */
async function underClaim<T>(context: RecordingsContext, tenant: string, recordId: string, work: () => Promise<T>): Promise<T | undefined> {
  const deadline = Date.now() + claimWaitMs;
  for (;;) {
    const done = await withRecordingClaim(context, tenant, recordId, work);
    if (done !== undefined || Date.now() >= deadline) return done;
    await sleep(20 + randomInt(60));
  }
}

/**
 * Stores a track as BBB ends up with it after its caption inbox and the presentation caption script: the file
 * under its name (replacing the same kind and language), then the list without the track's earlier entry and with
 * the new one last. Each file is replaced by a rename, and the whole runs under the recording's claim, so two
 * uploads (on any replicas) never lose each other's entry and a reader sees the old list or the new.
 */
export async function storeTextTrack(context: RecordingsContext, tenant: string, recordId: string, track: NewTextTrack): Promise<StoreOutcome> {
  if (!isTrackLanguage(track.lang)) throw new Error(`not a track language: ${track.lang}`);
  const outcome = await underClaim(context, tenant, recordId, async (): Promise<StoreOutcome> => {
    const directory = await presentationDirectory(context.shareRoot, tenant, recordId);
    if (directory === undefined) return "noPresentation";
    let entries: ListEntry[];
    try {
      entries = (await readTrackList(directory, track.kind)) ?? [];
    } catch (error) {
      if (error instanceof UnreadableTrackList) return "unreadableList";
      throw error;
    }
    await replaceFile(join(directory, fileName(track.kind, track.lang)), track.webVtt);
    const kept = entries.filter((entry) => !(entry.locale === track.lang && (entry.kind === undefined || entry.kind === track.kind)));
    const list = [...kept, { kind: track.kind, locale: track.lang, localeName: track.label }];
    await replaceFile(join(directory, trackLists[track.kind]), `${JSON.stringify(list, null, 2)}\n`);
    return "stored";
  });
  if (outcome === "stored") context.logger.info({ tenant, recordId, kind: track.kind, lang: track.lang }, "text track stored");
  return outcome ?? "busy";
}
