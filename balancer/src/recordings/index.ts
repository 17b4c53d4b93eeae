import { hashMeetingId } from "../tenancy/nodeMeetingId.js";
import { keys } from "../store/keys.js";
import type { RedisClient } from "../store/redisClient.js";
import { recordingStates, type IndexedRecording, type RecordingPage, type RecordingQuery, type RecordingState } from "./recording.js";

/**
 * A tenant's recordings in Redis: every key of a tenant's index shares the `{r:<tenant>}` hash tag, so one MULTI
 * writes or removes a recording whole; the record ID's owner (`recordingTenants`) is written after it.
 */

export interface IndexEntry {
  readonly recording: IndexedRecording;
  /** What of the share the entry was read from (`ShareRecordingContent.fingerprint`). */
  readonly fingerprint: string;
  /** The signature of the files it was read from, taken before reading them (`shareFilesSignature`); absent in entries older than it. */
  readonly shareFiles?: string | undefined;
}

function parseEntry(json: string | null): IndexEntry | undefined {
  return json === null ? undefined : (JSON.parse(json) as IndexEntry);
}

export async function getIndexEntry(redis: RedisClient, tenant: string, recordId: string): Promise<IndexEntry | undefined> {
  return parseEntry(await redis.get(keys.recording(tenant, recordId)));
}

export async function getRecording(redis: RedisClient, tenant: string, recordId: string): Promise<IndexedRecording | undefined> {
  return (await getIndexEntry(redis, tenant, recordId))?.recording;
}

/** For playback paths that carry only a record ID: which tenant owns it. */
export async function recordingTenant(redis: RedisClient, recordId: string): Promise<string | undefined> {
  return (await redis.hget(keys.recordingTenants(), recordId)) ?? undefined;
}

export async function writeIndexEntry(redis: RedisClient, entry: IndexEntry): Promise<void> {
  const { recording } = entry;
  const { tenant, recordId } = recording;
  const transaction = redis
    .multi()
    .set(keys.recording(tenant, recordId), JSON.stringify(entry))
    .zadd(keys.recordingsByStart(tenant), recording.startTime, recordId)
    .zadd(keys.recordIds(tenant), 0, recordId)
    .sadd(keys.meetingRecordings(tenant, hashMeetingId(recording.meetingId)), recordId);
  for (const state of recordingStates) {
    if (state === recording.state) transaction.zadd(keys.recordingsByStart(tenant, state), recording.startTime, recordId);
    else transaction.zrem(keys.recordingsByStart(tenant, state), recordId);
  }
  await transaction.exec();
  await redis.hset(keys.recordingTenants(), recordId, tenant);
}

export async function removeIndexEntry(redis: RedisClient, tenant: string, recordId: string): Promise<void> {
  const entry = await getIndexEntry(redis, tenant, recordId);
  const transaction = redis
    .multi()
    .del(keys.recording(tenant, recordId))
    .zrem(keys.recordingsByStart(tenant), recordId)
    .zrem(keys.recordIds(tenant), recordId);
  for (const state of recordingStates) transaction.zrem(keys.recordingsByStart(tenant, state), recordId);
  if (entry !== undefined) transaction.srem(keys.meetingRecordings(tenant, hashMeetingId(entry.recording.meetingId)), recordId);
  await transaction.exec();
  await redis.hdel(keys.recordingTenants(), recordId);
}

/** Every record ID of a tenant's index, in getRecordings order. */
export async function indexedRecordIds(redis: RedisClient, tenant: string): Promise<string[]> {
  return redis.zrange(keys.recordingsByStart(tenant), "0", "-1");
}

/** The last byte a prefix range may reach: `[prefix` .. `[prefix\xff` holds every member starting with it. */
const lexUpperBound = (prefix: string): string => `[${prefix}\u00ff`;

async function candidateIds(redis: RedisClient, tenant: string, query: RecordingQuery): Promise<string[] | undefined> {
  const recordIds = query.recordIds ?? [];
  if (recordIds.length > 0) {
    const found = await Promise.all(recordIds.filter((id) => id !== "").map((prefix) => redis.zrangebylex(keys.recordIds(tenant), `[${prefix}`, lexUpperBound(prefix))));
    return [...new Set(found.flat())];
  }
  const meetingIds = query.meetingIds ?? [];
  if (meetingIds.length > 0) {
    const found = await Promise.all(meetingIds.map((meetingId) => redis.smembers(keys.meetingRecordings(tenant, hashMeetingId(meetingId)))));
    return [...new Set(found.flat())];
  }
  return undefined;
}

async function loadRecordings(redis: RedisClient, tenant: string, recordIds: readonly string[]): Promise<IndexedRecording[]> {
  if (recordIds.length === 0) return [];
  const values = await redis.mget(...recordIds.map((id) => keys.recording(tenant, id)));
  return values.map(parseEntry).flatMap((entry) => (entry === undefined ? [] : [entry.recording]));
}

const byStartThenId = (a: IndexedRecording, b: IndexedRecording): number =>
  a.startTime - b.startTime || (a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0);

function matches(recording: IndexedRecording, states: ReadonlySet<RecordingState>, meta: ReadonlyArray<readonly [string, string]>): boolean {
  return states.has(recording.state) && meta.every(([name, value]) => recording.metadata[name] === value);
}

function page(recordings: readonly IndexedRecording[], offset: number, limit: number | undefined): IndexedRecording[] {
  return recordings.slice(offset, limit === undefined ? undefined : offset + limit);
}

/**
 * One tenant's recordings matching a getRecordings query, never another tenant's: every key read carries the
 * tenant. Without record or meeting IDs or metadata filters, the page is read straight off the ordered set.
 */
export async function queryRecordings(redis: RedisClient, tenant: string, query: RecordingQuery): Promise<RecordingPage> {
  const states = new Set<RecordingState>(query.states ?? recordingStates);
  const meta = Object.entries(query.meta ?? {});
  const offset = Math.max(0, query.offset ?? 0);
  const candidates = await candidateIds(redis, tenant, query);
  if (candidates === undefined && meta.length === 0) {
    const key = states.size === 1 ? keys.recordingsByStart(tenant, [...states][0]) : keys.recordingsByStart(tenant);
    if (states.size === 0) return { recordings: [], total: 0 };
    const stop = query.limit === undefined ? -1 : offset + query.limit - 1;
    const [total, ids] = await Promise.all([redis.zcard(key), query.limit === 0 ? Promise.resolve([]) : redis.zrange(key, String(offset), String(stop))]);
    return { recordings: (await loadRecordings(redis, tenant, ids)).sort(byStartThenId), total };
  }
  const recordings = (await loadRecordings(redis, tenant, candidates ?? (await indexedRecordIds(redis, tenant))))
    .filter((recording) => matches(recording, states, meta))
    .sort(byStartThenId);
  return { recordings: page(recordings, offset, query.limit), total: recordings.length };
}
