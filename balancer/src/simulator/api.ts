import { splitChecksum, verifyChecksum } from "../bbb/checksum.js";
import { checksumAlgorithms } from "../config/schema.js";
import { isRunning, type MeetingRecord, type PresentationSource } from "./model.js";
import { parseModulesDocuments, sortedFormQuery } from "./params.js";
import {
  createXml,
  errorListXml,
  errorXml,
  isMeetingRunningXml,
  joinedXml,
  meetingInfoXml,
  noRecordingsXml,
  successXml,
  type BbbError,
} from "./responses.js";
import { checkMeetingId, type MeetingStore } from "./store.js";
import { response } from "./xml.js";
import type { NodeWebhooks } from "./webhooks.js";
import { hookErrors } from "../webhooks/hookXml.js";

/** An API request as the node received it. */
export interface ApiRequest {
  /** The path after `/bigbluebutton/api/`, e.g. `create`. */
  readonly call: string;
  readonly method: string;
  /** The query string exactly as sent, checksum included. */
  readonly rawQuery: string;
  /** Query and form-body parameters, decoded; the query's value wins for a name in both. */
  readonly params: Readonly<Record<string, string>>;
  /** Whether some parameters came in an `application/x-www-form-urlencoded` body. */
  readonly formBody: boolean;
  readonly contentType?: string;
  readonly body?: string;
}

export type ApiAnswer =
  | { readonly kind: "xml"; readonly body: string | Buffer }
  | { readonly kind: "redirect"; readonly location: string };

/** What the API calls need from the node they run on. */
export interface ApiNode {
  readonly secret: string;
  readonly store: MeetingStore;
  /** The HTML5 client's join page, to which `?sessionToken=` is appended. */
  readonly clientJoinUrl: string;
  /** Where join errors are redirected when the request names no errorRedirectUrl/logoutURL. */
  readonly defaultLogoutUrl: string;
  /** getMeetings, rendered once per change of the store. */
  meetingsDocument(): Buffer;
  /** Ends a meeting the way `end` does: answered at once, gone shortly after, then the callbacks. */
  scheduleEnd(meetingId: string): void;
  /** Finishes off at once a meeting `end` was called for, so its ID can be created afresh. */
  settleEnded(meetingId: string): void;
  /** The node's bbb-webhooks, served under `hooks/`. */
  readonly webhooks: NodeWebhooks;
}

const xml = (body: string | Buffer): ApiAnswer => ({ kind: "xml", body });
const failed = (error: BbbError): ApiAnswer => xml(errorXml(error));

function checksumFailure(node: ApiNode, request: ApiRequest): BbbError | undefined {
  // bbb-web 2.x signed a form-only POST over its parameters sorted by name; any query checksum takes precedence.
  const signsBody = request.formBody && splitChecksum(request.rawQuery).checksum === undefined;
  const rawQuery = signsBody
    ? `${sortedFormQuery(request.params)}&checksum=${request.params["checksum"] ?? ""}`
    : request.rawQuery;
  const verdict = verifyChecksum({ callName: request.call, rawQuery, secrets: [node.secret], allowed: checksumAlgorithms });
  if (verdict.ok) return undefined;
  return { key: "checksumError", message: verdict.reason === "missing" ? "You must provide the checksum" : "Checksums do not match" };
}

function presentationsOf(request: ApiRequest, via: PresentationSource["via"]): PresentationSource[] {
  if (request.body === undefined || request.formBody) return [];
  return parseModulesDocuments(request.body, via) ?? [];
}

function create(node: ApiNode, request: ApiRequest): ApiAnswer {
  const params = withoutChecksum(request.params);
  node.settleEnded(params["meetingID"] ?? "");
  const result = node.store.create(params, presentationsOf(request, "create"), Date.now());
  if (!result.ok) return "errors" in result.error ? xml(errorListXml(result.error)) : failed(result.error);
  return xml(createXml(result.meeting, result.outcome));
}

/** `redirect` is on unless given as anything but `true` (Java's Boolean.parseBoolean). */
function redirectsBrowser(params: Readonly<Record<string, string>>): boolean {
  const redirect = params["redirect"];
  return redirect === undefined || redirect === "" || redirect.toLowerCase() === "true";
}

// java.net.URI's multi-argument constructor leaves these as they are in a query and quotes everything else.
const legalQueryChar = /[A-Za-z0-9\-_.!~*'();/?:@&=+$,[\]]/;

function quoteQuery(query: string): string {
  let quoted = "";
  for (const char of query) quoted += legalQueryChar.test(char) ? char : encodeURIComponent(char);
  return quoted;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Where bbb-web sends a browser whose join failed: errorRedirectUrl, else logoutURL, else the default logout
 * URL, with `errors=[{"key":…,"message":…}]` added to its query.
 */
export function joinErrorLocation(node: ApiNode, params: Readonly<Record<string, string>>, error: BbbError): string {
  const target = params["errorRedirectUrl"] || params["logoutURL"] || node.defaultLogoutUrl;
  const hashAt = target.indexOf("#");
  const withoutFragment = hashAt === -1 ? target : target.slice(0, hashAt);
  const fragment = hashAt === -1 ? "" : target.slice(hashAt);
  const queryAt = withoutFragment.indexOf("?");
  const path = queryAt === -1 ? withoutFragment : withoutFragment.slice(0, queryAt);
  const existing = queryAt === -1 ? undefined : safeDecode(withoutFragment.slice(queryAt + 1));
  const errors = JSON.stringify([{ key: error.key, message: error.message }]);
  const query = `${existing === undefined ? "" : `${existing}&`}errors=${errors}`;
  return `${path}?${quoteQuery(query)}${fragment}`;
}

function join(node: ApiNode, request: ApiRequest): ApiAnswer {
  const params = withoutChecksum(request.params);
  const redirect = redirectsBrowser(params);
  const result = node.store.join({ params });
  if (!result.ok) {
    return redirect && result.redirectable ? { kind: "redirect", location: joinErrorLocation(node, params, result.error) } : failed(result.error);
  }
  const clientUrl = `${node.clientJoinUrl}?sessionToken=${result.sessionToken}`;
  if (redirect) return { kind: "redirect", location: clientUrl };
  return xml(
    joinedXml({
      internalMeetingId: result.meeting.internalMeetingId,
      internalUserId: result.attendee.internalUserId,
      authToken: result.authToken,
      sessionToken: result.sessionToken,
      clientUrl,
    }),
  );
}

const meetingNotFound: BbbError = { key: "notFound", message: "A meeting with that ID does not exist" };

type CallHandler = (node: ApiNode, request: ApiRequest) => ApiAnswer;

/** A call about one meeting: its meetingID is validated first, as bbb-web's MeetingIDConstraint does. */
function aboutMeetingId(handle: (node: ApiNode, request: ApiRequest, meetingId: string) => ApiAnswer): CallHandler {
  return (node, request) => {
    const checked = checkMeetingId(request.params["meetingID"]);
    return checked.ok ? handle(node, request, checked.meetingId) : failed(checked.error);
  };
}

/** A call about one live meeting: an unknown one is `notFound`. */
function aboutMeeting(handle: (node: ApiNode, request: ApiRequest, meeting: MeetingRecord) => ApiAnswer): CallHandler {
  return aboutMeetingId((node, request, meetingId) => {
    const meeting = node.store.get(meetingId);
    return meeting === undefined ? failed(meetingNotFound) : handle(node, request, meeting);
  });
}

const isMeetingRunning = aboutMeetingId((node, _, meetingId) => xml(isMeetingRunningXml(isRunning(node.store.get(meetingId)))));

const getMeetingInfo = aboutMeeting((_, __, meeting) => xml(meetingInfoXml(meeting)));

const end = aboutMeeting((node, _, meeting) => {
  node.scheduleEnd(meeting.meetingId);
  return xml(
    successXml(
      "sentEndMeetingRequest",
      "A request to end the meeting was sent.  Please wait a few seconds, and then use the getMeetingInfo or isMeetingRunning API calls to verify that it was ended.",
    ),
  );
});

const insertDocument = aboutMeeting((node, request, meeting) => {
  const documents = request.body === undefined ? undefined : parseModulesDocuments(request.body, "insertDocument");
  if (documents === undefined || documents.length === 0) {
    return failed({ key: "validationError", message: "You must send a <modules> XML body with at least one document" });
  }
  node.store.addPresentations(meeting, documents);
  return xml(response("<returncode>SUCCESS</returncode><message>Presentation is being uploaded</message>"));
});

const sendChatMessage = aboutMeeting((_, request) => {
  const message = request.params["message"];
  if (message === undefined) return failed({ key: "validationError", message: "You must provide the param message" });
  if (message.length < 1 || message.length > 500) {
    return failed({ key: "validationError", message: "Param message must be between 1 and 500 characters" });
  }
  if ((request.params["userName"]?.length ?? 0) > 255) {
    return failed({ key: "validationError", message: "Param userName must not exceed 255 characters" });
  }
  return xml(response("<returncode>SUCCESS</returncode>"));
});

function recordingChange(request: ApiRequest, extraRequired?: { name: string; key: string; message: string }): ApiAnswer {
  if (!request.params["recordID"]) return failed({ key: "missingParamRecordID", message: "You must specify a recordID." });
  if (extraRequired !== undefined && !request.params[extraRequired.name]) return failed(extraRequired);
  return failed({ key: "notFound", message: "We could not find recordings" });
}

const calls: ReadonlyMap<string, CallHandler> = new Map<string, CallHandler>([
  ["create", create],
  ["join", join],
  ["isMeetingRunning", isMeetingRunning],
  ["getMeetingInfo", getMeetingInfo],
  ["getMeetings", (node) => xml(node.meetingsDocument())],
  ["end", end],
  ["insertDocument", insertDocument],
  ["sendChatMessage", sendChatMessage],
  ["getRecordings", () => xml(noRecordingsXml())],
  ["publishRecordings", (_, request) => recordingChange(request, { name: "publish", key: "missingParamPublish", message: "You must specify a publish value true or false." })],
  ["updateRecordings", (_, request) => recordingChange(request)],
  ["deleteRecordings", (_, request) => recordingChange(request)],
  ...["hooks/create", "hooks/list", "hooks/destroy"].map((call): [string, CallHandler] => [call, (node, request) => xml(node.webhooks.answer(call, withoutChecksum(request.params)))]),
]);

function withoutChecksum(params: Readonly<Record<string, string>>): Record<string, string> {
  const { checksum: _checksum, ...rest } = params;
  return rest;
}

/** Answers one checksum-protected API call the way bbb-web would. */
export function answerApiCall(node: ApiNode, request: ApiRequest): ApiAnswer {
  const handler = calls.get(request.call);
  if (handler === undefined) return failed({ key: "unsupportedRequest", message: "This request is not supported." });
  const checksumError = checksumFailure(node, request);
  // bbb-webhooks has its own wording, whether the checksum is missing or wrong (src/out/webhooks/api/responses.js).
  if (checksumError !== undefined && request.call.startsWith("hooks/")) return failed(hookErrors.checksumError);
  if (checksumError !== undefined) {
    return request.call === "join" && redirectsBrowser(request.params)
      ? { kind: "redirect", location: joinErrorLocation(node, request.params, checksumError) }
      : failed(checksumError);
  }
  return handler(node, request);
}
