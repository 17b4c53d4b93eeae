import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseMetadataXml, type RecordingDocument } from "./metadataXml.js";
import { recordingStates, type RecordingState } from "./recording.js";

/**
 * The recordings share, the source of truth (docs/recordings.md):
 * `<share>/<tenant>/<published|unpublished>/<format>/<recordID>/`, each as BBB's
 * `/var/bigbluebutton/<published|unpublished>/<format>/<recordID>/`. Every change is a rename (a format directory
 * appears, moves or disappears whole) or an atomic replacement of one metadata.xml, so a reader never sees half.
 */

/** Uploads being assembled; slugs never start with a dot, so no tenant directory can be one of these. */
export const stagingDirectory = ".staging";
/** Directories renamed out of sight on their way to removal. */
export const trashDirectory = ".trash";
export const metadataFile = "metadata.xml";

const slugPattern = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const formatPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const recordIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;

export const isTenantSlug = (name: string): boolean => slugPattern.test(name);
export const isFormatName = (name: string): boolean => formatPattern.test(name);
export const isRecordId = (name: string): boolean => recordIdPattern.test(name);

export function formatDirectory(shareRoot: string, tenant: string, state: RecordingState, format: string, recordId: string): string {
  return join(shareRoot, tenant, state, format, recordId);
}

/** One record ID of a tenant as the share holds it: the state directory of each of its formats. */
export interface ShareRecording {
  readonly tenant: string;
  readonly recordId: string;
  readonly formats: ReadonlyArray<{ readonly format: string; readonly state: RecordingState }>;
}

async function directoryNames(path: string): Promise<string[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return [];
    throw error;
  }
}

/** The tenants that have a directory on the share. */
export async function shareTenants(shareRoot: string): Promise<string[]> {
  return (await directoryNames(shareRoot)).filter(isTenantSlug).sort();
}

/** Every recording of a tenant on the share, by record ID. Names that cannot be ours are passed over. */
export async function tenantShareRecordings(shareRoot: string, tenant: string): Promise<ShareRecording[]> {
  const byId = new Map<string, Array<{ format: string; state: RecordingState }>>();
  for (const state of recordingStates) {
    for (const format of (await directoryNames(join(shareRoot, tenant, state))).filter(isFormatName)) {
      for (const recordId of (await directoryNames(join(shareRoot, tenant, state, format))).filter(isRecordId)) {
        const formats = byId.get(recordId) ?? [];
        formats.push({ format, state });
        byId.set(recordId, formats);
      }
    }
  }
  return [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([recordId, formats]) => ({ tenant, recordId, formats }));
}

/** One recording of a tenant on the share, `undefined` when no format of it is there. */
export async function findShareRecording(shareRoot: string, tenant: string, recordId: string): Promise<ShareRecording | undefined> {
  if (!isRecordId(recordId)) return undefined;
  const formats: Array<{ format: string; state: RecordingState }> = [];
  for (const state of recordingStates) {
    for (const format of (await directoryNames(join(shareRoot, tenant, state))).filter(isFormatName)) {
      if ((await directoryNames(join(shareRoot, tenant, state, format))).includes(recordId)) formats.push({ format, state });
    }
  }
  return formats.length === 0 ? undefined : { tenant, recordId, formats };
}

/** What the share holds of a recording, read: each format's document, and a fingerprint of all it was read from. */
export interface ShareRecordingContent {
  readonly state: RecordingState;
  readonly documents: readonly RecordingDocument[];
  /** sha256 over each format's state, name and metadata.xml: equal fingerprints, equal index entries. */
  readonly fingerprint: string;
}

/** A recording's formats by name, then state: the order both its fingerprint and its files' signature are taken in. */
const sortedFormats = (recording: ShareRecording): ShareRecording["formats"] =>
  [...recording.formats].sort((a, b) => (a.format < b.format ? -1 : a.format > b.format ? 1 : a.state < b.state ? -1 : 1));

/**
 * What identifies a recording's metadata.xml files without reading them: each one's state, format, inode, size
 * and modification and change times. Every change of the share renames (a new inode, a new change time), so equal
 * signatures mean the files an index entry was read from; `undefined` when one of them cannot be stat'ed.
 */
export async function shareFilesSignature(shareRoot: string, recording: ShareRecording): Promise<string | undefined> {
  const parts: string[] = [];
  for (const { format, state } of sortedFormats(recording)) {
    const file = join(formatDirectory(shareRoot, recording.tenant, state, format, recording.recordId), metadataFile);
    const info = await stat(file, { bigint: true }).catch(() => undefined);
    if (info === undefined) return undefined;
    parts.push(`${state}/${format}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`);
  }
  return parts.join(" ");
}

/** Reads a recording's metadata.xml files; a format whose state differs from the first one's wins no vote: the first (by name) decides. */
export async function readShareRecording(shareRoot: string, recording: ShareRecording): Promise<ShareRecordingContent> {
  const formats = sortedFormats(recording);
  const hash = createHash("sha256");
  const documents: RecordingDocument[] = [];
  for (const { format, state } of formats) {
    const xml = await readFile(join(formatDirectory(shareRoot, recording.tenant, state, format, recording.recordId), metadataFile), "utf8");
    hash.update(`${state}\n${format}\n${xml.length}\n${xml}`);
    documents.push(parseMetadataXml(xml));
  }
  const first = formats[0];
  if (first === undefined) throw new Error(`recording ${recording.recordId} has no format`);
  return { state: first.state, documents, fingerprint: hash.digest("hex") };
}

const temporaryName = (base: string): string => `${base}.${randomBytes(6).toString("hex")}.tmp`;

/** Replaces a file by a rename, so readers see the old content or the new, never a part. */
export async function replaceFile(path: string, content: string): Promise<void> {
  const temporary = temporaryName(path);
  await writeFile(temporary, content);
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Moves a format directory to another state directory (one rename). */
export async function moveFormat(shareRoot: string, tenant: string, recordId: string, format: string, from: RecordingState, to: RecordingState): Promise<void> {
  const target = formatDirectory(shareRoot, tenant, to, format, recordId);
  await mkdir(join(shareRoot, tenant, to, format), { recursive: true });
  await rename(formatDirectory(shareRoot, tenant, from, format, recordId), target);
}

/** Takes a directory out of sight at once (a rename into the trash), then removes it. */
export async function removeDirectory(shareRoot: string, path: string): Promise<void> {
  const trash = join(shareRoot, trashDirectory);
  await mkdir(trash, { recursive: true });
  const parked = join(trash, randomBytes(12).toString("hex"));
  await rename(path, parked);
  await rm(parked, { recursive: true, force: true });
}
