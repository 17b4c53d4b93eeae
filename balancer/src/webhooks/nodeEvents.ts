import { timingSafeEqual } from "node:crypto";
import { algorithmOf } from "../bbb/checksum.js";
import type { ChecksumAlgorithm } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { meetingIdsOfHashes } from "../store/meetings.js";
import type { RedisClient } from "../store/redisClient.js";
import type { Directory, NodeEntry, TenantEntry } from "../tenancy/directory.js";
import { parseNodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { callbackChecksum } from "./callbackChecksum.js";
import type { HookDeliveries } from "./delivery.js";
import { hooksForMeeting, listHooks, takesEvent } from "./hookStore.js";
import { mappedEvents, tenantViewOfEvent, type MappedEvent } from "./tenantEvent.js";

/**
 * Events the nodes' bbb-webhooks post to the hook the poller registered on each of them
 * (`<public URL>/t/_mediaplane/events/<nodeId>`, see `registration.ts`). A post counts only when it is signed
 * with that node's secret as bbb-webhooks >= 3.4.0 signs (a checksum over the URL and the body) or carries the
 * secret as a bearer token (bbb-webhooks' `auth2_0`), and when its timestamp is recent: anything else is refused
 * before a byte of it is relayed. Each event then goes to the hooks of the tenant whose meeting it is, and only
 * to them, with the tenant's meeting ID in place of the node's.
 */

export const nodeEventsPathPrefix = "/t/_mediaplane/events/";

/** bbb-webhooks sends one event per post by default (`multiEvent: 1`); a post is kilobytes. */
export const maxEventPostBytes = 256 * 1024;

/** The URL registered on a node, and the one its posts' checksums cover. */
export function nodeEventsUrl(publicUrl: string, nodeId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}${nodeEventsPathPrefix}${encodeURIComponent(nodeId)}`;
}

export interface NodeEventPost {
  readonly nodeId: string;
  readonly rawQuery: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

export interface NodeEventDeps {
  readonly redis: RedisClient;
  readonly directory: Directory;
  readonly deliveries: HookDeliveries;
  readonly publicUrl: string;
  readonly allowedChecksums: readonly ChecksumAlgorithm[];
  readonly maxEventAgeMs: number;
  readonly logger: Logger;
}

export type NodeEventOutcome = { readonly kind: "relayed"; readonly events: number } | { readonly kind: "refused"; readonly reason: string } | { readonly kind: "unknownNode" };

function sameText(expected: string, given: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(given, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether the post is the node's own: its checksum (or bearer token) made with the node's secret. */
export function isSignedByNode(node: NodeEntry, callbackUrl: string, post: NodeEventPost, allowed: readonly ChecksumAlgorithm[]): boolean {
  if (post.authorization !== undefined && post.authorization.startsWith("Bearer ")) return sameText(`Bearer ${node.secret}`, post.authorization);
  const query = new URLSearchParams(post.rawQuery);
  const checksum = query.get("checksum");
  if (checksum === null || query.size !== 1) return false;
  const algorithm = algorithmOf(checksum);
  if (algorithm === undefined || !allowed.includes(algorithm)) return false;
  return sameText(callbackChecksum(algorithm, callbackUrl, post.body, node.secret), checksum.toLowerCase());
}

/** The tenant and its meeting ID behind a node's meeting ID; `undefined` for meetings the balancer did not create. */
async function tenantMeeting(deps: NodeEventDeps, nodeMeetingId: string): Promise<{ tenant: TenantEntry; meetingId: string } | undefined> {
  const parsed = parseNodeMeetingId(nodeMeetingId);
  if (parsed === undefined) return undefined;
  const tenant = deps.directory.tenants.get(parsed.tenant);
  if (tenant === undefined) return undefined;
  if (parsed.kind === "readable") return { tenant, meetingId: parsed.meetingId };
  const [meetingId] = await meetingIdsOfHashes(deps.redis, tenant.slug, [parsed.meetingIdHash]);
  return meetingId === undefined ? undefined : { tenant, meetingId };
}

async function relayEvent(deps: NodeEventDeps, event: MappedEvent): Promise<number> {
  const owner = await tenantMeeting(deps, event.data.attributes.meeting["external-meeting-id"]);
  if (owner === undefined) return 0;
  const hooks = hooksForMeeting(await listHooks(deps.redis, owner.tenant.slug), owner.meetingId).filter((hook) => takesEvent(hook, event.data.id));
  if (hooks.length === 0) return 0;
  const eventJson = `[${JSON.stringify(tenantViewOfEvent(event, owner.meetingId))}]`;
  for (const hook of hooks) deps.deliveries.enqueue(owner.tenant, hook, eventJson);
  return hooks.length;
}

/** Verifies a node's post and queues each of its events for the hooks of the tenant it belongs to. */
export async function receiveNodeEvents(deps: NodeEventDeps, post: NodeEventPost, now: number): Promise<NodeEventOutcome> {
  const node = deps.directory.nodes.get(post.nodeId);
  if (node === undefined) return { kind: "unknownNode" };
  if (!isSignedByNode(node, nodeEventsUrl(deps.publicUrl, node.id), post, deps.allowedChecksums)) return { kind: "refused", reason: "not signed with the node's secret" };
  const form = new URLSearchParams(post.body);
  const timestamp = Number(form.get("timestamp"));
  if (!Number.isFinite(timestamp) || Math.abs(now - timestamp) > deps.maxEventAgeMs) return { kind: "refused", reason: "timestamp missing or too old (a replay?)" };
  const events = mappedEvents(form.get("event") ?? "");
  if (events === undefined) return { kind: "refused", reason: "event is not a JSON array" };
  let relayed = 0;
  for (const event of events) relayed += await relayEvent(deps, event);
  return { kind: "relayed", events: relayed };
}
