import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { BalancerConfig } from "../config/schema.js";
import { recordingCallbackPaths } from "./recordingCallbacks.js";

/**
 * The end callback the balancer hands a node in place of the tenant's `meta_endCallbackUrl`: BBB calls it when the
 * meeting ends, the balancer releases the meeting's mapping at once and calls the tenant's own URL (if it gave
 * one) with the tenant's meeting ID. Everything the balancer needs travels in the URL, signed, so no replica has to
 * remember anything and nobody can end another tenant's meeting mapping by guessing a URL.
 */
/**
 * Under `/t/`, which the ingress routes to the API on the base domain (nodes reach the balancer there); `_`
 * never starts a tenant slug, so no tenant's path-based URL can collide with it.
 */
export const endCallbackPath = "/t/_mediaplane/end";

/** The balancer's own query parameters; BBB appends its own (`meetingID`, `recordingmarks`) after them. */
const ownParameters: ReadonlySet<string> = new Set(["t", "m", "n", "u", "s"]);

export interface EndCallbackTarget {
  tenant: string;
  meetingId: string;
  nodeId: string;
  /** The tenant's own `meta_endCallbackUrl`, if any. */
  tenantUrl?: string | undefined;
}

function signature(key: string, target: EndCallbackTarget): string {
  const signed = [target.tenant, target.meetingId, target.nodeId, target.tenantUrl ?? ""].join("\n");
  return createHmac("sha256", key).update(signed).digest("hex");
}

/** `base` is the balancer's public URL as nodes reach it. */
export function endCallbackUrl(base: string, key: string, target: EndCallbackTarget): string {
  const query = new URLSearchParams({ t: target.tenant, m: target.meetingId, n: target.nodeId });
  if (target.tenantUrl !== undefined) query.set("u", target.tenantUrl);
  query.set("s", signature(key, target));
  return `${base.replace(/\/+$/, "")}${endCallbackPath}?${query.toString()}`;
}

/** Reads a callback request's query; `undefined` unless the signature is the balancer's own. */
export function verifyEndCallback(query: URLSearchParams, key: string): EndCallbackTarget | undefined {
  const tenant = query.get("t");
  const meetingId = query.get("m");
  const nodeId = query.get("n");
  const given = query.get("s");
  if (tenant === null || meetingId === null || nodeId === null || given === null) return undefined;
  const target: EndCallbackTarget = { tenant, meetingId, nodeId, tenantUrl: query.get("u") ?? undefined };
  const expected = Buffer.from(signature(key, target), "latin1");
  const actual = Buffer.from(given, "latin1");
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? target : undefined;
}

/**
 * What a tenant should see where a node shows the balancer's callback URL: the tenant's own URL, or `undefined`
 * when it gave none. A URL that is not a balancer callback is returned unchanged.
 */
export function tenantViewOfCallbackUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (!parsed.searchParams.has("s")) return url;
  if (parsed.pathname.endsWith(endCallbackPath)) return parsed.searchParams.get("u") ?? undefined;
  return Object.values(recordingCallbackPaths).some((path) => parsed.pathname.endsWith(path)) ? (parsed.searchParams.get("u") ?? undefined) : url;
}

/** The URL the tenant's callback is sent to: the node's extra parameters kept, the meeting ID the tenant's own. */
export function tenantCallbackUrl(tenantUrl: string, meetingId: string, nodeQuery: URLSearchParams): string {
  const url = new URL(tenantUrl);
  for (const [name, value] of nodeQuery) {
    if (!ownParameters.has(name)) url.searchParams.append(name, name === "meetingID" ? meetingId : value);
  }
  if (!url.searchParams.has("meetingID")) url.searchParams.append("meetingID", meetingId);
  return url.toString();
}

/** The signing key when CALLBACK_SECRET is unset: derived from the node secrets, so every replica agrees. */
export function defaultCallbackKey(config: BalancerConfig): string {
  const secrets = config.nodes.map((node) => node.secret).sort();
  return createHash("sha256").update(["mediaplane end callback", ...secrets].join("\n")).digest("hex");
}
