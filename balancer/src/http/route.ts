import { endCallbackPath } from "../tenancy/endCallback.js";

/** Where a request goes, told from its host and path alone. */
export type Route =
  | { kind: "api"; tenant: string; call: string }
  | { kind: "version"; tenant: string }
  | { kind: "endCallback" }
  | { kind: "notFound" };

const apiPath = /^\/bigbluebutton\/api(?:\/(.*))?$/;
const pathBased = /^\/t\/([^/]+)(\/bigbluebutton\/api(?:\/.*)?)$/;

function apiRoute(tenant: string, path: string): Route {
  const match = apiPath.exec(path);
  if (match === null) return { kind: "notFound" };
  const call = match[1] ?? "";
  return call === "" ? { kind: "version", tenant } : { kind: "api", tenant, call };
}

/**
 * Host-based `<tenant>.<baseDomain>/bigbluebutton/api/<call>` (what every BBB client expects) or path-based
 * `<any host>/t/<tenant>/bigbluebutton/api/<call>` (single-domain setups, and loopback without DNS).
 * `host` is lower-case and without port; whether the tenant exists is for the caller to decide.
 */
export function route(host: string, path: string, baseDomain: string): Route {
  if (path === endCallbackPath) return { kind: "endCallback" };
  const byPath = pathBased.exec(path);
  if (byPath !== null) return apiRoute(byPath[1] ?? "", byPath[2] ?? "");
  const suffix = `.${baseDomain}`;
  if (!host.endsWith(suffix)) return { kind: "notFound" };
  const tenant = host.slice(0, -suffix.length);
  return tenant === "" || tenant.includes(".") ? { kind: "notFound" } : apiRoute(tenant, path);
}

/** The host name a request was sent to: the proxy's `X-Forwarded-Host` when the peer is a trusted proxy. */
export function requestHost(hostHeader: string | undefined, forwardedHost: string | undefined, fromTrustedProxy: boolean): string {
  const raw = (fromTrustedProxy && forwardedHost !== undefined ? forwardedHost.split(",")[0] : hostHeader) ?? "";
  const host = raw.trim().toLowerCase();
  // `[v6]:port`, `name:port`: the port never names a tenant.
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.indexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}
