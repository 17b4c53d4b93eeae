import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { internalMetadataPrefix } from "../bbb/meetingXml.js";
import { reindexRecording, type RecordingsContext } from "./indexing.js";
import { isMetadataName, MetadataXmlError, parseMetadataXml, withMeta, withState } from "./metadataXml.js";
import type { RecordingState } from "./recording.js";
import { findShareRecording, formatDirectory, metadataFile, moveFormat, removeDirectory, replaceFile, type ShareRecording } from "./share.js";

/**
 * The recording API's changes, on the share first and then in the index (by re-reading the share, the same way
 * the importer and the rebuild do, so the three cannot disagree). Each is idempotent; a crash between the share
 * and the index leaves the share right and the importer's next scan brings the index along.
 */

export type { RecordingsContext } from "./indexing.js";

/** Meta keys a tenant cannot change: the balancer's own, and those the tenant's view derives from the node's. */
function isBalancerKey(name: string): boolean {
  return name.startsWith(internalMetadataPrefix) || name === "endcallbackurl" || name === "meetingId";
}

async function eachFound(
  context: RecordingsContext,
  tenant: string,
  recordIds: readonly string[],
  change: (recording: ShareRecording) => Promise<void>,
): Promise<string[]> {
  const found: string[] = [];
  for (const recordId of new Set(recordIds)) {
    const recording = await findShareRecording(context.shareRoot, tenant, recordId);
    if (recording === undefined) continue;
    await change(recording);
    await reindexRecording(context, tenant, recordId);
    found.push(recordId);
  }
  return found;
}

const metadataPath = (shareRoot: string, recording: ShareRecording, format: string, state: RecordingState): string =>
  join(formatDirectory(shareRoot, recording.tenant, state, format, recording.recordId), metadataFile);

/** publishRecordings: each format's metadata.xml says the new state, then its directory moves to that state's. */
export async function setRecordingsPublished(context: RecordingsContext, tenant: string, recordIds: readonly string[], publish: boolean): Promise<readonly string[]> {
  const target: RecordingState = publish ? "published" : "unpublished";
  const found = await eachFound(context, tenant, recordIds, async (recording) => {
    for (const { format, state } of recording.formats) {
      const path = metadataPath(context.shareRoot, recording, format, state);
      const document = parseMetadataXml(await readFile(path, "utf8"));
      if (document.published !== publish || document.state !== target) await replaceFile(path, withState(await readFile(path, "utf8"), publish));
      if (state !== target) await moveFormat(context.shareRoot, tenant, recording.recordId, format, state, target);
    }
  });
  if (found.length > 0) context.logger.info({ tenant, recordIds: found, state: target }, "recordings' state changed");
  return found;
}

/** deleteRecordings: every format directory leaves the share (renamed away, then removed), then the index entry. */
export async function deleteRecordings(context: RecordingsContext, tenant: string, recordIds: readonly string[]): Promise<readonly string[]> {
  const found = await eachFound(context, tenant, recordIds, async (recording) => {
    for (const { format, state } of recording.formats) await removeDirectory(context.shareRoot, formatDirectory(context.shareRoot, tenant, state, format, recording.recordId));
  });
  if (found.length > 0) context.logger.info({ tenant, recordIds: found }, "recordings deleted");
  return found;
}

/**
 * updateRecordings: `meta` holds lower-case names without `meta_`; an empty value removes the name (bbb-web).
 * Names the balancer keeps for itself are left as they are. A name XML cannot carry is refused before anything
 * changes (`MetadataXmlError`).
 */
export async function updateRecordingsMetadata(
  context: RecordingsContext,
  tenant: string,
  recordIds: readonly string[],
  meta: Readonly<Record<string, string>>,
): Promise<readonly string[]> {
  const changes = Object.entries(meta).filter(([name]) => !isBalancerKey(name));
  for (const [name] of changes) if (!isMetadataName(name)) throw new MetadataXmlError(`meta_${name}: not a name a recording's metadata can hold`);
  const found = await eachFound(context, tenant, recordIds, async (recording) => {
    for (const { format, state } of recording.formats) {
      const path = metadataPath(context.shareRoot, recording, format, state);
      const xml = await readFile(path, "utf8");
      const entries = new Map(parseMetadataXml(xml).meta);
      for (const [name, value] of changes) {
        if (value === "") entries.delete(name);
        else entries.set(name, value);
      }
      await replaceFile(path, withMeta(xml, [...entries]));
    }
  });
  if (found.length > 0) context.logger.info({ tenant, recordIds: found, names: changes.map(([name]) => name) }, "recordings' metadata updated");
  return found;
}
