import { verifyChecksum } from "../bbb/checksum.js";
import { BbbError, bbbErrors } from "../bbb/errors.js";
import { repeatedParameter } from "../bbb/parameterNames.js";
import type { BodyUse, RequestBody } from "../http/body.js";
import type { TenantEntry } from "../tenancy/directory.js";
import type { ApiAnswer, ApiContext, ApiRequest } from "./context.js";
import { create } from "./create.js";
import { getMeetings } from "./getMeetings.js";
import { joinErrorRedirect, joinRedirects, join } from "./join.js";
import { noPolicies } from "./parameters.js";
import { end, getMeetingInfo, insertDocument, isMeetingRunning, sendChatMessage } from "./meetingCalls.js";
import { deleteRecordings, getRecordings, publishRecordings, updateRecordings } from "./recordings.js";
import { getRecordingTextTracks, jsonFailure, putRecordingTextTrack, putTextTrackChecksumError } from "./textTracks.js";
import { hooksChecksumError, hooksCreate, hooksDestroy, hooksList } from "../webhooks/hooksApi.js";

type CallHandler = (context: ApiContext, request: ApiRequest) => ApiAnswer | Promise<ApiAnswer>;

/**
 * A call: its handler, the methods bbb-web routes to it (UrlMappings.groovy), and what it takes from a POST body:
 * a form (the parameters of a request without a query), also a `<modules>` document, or a multipart upload
 * (putRecordingTextTrack's file: its parameters stay in the signed query, which is all its checksum covers).
 */
interface Call {
  readonly handler: CallHandler;
  readonly methods: readonly string[];
  readonly body: BodyUse;
  /** The error of a checksum that is missing or does not verify, where the call words it otherwise than create. */
  readonly checksumError?: (reason: "missing" | "mismatch") => BbbError;
  /** Refusals are in the call's JSON (`{"response": {...}}`), not BBB's XML. */
  readonly refusesInJson?: true;
}

const getOrPost = ["GET", "POST"];
const getOnly = ["GET"];
const postOnly = ["POST"];

const calls: ReadonlyMap<string, Call> = new Map<string, Call>([
  ["create", { handler: create, methods: getOrPost, body: "formOrModules" }],
  ["join", { handler: join, methods: getOnly, body: "form" }],
  ["end", { handler: end, methods: getOrPost, body: "form" }],
  ["isMeetingRunning", { handler: isMeetingRunning, methods: getOrPost, body: "form" }],
  ["getMeetingInfo", { handler: getMeetingInfo, methods: getOrPost, body: "form" }],
  ["getMeetings", { handler: getMeetings, methods: getOrPost, body: "form" }],
  ["insertDocument", { handler: insertDocument, methods: postOnly, body: "formOrModules" }],
  ["sendChatMessage", { handler: sendChatMessage, methods: getOnly, body: "form" }],
  ["getRecordings", { handler: getRecordings, methods: getOrPost, body: "form" }],
  ["publishRecordings", { handler: publishRecordings, methods: getOnly, body: "form" }],
  ["deleteRecordings", { handler: deleteRecordings, methods: getOnly, body: "form" }],
  ["updateRecordings", { handler: updateRecordings, methods: getOrPost, body: "form" }],
  ["getRecordingTextTracks", { handler: getRecordingTextTracks, methods: getOrPost, body: "form" }],
  ["putRecordingTextTrack", { handler: putRecordingTextTrack, methods: postOnly, body: "multipart", checksumError: putTextTrackChecksumError, refusesInJson: true }],
  ["hooks/create", { handler: hooksCreate, methods: getOnly, body: "form", checksumError: hooksChecksumError }],
  ["hooks/list", { handler: hooksList, methods: getOnly, body: "form", checksumError: hooksChecksumError }],
  ["hooks/destroy", { handler: hooksDestroy, methods: getOnly, body: "form", checksumError: hooksChecksumError }],
]);

/** The call name metrics and logs use: unknown calls are one label, so a scanner cannot grow the label set. */
export function callLabel(call: string): string {
  return calls.has(call) ? call : "unsupported";
}

/** An API request as it arrived, before anything is verified or any of its body read. */
export interface IncomingCall {
  readonly tenant: TenantEntry | undefined;
  readonly call: string;
  readonly method: string;
  readonly rawQuery: string;
  /** Reads the POST body as the call takes it (`http/body.ts`); called at most once, and only when needed. */
  readonly readBody: (use: BodyUse) => Promise<RequestBody>;
}

/** What a verified request's parameters came from: the signed query, or a signed form sent without a query. */
interface SignedParameters {
  readonly params: URLSearchParams;
  /** The same parameters as a query string, for the node (`ApiRequest.query`). */
  readonly query: string;
  readonly secretIndex: number;
  readonly body?: RequestBody & { kind: "modules" };
  readonly upload?: FormData;
}

function checked(verdict: ReturnType<typeof verifyChecksum>, call: Call): number {
  if (!verdict.ok) throw call.checksumError?.(verdict.reason) ?? (verdict.reason === "missing" ? bbbErrors.checksumMissing() : bbbErrors.checksumMismatch());
  return verdict.secretIndex;
}

/**
 * Parameters come from exactly one place, and only signed ones reach a node. A request with a query is verified
 * on it before a byte of its body is read, and a POST form adding parameters to it is refused (the checksum does
 * not cover them); its body can only be a create's or insertDocument's `<modules>` document. A POST without a
 * query is signed over its form's parameters sorted by name (bbb-web 2.x), so that form is read (small) first.
 * A multipart upload's parameters are its query's, as bbb-web verifies them; the body gives only the upload.
 */
async function signedParameters(context: ApiContext, tenant: TenantEntry, incoming: IncomingCall, call: Call): Promise<SignedParameters> {
  const verify = (rawQuery: string): number =>
    checked(verifyChecksum({ callName: incoming.call, rawQuery, secrets: tenant.secrets, allowed: context.directory.allowedChecksums }), call);
  const posted = incoming.method === "POST";
  if (call.body === "multipart") {
    const secretIndex = verify(incoming.rawQuery);
    const body = posted ? await incoming.readBody("multipart") : { kind: "none" as const };
    return { params: new URLSearchParams(incoming.rawQuery), query: incoming.rawQuery, secretIndex, ...(body.kind === "multipart" ? { upload: body.form } : {}) };
  }
  if (incoming.rawQuery !== "" || !posted) {
    const secretIndex = verify(incoming.rawQuery);
    const body = posted ? await incoming.readBody(call.body) : { kind: "none" as const };
    if (body.kind === "form" && body.params.size > 0) throw bbbErrors.unsignedForm();
    const params = new URLSearchParams(incoming.rawQuery);
    return { params, query: incoming.rawQuery, secretIndex, ...(body.kind === "modules" ? { body } : {}) };
  }
  const body = await incoming.readBody("form");
  const params = body.kind === "form" ? body.params : new URLSearchParams();
  const sorted = new URLSearchParams([...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))).toString();
  const secretIndex = verify(sorted);
  return { params, query: params.toString(), secretIndex };
}

async function verified(context: ApiContext, incoming: IncomingCall, call: Call): Promise<ApiAnswer> {
  const tenant = incoming.tenant;
  // An unknown tenant has no secret that could match: the client sees what a wrong secret gets.
  if (tenant === undefined) throw call.checksumError?.("mismatch") ?? bbbErrors.checksumMismatch();
  const signed = await signedParameters(context, tenant, incoming, call);
  // The node and the balancer could read different values of a parameter given twice: refused, as one.
  const repeated = repeatedParameter(signed.params);
  if (repeated !== undefined) throw bbbErrors.repeatedParameter(repeated);
  return call.handler(context, {
    tenant,
    secretIndex: signed.secretIndex,
    call: incoming.call,
    params: signed.params,
    query: signed.query,
    body: signed.body?.body,
    upload: signed.upload,
  });
}

/**
 * Answers one API call; every failure is a `BbbError`, and a failed redirecting join redirects as bbb-web does.
 * An unknown call, a method the call does not take, an unknown tenant and a query that does not verify are
 * refused before the request's body is read.
 */
export async function dispatch(context: ApiContext, incoming: IncomingCall): Promise<ApiAnswer> {
  const call = calls.get(incoming.call);
  if (call === undefined) throw bbbErrors.unsupported();
  if (!call.methods.includes(incoming.method)) throw bbbErrors.methodNotAccepted(incoming.call, incoming.method, call.methods);
  try {
    return await verified(context, incoming, call);
  } catch (error) {
    if (call.refusesInJson === true && error instanceof BbbError) return jsonFailure(error.messageKey, error.message);
    if (incoming.call !== "join" || !(error instanceof BbbError)) throw error;
    const params = new URLSearchParams(incoming.rawQuery);
    const policies = incoming.tenant?.policies.join ?? noPolicies;
    const location = joinRedirects(params, policies) ? joinErrorRedirect(params, policies, error) : undefined;
    if (location === undefined) throw error;
    return { kind: "redirect", location, error: error.messageKey };
  }
}
