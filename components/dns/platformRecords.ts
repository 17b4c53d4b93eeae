import type { StackConfig } from "../../config/index.js";
import type { StaticIpRole } from "../azure/StaticIps.js";
import type { DnsRecordArgs } from "./DnsRecord.js";

/** A host the stack answers on, and the static IP it points at. */
export interface PlatformRecord {
  readonly name: string;
  readonly pointsAt: StaticIpRole;
}

/**
 * The records of the platform's own hosts: the API base and its tenant wildcard, Jitsi and Janus (all served by
 * the ingress) and TURN (its own LoadBalancer), each only when the stack runs it. BBB nodes add their own.
 */
export function platformRecords(config: Pick<StackConfig, "domains" | "jitsi" | "janus" | "turn">): PlatformRecord[] {
  const { domains } = config;
  return [
    { name: domains.apiBase, pointsAt: "ingress" },
    { name: `*.${domains.apiBase}`, pointsAt: "ingress" },
    ...(config.jitsi.enabled ? [{ name: domains.jitsi, pointsAt: "ingress" as const }] : []),
    ...(config.janus.enabled ? [{ name: domains.janus, pointsAt: "ingress" as const }] : []),
    ...(config.turn.enabled ? [{ name: domains.turn, pointsAt: "turn" as const }] : []),
  ];
}

/** Where and with which key the stack's records are written; undefined when the stack leaves records to others. */
export function recordWriter(
  config: Pick<StackConfig, "dns" | "acme">,
  tsigSecret: DnsRecordArgs["tsigSecret"] | undefined,
): Omit<DnsRecordArgs, "name" | "address"> | undefined {
  if (config.dns === undefined || config.acme === undefined || tsigSecret === undefined) return undefined;
  return {
    target: { nameserver: config.acme.nameserver, zone: config.dns.zone, tsigKeyName: config.acme.tsigKeyName, tsigAlgorithm: config.acme.tsigAlgorithm },
    ttlSeconds: config.dns.ttlSeconds,
    tsigSecret,
  };
}

/** A resource name for a record: the wildcard's `*` spelt out. */
export function recordResourceName(name: string): string {
  return name.replace(/^\*\./, "wildcard.");
}
