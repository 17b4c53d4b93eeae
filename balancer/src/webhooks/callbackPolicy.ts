import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * Which callback URLs a tenant may register, and which addresses a delivery may connect to: the balancer sits
 * inside the platform's network, so a hook is a request the tenant makes from there (SSRF). Only absolute
 * http(s) URLs without credentials or fragment, at most `maxCallbackUrlLength` long, and never an address in a
 * private, loopback, link-local, shared, multicast or reserved range, unless the operator allowed that network
 * (`webhooks.allowedCallbackNetworks`). Names are checked again on every connection, after DNS resolution, so a
 * name that resolves to an internal address later (DNS rebinding) is refused then.
 */

export const maxCallbackUrlLength = 2_048;

const internalNetworks: ReadonlyArray<readonly [string, number, "ipv4" | "ipv6"]> = [
  ["0.0.0.0", 8, "ipv4"],
  ["10.0.0.0", 8, "ipv4"],
  ["100.64.0.0", 10, "ipv4"],
  ["127.0.0.0", 8, "ipv4"],
  ["169.254.0.0", 16, "ipv4"],
  ["172.16.0.0", 12, "ipv4"],
  ["192.0.0.0", 24, "ipv4"],
  ["192.0.2.0", 24, "ipv4"],
  ["192.168.0.0", 16, "ipv4"],
  ["198.18.0.0", 15, "ipv4"],
  ["198.51.100.0", 24, "ipv4"],
  ["203.0.113.0", 24, "ipv4"],
  ["224.0.0.0", 3, "ipv4"],
  ["::", 128, "ipv6"],
  ["::1", 128, "ipv6"],
  ["64:ff9b::", 96, "ipv6"],
  ["100::", 64, "ipv6"],
  ["2001:db8::", 32, "ipv6"],
  ["fc00::", 7, "ipv6"],
  ["fe80::", 10, "ipv6"],
  ["ff00::", 8, "ipv6"],
];

const internal = new BlockList();
for (const [address, prefix, family] of internalNetworks) internal.addSubnet(address, prefix, family);

export interface CallbackPolicy {
  /** Whether a delivery may connect to this IP address. */
  allowsAddress(address: string): boolean;
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address it maps. */
function unmapped(address: string): { address: string; family: "ipv4" | "ipv6" } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return { address: mapped[1] ?? "", family: "ipv4" };
  return { address, family: isIP(address) === 4 ? "ipv4" : "ipv6" };
}

export function callbackPolicy(allowedNetworks: readonly string[]): CallbackPolicy {
  const allowed = new BlockList();
  for (const network of allowedNetworks) {
    const [address = "", prefix = ""] = network.split("/");
    allowed.addSubnet(address, Number(prefix), isIP(address) === 4 ? "ipv4" : "ipv6");
  }
  return {
    allowsAddress(raw) {
      if (isIP(raw) === 0) return false;
      const { address, family } = unmapped(raw);
      return !internal.check(address, family) || allowed.check(address, family);
    },
  };
}

export type CallbackUrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** The host of a URL as an IP address, if it is one (`[::1]` included). */
function literalAddress(url: URL): string | undefined {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) === 0 ? undefined : host;
}

/** Whether a tenant may register this callback URL; the reason names what is wrong. */
export function checkCallbackUrl(text: string, policy: CallbackPolicy): CallbackUrlVerdict {
  if (text.length > maxCallbackUrlLength) return { ok: false, reason: `callbackURL is longer than ${maxCallbackUrlLength} characters` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "callbackURL is not an absolute URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: "callbackURL must be an http or https URL" };
  if (url.username !== "" || url.password !== "") return { ok: false, reason: "callbackURL must not carry credentials" };
  if (text.includes("#")) return { ok: false, reason: "callbackURL must not have a fragment" };
  const address = literalAddress(url);
  if (address !== undefined && !policy.allowsAddress(address)) return { ok: false, reason: "callbackURL points to an internal network address" };
  if (address === undefined && (url.hostname === "localhost" || url.hostname.endsWith(".localhost"))) {
    return { ok: false, reason: "callbackURL points to an internal network address" };
  }
  return { ok: true, url };
}

export class RefusedAddressError extends Error {
  override readonly name = "RefusedAddressError";
  readonly code = "EREFUSEDADDRESS";
}

/**
 * A `lookup` for sockets that resolves as usual and fails when any address of the name is one the policy
 * refuses: the connection is then never opened, whatever the name resolved to at registration.
 */
export function guardedLookup(policy: CallbackPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, []);
      if (addresses.length === 0 || addresses.some((entry) => !policy.allowsAddress(entry.address))) {
        return callback(new RefusedAddressError(`${hostname} resolves to an address callbacks may not reach`), []);
      }
      const [first] = addresses as [LookupAddress, ...LookupAddress[]];
      if (options.all === true) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}

/** The literal IP of a URL's host the policy refuses, if its host is one (names are checked on connect). */
export function refusedLiteral(url: URL, policy: CallbackPolicy): boolean {
  const address = literalAddress(url);
  return address !== undefined && !policy.allowsAddress(address);
}
