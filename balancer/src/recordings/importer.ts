import { randomBytes } from "node:crypto";
import { keys } from "../store/keys.js";
import { LuaScript } from "../store/script.js";
import { deleteRecordings } from "./changes.js";
import { getRecording, indexedRecordIds } from "./index.js";
import { indexedFromSameFiles, reindexRecording, type RecordingsContext, type ReindexOutcome } from "./indexing.js";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { removeDirectory, shareTenants, stagingDirectory, tenantShareRecordings, trashDirectory, type ShareRecording } from "./share.js";

/**
 * The importer: walks the share and brings each tenant's index in line with it (new recordings indexed, changed
 * ones re-read, vanished ones dropped), then applies the tenant's retention. Any number run at once: each
 * recording is worked on under a claim (`SET NX` with expiry) and re-checked against the index under it, so a
 * recording is imported once however the importers race.
 */

/** Long enough for one recording's metadata.xml files to be read; a dead importer's claim lapses after it. */
const claimMs = 60_000;
const dayMs = 86_400_000;
/** An upload nobody added to for this long was abandoned (the hook gave up, the node died): its staging goes. */
export const abandonedUploadMs = dayMs;

/** KEYS: the claim. ARGV: the holder's token. Deletes the claim only if this holder still has it. */
const releaseClaim = new LuaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`);

/** Runs `work` under the recording's claim; `undefined` when another importer holds it. */
export async function withRecordingClaim<T>(context: RecordingsContext, tenant: string, recordId: string, work: () => Promise<T>): Promise<T | undefined> {
  const key = keys.recordingImport(tenant, recordId);
  const token = randomBytes(12).toString("hex");
  if ((await context.redis.set(key, token, "PX", claimMs, "NX")) !== "OK") return undefined;
  try {
    return await work();
  } finally {
    await releaseClaim.run(context.redis, [key], [token]);
  }
}

export interface ImportSettings {
  /** Tenants of the config: a directory on the share of any other tenant is left alone (and reported). */
  readonly tenants: ReadonlySet<string>;
  /** Days a tenant keeps a recording after it ended; `undefined` keeps it. */
  readonly retentionDays: (tenant: string) => number | undefined;
  readonly now: () => number;
}

export interface ImportReport {
  /** `<tenant>/<recordID>` of what this pass indexed, re-indexed or dropped from the index. */
  readonly indexed: string[];
  readonly removed: string[];
  /** Retention deletions. */
  readonly expired: string[];
  /** Recordings that could not be indexed, with why (logged, retried on the next pass). */
  readonly failed: Array<{ readonly recording: string; readonly error: string }>;
  /** Held by another importer during this pass. */
  skipped: number;
  /** Whose files are the ones their index entry was read from: not claimed, not read. */
  unchangedFiles: number;
  /** Abandoned uploads removed from the staging area. */
  abandonedUploads: number;
}

async function syncRecording(context: RecordingsContext, tenant: string, recordId: string, report: ImportReport, found?: ShareRecording): Promise<void> {
  const name = `${tenant}/${recordId}`;
  let outcome: ReindexOutcome | undefined;
  try {
    outcome = await withRecordingClaim(context, tenant, recordId, () => reindexRecording(context, tenant, recordId, found));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    report.failed.push({ recording: name, error: message });
    context.logger.warn({ tenant, recordId, err: message }, "recording not indexed");
    return;
  }
  if (outcome === undefined) report.skipped += 1;
  else if (outcome === "indexed") {
    report.indexed.push(name);
    context.logger.info({ tenant, recordId }, "recording indexed");
  } else if (outcome === "removed") {
    report.removed.push(name);
    context.logger.info({ tenant, recordId }, "recording gone from the share: dropped from the index");
  }
}

/** Deletes the tenant's recordings that ended more than `days` ago, each under its claim. */
async function applyRetention(context: RecordingsContext, tenant: string, days: number, now: number, report: ImportReport): Promise<void> {
  const cutoff = now - days * dayMs;
  // Start times order the index and no recording ends before it starts: those that started after the cutoff are kept.
  const candidates = await context.redis.zrangebyscore(keys.recordingsByStart(tenant), "-inf", String(cutoff));
  for (const recordId of candidates) {
    const recording = await getRecording(context.redis, tenant, recordId);
    if (recording === undefined || recording.endTime > cutoff) continue;
    const deleted = await withRecordingClaim(context, tenant, recordId, () => deleteRecordings(context, tenant, [recordId]));
    if (deleted !== undefined && deleted.length > 0) {
      report.expired.push(`${tenant}/${recordId}`);
      context.logger.info({ tenant, recordId, endTime: recording.endTime, retentionDays: days }, "recording deleted: past the tenant's retention");
    }
  }
}

/** One pass over the whole share. */
export async function importShare(context: RecordingsContext, settings: ImportSettings): Promise<ImportReport> {
  const report: ImportReport = { indexed: [], removed: [], expired: [], failed: [], skipped: 0, unchangedFiles: 0, abandonedUploads: 0 };
  const onShare = await shareTenants(context.shareRoot);
  for (const tenant of onShare.filter((slug) => !settings.tenants.has(slug))) context.logger.warn({ tenant }, "share directory of a tenant not in the config: not indexed");
  for (const tenant of [...settings.tenants].sort()) {
    const recordings = onShare.includes(tenant) ? await tenantShareRecordings(context.shareRoot, tenant) : [];
    const seen = new Set(recordings.map((recording) => recording.recordId));
    for (const recording of recordings) {
      // A failed check is no answer: the recording is synced, and a Redis that fails there is reported with it.
      if (await indexedFromSameFiles(context, recording).catch(() => false)) report.unchangedFiles += 1;
      else await syncRecording(context, tenant, recording.recordId, report, recording);
    }
    for (const recordId of await indexedRecordIds(context.redis, tenant)) if (!seen.has(recordId)) await syncRecording(context, tenant, recordId, report);
    const days = settings.retentionDays(tenant);
    if (days !== undefined) await applyRetention(context, tenant, days, settings.now(), report);
  }
  report.abandonedUploads = await removeAbandonedUploads(context, settings.now());
  return report;
}

const subdirectories = async (path: string): Promise<string[]> =>
  (await readdir(path, { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory()).map((entry) => join(path, entry.name));

/**
 * Staged uploads (`.staging/<node>/<format>/<recordID>`) untouched for `abandonedUploadMs` are removed, and
 * whatever a crash left in the trash. Another importer doing the same at once is no error.
 */
async function removeAbandonedUploads(context: RecordingsContext, now: number): Promise<number> {
  let removed = 0;
  for (const node of await subdirectories(join(context.shareRoot, stagingDirectory))) {
    for (const format of await subdirectories(node)) {
      for (const upload of await subdirectories(format)) {
        const modified = await stat(upload).then((info) => info.mtimeMs, () => now);
        if (now - modified < abandonedUploadMs) continue;
        try {
          await removeDirectory(context.shareRoot, upload);
          removed += 1;
          context.logger.info({ upload: upload.slice(context.shareRoot.length) }, "abandoned recording upload removed");
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
      }
    }
  }
  for (const parked of await subdirectories(join(context.shareRoot, trashDirectory))) await rm(parked, { recursive: true, force: true });
  return removed;
}

/**
 * Re-indexes the whole share, as into an empty Redis (the `recordings-rebuild` command): what the share holds is
 * indexed, index entries of recordings the share lacks are dropped, and nothing is deleted for retention.
 */
export async function rebuildIndex(context: RecordingsContext, tenants: ReadonlySet<string>): Promise<ImportReport> {
  return importShare(context, { tenants, retentionDays: () => undefined, now: Date.now });
}
