import type { Logger } from "../observability/logger.js";
import type { RedisClient } from "../store/redisClient.js";
import { getIndexEntry, removeIndexEntry, writeIndexEntry } from "./index.js";
import { findShareRecording, readShareRecording, shareFilesSignature, type ShareRecording } from "./share.js";
import { indexedRecording } from "./tenantView.js";

/** What every recordings function needs: the index, the share, somewhere to say what happened. */
export interface RecordingsContext {
  readonly redis: RedisClient;
  readonly shareRoot: string;
  readonly logger: Logger;
}

export type ReindexOutcome = "indexed" | "unchanged" | "removed" | "absent";

/**
 * Makes the index entry of one recording what the share holds: written when the share's files differ from what
 * the entry was read from, removed when the share has no format of it left. The share is read whole first, so an
 * entry is only ever written from a complete recording. `found` is where a walk of the share saw it: used while
 * every format is still there, looked up again otherwise (a walk does not list a tenant's directories per recording).
 */
export async function reindexRecording(context: RecordingsContext, tenant: string, recordId: string, found?: ShareRecording): Promise<ReindexOutcome> {
  const [onShare, existing] = await Promise.all([locate(context.shareRoot, tenant, recordId, found), getIndexEntry(context.redis, tenant, recordId)]);
  if (onShare === undefined) {
    if (existing === undefined) return "absent";
    await removeIndexEntry(context.redis, tenant, recordId);
    return "removed";
  }
  const content = await readShareRecording(context.shareRoot, onShare.recording);
  const entry = { recording: indexedRecording(tenant, content.state, content.documents), fingerprint: content.fingerprint, shareFiles: onShare.shareFiles };
  if (existing?.fingerprint === content.fingerprint) {
    if (existing.shareFiles !== onShare.shareFiles) await writeIndexEntry(context.redis, entry);
    return "unchanged";
  }
  await writeIndexEntry(context.redis, entry);
  return "indexed";
}

/**
 * Where the recording is, with its files' signature, taken before they are read: a file replaced in between leaves
 * a signature older than the entry, which only costs a re-read. Where the walk found it holds while every one of
 * its files is still there (a publish or unpublish moves a format away).
 */
async function locate(shareRoot: string, tenant: string, recordId: string, found: ShareRecording | undefined): Promise<{ recording: ShareRecording; shareFiles: string | undefined } | undefined> {
  const foundFiles = found === undefined ? undefined : await shareFilesSignature(shareRoot, found);
  if (found !== undefined && foundFiles !== undefined) return { recording: found, shareFiles: foundFiles };
  const recording = await findShareRecording(shareRoot, tenant, recordId);
  return recording === undefined ? undefined : { recording, shareFiles: await shareFilesSignature(shareRoot, recording) };
}

/** Whether the recording's files are the very ones its index entry was read from, found without reading them. */
export async function indexedFromSameFiles(context: RecordingsContext, recording: ShareRecording): Promise<boolean> {
  const [signature, existing] = await Promise.all([shareFilesSignature(context.shareRoot, recording), getIndexEntry(context.redis, recording.tenant, recording.recordId)]);
  return signature !== undefined && existing?.shareFiles === signature;
}
