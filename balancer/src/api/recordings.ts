import { BbbError } from "../bbb/errors.js";
import { getRecordingsXml } from "../bbb/recordingsXml.js";
import { element, successXml } from "../bbb/xml.js";
import { deleteRecordings as deleteFromShare, setRecordingsPublished, updateRecordingsMetadata, type RecordingsContext } from "../recordings/changes.js";
import { getRecording, queryRecordings } from "../recordings/index.js";
import { MetadataXmlError } from "../recordings/metadataXml.js";
import { recordingStates, type RecordingQuery, type RecordingState } from "../recordings/recording.js";
import { type ApiAnswer, type ApiContext, type ApiRequest, xmlAnswer } from "./context.js";

/**
 * The recording calls, answered from the tenant's own index and share (docs/recordings.md) the way bbb-web answers
 * them (`ApiController.groovy`, `MeetingService.getRecordings2x`): every lookup is keyed by the tenant, so a record
 * ID of another tenant is as unknown as one that never existed.
 */

/** bbb-web's `ParamsProcessorUtil.decodeIds`: a comma-separated list; empty entries name nothing. */
function idList(value: string | null): string[] {
  return value === null ? [] : value.split(",").filter((id) => id !== "");
}

/** Java's `Integer.parseInt`, which bbb-web reads `offset` and `limit` with: `undefined` where it throws. */
function javaInt(value: string | null): number | undefined {
  if (value === null || !/^[+-]?\d{1,10}$/.test(value)) return undefined;
  const parsed = Number(value);
  return parsed >= -(2 ** 31) && parsed < 2 ** 31 ? parsed : undefined;
}

/**
 * `state`: bbb-web's default is published and unpublished, and `any` is every state; the share holds recordings in
 * these two only, so any other named state matches nothing.
 */
function requestedStates(value: string | null): readonly RecordingState[] | undefined {
  const named = idList(value);
  if (named.length === 0 || named.includes("any")) return undefined;
  return recordingStates.filter((state) => named.includes(state));
}

/** `meta_<name>=<value>` parameters, names lower-cased as bbb-web's `processMetaParam` stores and compares them. */
function metaParameters(params: URLSearchParams): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of params) if (/^meta_/i.test(name) && name.length > 5) meta[name.slice(5).toLowerCase()] = value;
  return meta;
}

/** `offset`/`limit` as `MeetingService.getRecordings2x` reads them: a limit in 1..100 paginates, else nothing does. */
function pagination(params: URLSearchParams): Pick<RecordingQuery, "offset" | "limit"> {
  const limit = javaInt(params.get("limit"));
  if (limit === undefined) return {};
  return { offset: Math.max(0, javaInt(params.get("offset")) ?? 0), limit: Math.min(100, Math.max(1, limit)) };
}

export async function getRecordings(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const { params } = request;
  const states = requestedStates(params.get("state"));
  const page = pagination(params);
  const query: RecordingQuery = {
    meetingIds: idList(params.get("meetingID")),
    recordIds: idList(params.get("recordID")),
    ...(states === undefined ? {} : { states }),
    meta: metaParameters(params),
    ...page,
  };
  const found = await queryRecordings(context.redis, request.tenant.slug, query);
  const playbackUrl = (recordId: string, path: string): string => context.recordings.playbackUrl(request.tenant, recordId, path);
  return xmlAnswer(getRecordingsXml(found.recordings, playbackUrl, page.limit === undefined ? undefined : found.total));
}

const errors = {
  missingRecordId: () => new BbbError("missingParamRecordID", "You must specify a recordID."),
  missingPublish: () => new BbbError("missingParamPublish", "You must specify a publish value true or false."),
  notFound: () => new BbbError("notFound", "We could not find recordings"),
  noShare: () => new BbbError("recordingsUnavailable", "Recordings cannot be changed here: this balancer has no recordings share"),
};

function requireRecordIds(params: URLSearchParams): string[] {
  const ids = idList(params.get("recordID"));
  if (ids.length === 0) throw errors.missingRecordId();
  return ids;
}

type Change = (share: RecordingsContext, tenant: string, recordIds: readonly string[]) => Promise<readonly string[]>;

/**
 * Runs one change of the tenant's recordings and answers `<key>value</key>`, or `notFound` when none was found.
 * A process without the share refuses a change only of recordings the tenant has.
 */
async function change(context: ApiContext, request: ApiRequest, run: Change, key: string, value: boolean): Promise<ApiAnswer> {
  const recordIds = requireRecordIds(request.params);
  const tenant = request.tenant.slug;
  const { shareRoot, logger } = context.recordings;
  let found: readonly string[];
  if (shareRoot === undefined) {
    const known = await Promise.all(recordIds.map((recordId) => getRecording(context.redis, tenant, recordId)));
    if (known.some((recording) => recording !== undefined)) throw errors.noShare();
    found = [];
  } else {
    found = await run({ redis: context.redis, shareRoot, logger }, tenant, recordIds);
  }
  if (found.length === 0) throw errors.notFound();
  return xmlAnswer(successXml(element(key, value)));
}

export async function publishRecordings(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  requireRecordIds(request.params);
  const publish = request.params.get("publish");
  if (publish !== "true" && publish !== "false") throw errors.missingPublish();
  return change(context, request, (share, tenant, ids) => setRecordingsPublished(share, tenant, ids, publish === "true"), "published", publish === "true");
}

export async function deleteRecordings(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  return change(context, request, deleteFromShare, "deleted", true);
}

export async function updateRecordings(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const meta = metaParameters(request.params);
  try {
    return await change(context, request, (share, tenant, ids) => updateRecordingsMetadata(share, tenant, ids, meta), "updated", true);
  } catch (error) {
    if (error instanceof MetadataXmlError) throw new BbbError("validationError", error.message);
    throw error;
  }
}
