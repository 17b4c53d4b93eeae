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
 * Loopback and multicast are refused by coturn itself as well (`no-multicast-peers`, no `allow-loopback-peers`).
 *
 * No range may start at `::` (no `::/128`, no `::/96`): coturn 4.6.3 (src/client/ns_turn_ioaddr.c,
 * ioa_addr_in_range) reads an all-zero bound as "unbounded", and compares addresses of different families by family
 * alone, so such a range would also swallow every IPv4 peer. coturn refuses `::` as a peer on its own
 * (ioa_addr_is_zero in good_peer_addr, src/server/ns_turn_server.c).
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
  "::1/128",
  // IPv4-mapped: from an IPv6 relay these reach the IPv4 addresses above.
  "::ffff:0:0/96",
  // NAT64's well-known prefix: through a NAT64 gateway these reach the IPv4 addresses above.
  "64:ff9b::/96",
  "100::/64",
  "2001:db8::/32",
  "fc00::/7",
  "fe80::/10",
  "fec0::/10",
  "ff00::/8",
] as const;

/** An IPv4 or IPv6 address (no embedded IPv4 notation) as a number and its width in bits. */
export function parseIpAddress(address: string): { value: bigint; bits: 32 | 128 } {
  if (!address.includes(":")) {
    const octets = address.split(".");
    if (octets.length !== 4 || octets.some((octet) => !/^\d{1,3}$/.test(octet) || Number(octet) > 255)) throw new Error(`${address}: not an IPv4 address`);
    return { value: octets.reduce((value, octet) => (value << 8n) | BigInt(octet), 0n), bits: 32 };
  }
  const halves = address.split("::");
  const groups = (part: string | undefined) => (part === undefined || part === "" ? [] : part.split(":"));
  const [head, tail] = [groups(halves[0]), groups(halves[1])];
  const all = halves.length === 1 ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill("0"), ...tail];
  if (halves.length > 2 || all.length !== 8 || all.some((group) => !/^[0-9a-f]{1,4}$/i.test(group))) throw new Error(`${address}: not an IPv6 address`);
  return { value: all.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n), bits: 128 };
}

/** The address of that number, in the plain form coturn's config parser (inet_pton) reads. */
export function formatIpAddress(value: bigint, bits: 32 | 128): string {
  const [width, count, radix, separator] = bits === 32 ? [8n, 4, 10, "."] : [16n, 8, 16, ":"];
  const mask = (1n << width) - 1n;
  return Array.from({ length: count }, (_, index) => ((value >> (width * BigInt(count - 1 - index))) & mask).toString(radix)).join(separator);
}

/** The first and last address of a CIDR range: coturn's `denied-peer-ip` takes `<first>-<last>`, not CIDR. */
export function cidrBounds(cidr: string): { first: string; last: string } {
  const [address = "", prefixText = ""] = cidr.split("/");
  const { value, bits } = parseIpAddress(address);
  const prefix = Number(prefixText);
  if (!/^\d+$/.test(prefixText) || prefix > bits) throw new Error(`${cidr}: not a CIDR range`);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const first = value & ~hostMask;
  return { first: formatIpAddress(first, bits), last: formatIpAddress(first | hostMask, bits) };
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

export interface CertificateReloaderArgs {
  /** Where the pod mounts the `kubernetes.io/tls` Secret (the kubelet's `..data` symlink lives there). */
  certDir: string;
  /** A file on a writable volume: the `..data` target coturn last loaded; its age shows the loop is alive. */
  stateFile: string;
  /** How often to look for a swapped `..data`. */
  intervalSeconds: number;
}

/**
 * The reloader's script (POSIX sh). coturn 4.6.3 re-reads `cert` and `pkey` from their configured paths on SIGUSR2
 * (src/apps/relay/mainrelay.c: reload_ssl_certs, openssl_load_certificates) and keeps its current TLS context when
 * the new files do not load (set_ctx replaces it only without errors), so a signal after the kubelet swaps `..data`
 * is all a renewal needs, and a bad Secret cannot take TLS down.
 *
 * It uses shell builtins plus coreutils' readlink and sleep only: the coturn image is debian:bookworm-slim
 * (docker/coturn/debian/Dockerfile), which has no procps, so turnserver is found by its /proc/<pid>/comm. The state
 * lives in a file, not a variable, so a restarted reloader still signals for a swap it missed while down. Nothing is
 * sent before the first swap, nor to a turnserver that does not catch SIGUSR2 yet (bit 12 of SigCgt in
 * /proc/<pid>/status): it installs its handler only after setting up its listeners, SIGUSR2's default action would end
 * it, and a swap can come while the kubelet restarts the coturn container.
 */
export function renderCertificateReloader(args: CertificateReloaderArgs): string {
  const tag = "coturn-certificate-reloader:";
  return [
    "set -u",
    `certs='${args.certDir}'`,
    `state='${args.stateFile}'`,
    `[ -s "$state" ] || readlink "$certs/..data" > "$state" || : > "$state"`,
    `echo "${tag} watching $certs/..data every ${args.intervalSeconds}s"`,
    // The last three hex digits of SigCgt hold signals 9-12; SIGUSR2 (12) is their 0x800.
    "catches_usr2() {",
    "  caught=''",
    `  while read -r field value; do [ "$field" = SigCgt: ] && caught=$value && break; done 2>/dev/null < "/proc/$1/status"`,
    `  [ -n "$caught" ] && [ $(( 0x\${caught#"\${caught%???}"} & 0x800 )) -ne 0 ]`,
    "}",
    "while :; do",
    `  read -r seen < "$state" || seen=''`,
    `  current=$(readlink "$certs/..data") || current=''`,
    `  if [ -n "$current" ] && [ "$current" != "$seen" ]; then`,
    "    pid=''",
    "    for comm in /proc/[0-9]*/comm; do",
    `      read -r name 2>/dev/null < "$comm" || continue`,
    `      if [ "$name" = turnserver ]; then pid=\${comm#/proc/}; pid=\${pid%/comm}; break; fi`,
    "    done",
    `    if [ -z "$pid" ]; then`,
    `      echo "${tag} $certs/..data now points to $current, but no turnserver process is visible to signal; retrying"`,
    `    elif ! catches_usr2 "$pid"; then`,
    `      echo "${tag} turnserver (pid $pid) does not catch SIGUSR2 yet (still starting); retrying"`,
    `    elif kill -USR2 "$pid"; then`,
    `      echo "${tag} $certs/..data now points to $current (was \${seen:-unknown}): sent SIGUSR2 to turnserver (pid $pid) to reload its certificate"`,
    "      seen=$current",
    "    else",
    `      echo "${tag} could not signal turnserver (pid $pid); retrying"`,
    "    fi",
    "  fi",
    `  printf '%s\\n' "$seen" > "$state"`,
    `  sleep ${args.intervalSeconds}`,
    "done",
    "",
  ].join("\n");
}
