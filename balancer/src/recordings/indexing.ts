import type { Logger } from "../observability/logger.js";
import type { RedisClient } from "../store/redisClient.js";
import { getIndexEntry, removeIndexEntry, writeIndexEntry } from "./index.js";
import { findShareRecording, readShareRecording } from "./share.js";
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
 * entry is only ever written from a complete recording.
 */
export async function reindexRecording(context: RecordingsContext, tenant: string, recordId: string): Promise<ReindexOutcome> {
  const [onShare, existing] = await Promise.all([findShareRecording(context.shareRoot, tenant, recordId), getIndexEntry(context.redis, tenant, recordId)]);
  if (onShare === undefined) {
    if (existing === undefined) return "absent";
    await removeIndexEntry(context.redis, tenant, recordId);
    return "removed";
  }
  const content = await readShareRecording(context.shareRoot, onShare);
  if (existing?.fingerprint === content.fingerprint) return "unchanged";
  await writeIndexEntry(context.redis, { recording: indexedRecording(tenant, content.state, content.documents), fingerprint: content.fingerprint });
  return "indexed";
}
