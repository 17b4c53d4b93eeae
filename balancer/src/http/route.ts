import { endCallbackPath } from "../tenancy/endCallback.js";
import { nodeEventsPathPrefix } from "../webhooks/nodeEvents.js";
import { recordingCallbackPaths, type RecordingCallbackKind } from "../tenancy/recordingCallbacks.js";

/** Where a request goes, told from its host and path alone. */
export type Route =
  | { kind: "api"; tenant: string; call: string }
  | { kind: "version"; tenant: string }
  | { kind: "endCallback" }
  | { kind: "nodeEvents"; nodeId: string }
  | { kind: "recordingCallback"; callback: RecordingCallbackKind }
  | { kind: "notFound" };

const apiPath = /^\/bigbluebutton\/api(?:\/(.*))?$/;
const pathBased = /^\/t\/([^/]+)(\/bigbluebutton\/api(?:\/.*)?)$/;

function apiRoute(tenant: string, path: string): Route {
  const match = apiPath.exec(path);
  if (match === null) return { kind: "notFound" };
  const call = match[1] ?? "";
  return call === "" ? { kind: "version", tenant } : { kind: "api", tenant, call };
}

function nodeEventsRoute(encodedNodeId: string): Route {
  try {
    return { kind: "nodeEvents", nodeId: decodeURIComponent(encodedNodeId) };
  } catch {
    return { kind: "notFound" };
  }
}

/**
 * Host-based `<tenant>.<baseDomain>/bigbluebutton/api/<call>` (what every BBB client expects) or path-based
 * `<any host>/t/<tenant>/bigbluebutton/api/<call>` (single-domain setups, and loopback without DNS).
 * `host` is lower-case and without port; whether the tenant exists is for the caller to decide.
 */
export function route(host: string, path: string, baseDomain: string): Route {
  if (path === endCallbackPath) return { kind: "endCallback" };
  if (path.startsWith(nodeEventsPathPrefix)) return nodeEventsRoute(path.slice(nodeEventsPathPrefix.length));
  if (path === recordingCallbackPaths.recordingReady) return { kind: "recordingCallback", callback: "recordingReady" };
  if (path === recordingCallbackPaths.analytics) return { kind: "recordingCallback", callback: "analytics" };
  const byPath = pathBased.exec(path);
  if (byPath !== null) return apiRoute(byPath[1] ?? "", byPath[2] ?? "");
  const suffix = `.${baseDomain}`;
  if (!host.endsWith(suffix)) return { kind: "notFound" };
  const tenant = host.slice(0, -suffix.length);
  return tenant === "" || tenant.includes(".") ? { kind: "notFound" } : apiRoute(tenant, path);
}

/**
 * A request target's path and raw query (undecoded, as checksums cover it), split once for every use. The absolute
 * form a proxy may send (`http://host/path?query`) counts by its path.
 */
export function splitRequestTarget(target: string): { path: string; rawQuery: string } {
  const queryStart = target.indexOf("?");
  const beforeQuery = queryStart === -1 ? target : target.slice(0, queryStart);
  const path = beforeQuery.startsWith("/") ? beforeQuery : beforeQuery.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "") || "/";
  return { path, rawQuery: queryStart === -1 ? "" : target.slice(queryStart + 1) };
}

/** A forwarded header's value as the first proxy (the one the client reached) wrote it. */
function firstHop(forwarded: string | undefined): string | undefined {
  return forwarded?.split(",")[0]?.trim();
}

function rawHost(hostHeader: string | undefined, forwardedHost: string | undefined, fromTrustedProxy: boolean): string {
  return ((fromTrustedProxy ? firstHop(forwardedHost) : undefined) ?? hostHeader ?? "").trim();
}

/** The host name a request was sent to: the proxy's `X-Forwarded-Host` when the peer is a trusted proxy. */
export function requestHost(hostHeader: string | undefined, forwardedHost: string | undefined, fromTrustedProxy: boolean): string {
  const host = rawHost(hostHeader, forwardedHost, fromTrustedProxy).toLowerCase();
  // `[v6]:port`, `name:port`: the port never names a tenant.
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.indexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}
