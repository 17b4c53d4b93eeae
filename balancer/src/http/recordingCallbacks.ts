import { jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { Logger } from "../observability/logger.js";
import { recordIdMatchesMeeting } from "../recordings/tenantView.js";
import type { Directory, TenantEntry } from "../tenancy/directory.js";
import { tenantViewOfCallbackUrl } from "../tenancy/endCallback.js";
import { nodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { verifyRecordingCallback, type RecordingCallbackKind, type RecordingCallbackTarget } from "../tenancy/recordingCallbacks.js";
import type { CallbackDeliveries } from "./delivery.js";

/**
 * A node's recording-ready or analytics callback, re-sent to the tenant. The node's request is believed only when
 * its URL is one the balancer signed and its JWT verifies with that node's own secret for that meeting; the tenant's
 * request is signed with the tenant's secret and carries the tenant's meeting ID, the way BBB itself sends them:
 * - recording ready (`post_publish_recording_ready_callback.rb`): POST form `signed_parameters=<JWT>`, HS256,
 *   claims `meeting_id` (the external meeting ID) and `record_id`;
 * - analytics (`post_events_analytics_callback.rb`): POST JSON `{version, meeting_id, internal_meeting_id, data}`,
 *   `Authorization: Bearer <JWT>`, HS512, claim `exp` (24 hours).
 */

export interface RecordingCallbackDeps {
  readonly directory: Directory;
  /** The callback key the balancer's callback URLs are signed with. */
  readonly key: string;
  readonly deliveries: CallbackDeliveries;
  readonly logger: Logger;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /**
   * Brings one recording of the share into the index, where this process has the share: a tenant that asks for
   * its recording as soon as it hears it is ready finds it, without waiting for the importer's next pass.
   */
  readonly reindex?: ((tenant: string, recordId: string) => Promise<unknown>) | undefined;
}

export interface CallbackRequest {
  readonly authorization: string | undefined;
  readonly body: Buffer;
}

/** HMAC algorithms only: a token signed any other way (or `none`) never verifies. */
const hmacAlgorithms = ["HS256", "HS384", "HS512"];
const analyticsTokenSeconds = 24 * 3_600;

const secretKey = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** The secret that signed the tenant's create, or the tenant's first when that one has since been rotated out. */
function tenantSecret(tenant: TenantEntry, secretId: string): string {
  const index = tenant.secretIds.indexOf(secretId);
  return tenant.secrets[index === -1 ? 0 : index] ?? "";
}

async function nodeClaims(token: string | undefined, secret: string, requireExpiry: boolean): Promise<JWTPayload | undefined> {
  if (token === undefined || token === "") return undefined;
  try {
    const { payload } = await jwtVerify(token, secretKey(secret), { algorithms: hmacAlgorithms, ...(requireExpiry ? { requiredClaims: ["exp"] } : {}) });
    return payload;
  } catch {
    return undefined;
  }
}

/** What the tenant receives; `undefined` when the node's request is not a genuine callback of this meeting. */
type TenantRequest = { headers: Record<string, string>; body: string };

/** A node's callback with what its URL names: the meeting's tenant and the secret of the node it is on. */
interface NodeCallback {
  readonly target: RecordingCallbackTarget;
  readonly tenant: TenantEntry;
  readonly nodeSecret: string;
  readonly request: CallbackRequest;
  readonly deps: RecordingCallbackDeps;
}

async function recordingReady({ target, tenant, nodeSecret, request, deps }: NodeCallback): Promise<TenantRequest | undefined> {
  const claims = await nodeClaims(new URLSearchParams(request.body.toString("utf8")).get("signed_parameters") ?? undefined, nodeSecret, false);
  const nodeMeeting = nodeMeetingId(target.tenant, target.meetingId);
  const recordId = claims?.["record_id"];
  if (claims?.["meeting_id"] !== nodeMeeting || typeof recordId !== "string" || !recordIdMatchesMeeting(recordId, nodeMeeting)) return undefined;
  await deps.reindex?.(target.tenant, recordId).catch((error: unknown) => deps.logger.warn({ err: error, tenant: target.tenant, recordId }, "recording not indexed at its ready callback"));
  const token = await new SignJWT({ meeting_id: target.meetingId, record_id: recordId })
    .setProtectedHeader({ alg: "HS256" })
    .sign(secretKey(tenantSecret(tenant, target.secretId)));
  return { headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ signed_parameters: token }).toString() };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The analytics document as the tenant sees it: its own meeting ID, and in `data.metadata` (names as BBB's script
 * sends them, `-` turned into `_`) none of the balancer's names, the tenant's own URLs where the balancer put its.
 */
function tenantViewOfAnalytics(document: Record<string, unknown>, target: RecordingCallbackTarget): Record<string, unknown> {
  const data = isObject(document["data"]) ? document["data"] : undefined;
  const metadata = isObject(data?.["metadata"]) ? data["metadata"] : undefined;
  if (data === undefined || metadata === undefined) return { ...document, meeting_id: target.meetingId };
  const view: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(metadata)) {
    if (name.startsWith("mediaplane_")) continue;
    const shown = typeof value === "string" ? tenantViewOfCallbackUrl(value) : value;
    if (shown !== undefined) view[name] = shown;
  }
  return { ...document, meeting_id: target.meetingId, data: { ...data, metadata: view } };
}

async function analytics({ target, tenant, nodeSecret, request, deps }: NodeCallback): Promise<TenantRequest | undefined> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.authorization ?? "")?.[1];
  if ((await nodeClaims(bearer, nodeSecret, true)) === undefined) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(request.body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (!isObject(document) || document["meeting_id"] !== nodeMeetingId(target.tenant, target.meetingId)) return undefined;
  const token = await new SignJWT({ exp: Math.floor(deps.now() / 1000) + analyticsTokenSeconds })
    .setProtectedHeader({ alg: "HS512", typ: "JWT" })
    .sign(secretKey(tenantSecret(tenant, target.secretId)));
  return {
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "user-agent": "BigBlueButton Analytics Callback" },
    body: JSON.stringify(tenantViewOfAnalytics(document, target)),
  };
}

/**
 * Verifies a node's callback and starts its delivery to the tenant; returns whether it was genuine. The node is
 * answered at once: the tenant's URL is called in the background, retried, and never holds the node up.
 */
export async function handleRecordingCallback(
  deps: RecordingCallbackDeps,
  kind: RecordingCallbackKind,
  query: URLSearchParams,
  request: CallbackRequest,
): Promise<boolean> {
  const target = verifyRecordingCallback(kind, query, deps.key);
  const tenant = target === undefined ? undefined : deps.directory.tenants.get(target.tenant);
  const node = target === undefined ? undefined : deps.directory.nodes.get(target.nodeId);
  if (target === undefined || tenant === undefined || node === undefined) return false;
  const callback: NodeCallback = { target, tenant, nodeSecret: node.secret, request, deps };
  const tenantRequest = kind === "recordingReady" ? await recordingReady(callback) : await analytics(callback);
  if (tenantRequest === undefined) {
    deps.logger.warn({ tenant: target.tenant, meetingId: target.meetingId, node: target.nodeId, kind }, "recording callback refused: not signed by the node for this meeting");
    return false;
  }
  deps.logger.info({ tenant: target.tenant, meetingId: target.meetingId, node: target.nodeId, kind }, "recording callback received");
  deps.deliveries.send({ url: target.tenantUrl, ...tenantRequest, what: kind, tenant: target.tenant });
  return true;
}
