import { createHmac } from "node:crypto";

/** Ports coturn listens on inside its pod (unprivileged); the Service publishes TLS on 443. */
export const coturnPorts = { listening: 3478, tls: 5349 } as const;

export interface PortRange {
  /** First port, inclusive. */
  min: number;
  /** Last port, inclusive. */
  max: number;
}

export interface TurnServerConfigArgs {
  /** The TURN host name clients use; also the realm of the credentials. */
  realm: string;
  /** The public (static) IP clients reach TURN at, advertised in relayed candidates; `undefined`: the pod's own address. */
  externalIp: string | undefined;
  /** Shared secret for TURN REST credentials (time-limited user names signed with HMAC). */
  staticAuthSecret: string;
  /** UDP ports for relayed media. */
  relayPorts: PortRange;
  /** Certificate and key files for TURN over TLS; `undefined` turns TLS off. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** TCP relays (RFC 6062): off unless a stack opts in; media needs UDP relays only, TCP ones reach arbitrary services. */
  tcpRelay: boolean;
}

/**
 * Peers a relay never reaches: every range that is not public unicast (RFC 6890 special-purpose registries), so a
 * relay cannot become a way into the cluster, the node, the cloud's metadata service or anyone's private network.
 */
export const deniedPeerRanges = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  // Not `::/128`: coturn reads an all-zero range as "any address" and would deny every peer; it refuses the
  // unspecified address as a peer on its own (good_peer_addr in src/server/ns_turn_server.c).
  "::1/128",
  "::ffff:0:0/96",
  "64:ff9b::/96",
  "100::/64",
  "2001:db8::/32",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
] as const;

/** The first and last address of a CIDR range, written as coturn's `denied-peer-ip=<first>-<last>` expects. */
export function cidrBounds(cidr: string): { first: string; last: string } {
  const [address = "", prefixText = ""] = cidr.split("/");
  const v6 = address.includes(":");
  const bits = v6 ? 128 : 32;
  const prefix = Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new Error(`${cidr}: not a CIDR range`);
  const value = v6 ? ipv6ToBigInt(address) : ipv4ToBigInt(address);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const first = value & ~hostMask & ((1n << BigInt(bits)) - 1n);
  const format = v6 ? bigIntToIpv6 : bigIntToIpv4;
  return { first: format(first), last: format(first | hostMask) };
}

function ipv4ToBigInt(address: string): bigint {
  const octets = address.split(".").map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) throw new Error(`${address}: not an IPv4 address`);
  return octets.reduce((value, octet) => (value << 8n) | BigInt(octet), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  const [head = "", tail] = address.split("::");
  const groups = (part: string | undefined) => (part === undefined || part === "" ? [] : part.split(":"));
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array<string>(missing).fill("0"), ...groups(tail)];
  if (all.length !== 8 || all.some((group) => !/^[0-9a-f]{1,4}$/i.test(group))) throw new Error(`${address}: not an IPv6 address`);
  return all.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

const bigIntToIpv4 = (value: bigint): string => [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");
const bigIntToIpv6 = (value: bigint): string =>
  [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((value >> shift) & 0xffffn).toString(16)).join(":");

/**
 * TURN REST credentials for `user`, valid for `ttlSeconds` from `nowSeconds`: the scheme of coturn's
 * `use-auth-secret` (and of prosody's external services): user name `<expiry>:<user>`, password
 * base64(HMAC-SHA1(static auth secret, user name)).
 */
export function turnRestCredentials(staticAuthSecret: string, user: string, ttlSeconds: number, nowSeconds: number): { username: string; password: string } {
  const username = `${Math.floor(nowSeconds) + ttlSeconds}:${user}`;
  return { username, password: createHmac("sha1", staticAuthSecret).update(username).digest("base64") };
}

export function validatePortRange(name: string, range: PortRange): void {
  const valid = Number.isInteger(range.min) && Number.isInteger(range.max) && range.min >= 1024 && range.max <= 65535 && range.min <= range.max;
  if (!valid) throw new Error(`${name}: must be 1024 <= min <= max <= 65535, got ${range.min}-${range.max}`);
}

/** `turnserver.conf`. It holds the shared secret, so it belongs in a Secret. */
export function renderTurnServerConfig(args: TurnServerConfigArgs): string {
  validatePortRange("relayPorts", args.relayPorts);
  if (args.staticAuthSecret.length < 16) throw new Error("staticAuthSecret: must be at least 16 characters");
  return [
    `realm=${args.realm}`,
    `server-name=${args.realm}`,
    `listening-port=${coturnPorts.listening}`,
    `tls-listening-port=${coturnPorts.tls}`,
    ...(args.externalIp === undefined ? [] : [`external-ip=${args.externalIp}`]),
    `min-port=${args.relayPorts.min}`,
    `max-port=${args.relayPorts.max}`,
    "use-auth-secret",
    `static-auth-secret=${args.staticAuthSecret}`,
    "fingerprint",
    ...(args.tls === undefined ? ["no-tls", "no-dtls"] : [`cert=${args.tls.certFile}`, `pkey=${args.tls.keyFile}`, "no-tlsv1", "no-tlsv1_1"]),
    "no-cli",
    ...(args.tcpRelay ? [] : ["no-tcp-relay"]),
    "no-multicast-peers",
    "no-software-attribute",
    // A relay must never become a way into the cluster, the node or the cloud's metadata service.
    ...deniedPeerRanges.map((range) => {
      const { first, last } = cidrBounds(range);
      return `denied-peer-ip=${first}-${last}`;
    }),
    // The root file system is read-only in the pod; /tmp is a scratch volume.
    "pidfile=/tmp/turnserver.pid",
    "log-file=stdout",
    "simple-log",
    "",
  ].join("\n");
}
