import { verifyChecksum } from "../bbb/checksum.js";
import { BbbError, bbbErrors } from "../bbb/errors.js";
import type { NodeRequestBody } from "../nodes/client.js";
import type { TenantEntry } from "../tenancy/directory.js";
import type { ApiAnswer, ApiContext, ApiRequest } from "./context.js";
import { create } from "./create.js";
import { getMeetings } from "./getMeetings.js";
import { joinErrorRedirect, joinRedirects, join } from "./join.js";
import { noPolicies } from "./parameters.js";
import { end, getMeetingInfo, insertDocument, isMeetingRunning, sendChatMessage } from "./meetingCalls.js";
import { changeRecordings, getRecordings, recordingTextTracks } from "./recordings.js";

type CallHandler = (context: ApiContext, request: ApiRequest) => ApiAnswer | Promise<ApiAnswer>;

const handlers: ReadonlyMap<string, CallHandler> = new Map<string, CallHandler>([
  ["create", create],
  ["join", join],
  ["end", end],
  ["isMeetingRunning", isMeetingRunning],
  ["getMeetingInfo", getMeetingInfo],
  ["getMeetings", getMeetings],
  ["insertDocument", insertDocument],
  ["sendChatMessage", sendChatMessage],
  ["getRecordings", getRecordings],
  ["publishRecordings", changeRecordings],
  ["deleteRecordings", changeRecordings],
  ["updateRecordings", changeRecordings],
  ["getRecordingTextTracks", recordingTextTracks],
  ["putRecordingTextTrack", recordingTextTracks],
]);

/** The call name metrics and logs use: unknown calls are one label, so a scanner cannot grow the label set. */
export function callLabel(call: string): string {
  return handlers.has(call) ? call : "unsupported";
}

/** An API request as it arrived, before anything is verified. */
export interface IncomingCall {
  tenant: TenantEntry | undefined;
  call: string;
  rawQuery: string;
  /** Form parameters of a POST (merged into the call's parameters, as bbb-web does). */
  form?: URLSearchParams | undefined;
  /** An XML body, passed to the node as it is. */
  xmlBody?: NodeRequestBody | undefined;
  /** The balancer's origin as the client reached it (`requestOrigin`); `undefined` for a garbled Host. */
  origin: () => string | undefined;
}

/**
 * The string a checksum covers: the raw query when there is one; for a POST carrying its parameters in a form
 * body only, those parameters sorted by name and form-encoded (bbb-web 2.x).
 */
function checksumInput(incoming: IncomingCall): string {
  if (incoming.rawQuery !== "" || incoming.form === undefined) return incoming.rawQuery;
  const sorted = [...incoming.form].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(sorted).toString();
}

function verified(context: ApiContext, incoming: IncomingCall, handler: CallHandler): Promise<ApiAnswer> | ApiAnswer {
  const tenant = incoming.tenant;
  // An unknown tenant has no secret that could match: the client sees what a wrong secret gets.
  if (tenant === undefined) throw bbbErrors.checksumMismatch();
  const verdict = verifyChecksum({
    callName: incoming.call,
    rawQuery: checksumInput(incoming),
    secrets: tenant.secrets,
    allowed: context.directory.allowedChecksums,
  });
  if (!verdict.ok) throw verdict.reason === "missing" ? bbbErrors.checksumMissing() : bbbErrors.checksumMismatch();
  const params = new URLSearchParams(incoming.rawQuery);
  for (const [name, value] of incoming.form ?? []) params.append(name, value);
  const query = incoming.form === undefined ? incoming.rawQuery : params.toString();
  return handler(context, { tenant, secretIndex: verdict.secretIndex, call: incoming.call, params, query, body: incoming.xmlBody, origin: incoming.origin });
}

/** Answers one API call; every failure is a `BbbError`, and a failed redirecting join redirects as bbb-web does. */
export async function dispatch(context: ApiContext, incoming: IncomingCall): Promise<ApiAnswer> {
  const handler = handlers.get(incoming.call);
  if (handler === undefined) throw bbbErrors.unsupported();
  try {
    return await verified(context, incoming, handler);
  } catch (error) {
    if (incoming.call !== "join" || !(error instanceof BbbError)) throw error;
    const params = new URLSearchParams(incoming.rawQuery);
    const policies = incoming.tenant?.policies.join ?? noPolicies;
    const location = joinRedirects(params, policies) ? joinErrorRedirect(params, policies, error) : undefined;
    if (location === undefined) throw error;
    return { kind: "redirect", location };
  }
}
