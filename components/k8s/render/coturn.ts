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
    "no-multicast-peers",
    "no-software-attribute",
    // A relay must never become a way into the cluster, the node or the cloud's metadata service.
    "denied-peer-ip=0.0.0.0-0.255.255.255",
    "denied-peer-ip=10.0.0.0-10.255.255.255",
    "denied-peer-ip=100.64.0.0-100.127.255.255",
    "denied-peer-ip=127.0.0.0-127.255.255.255",
    "denied-peer-ip=169.254.0.0-169.254.255.255",
    "denied-peer-ip=172.16.0.0-172.31.255.255",
    "denied-peer-ip=192.168.0.0-192.168.255.255",
    // The root file system is read-only in the pod; /tmp is a scratch volume.
    "pidfile=/tmp/turnserver.pid",
    "log-file=stdout",
    "simple-log",
    "",
  ].join("\n");
}
