import type { BbbFleetGroupSettings, StackConfig } from "./stackConfig.js";

/** One BBB node the stack creates: its balancer identity and its host name. */
export interface FleetNode {
  /** Balancer node id, `<group>-<n>`. */
  readonly id: string;
  readonly cluster: string;
  readonly fqdn: string;
  readonly group: BbbFleetGroupSettings;
}

/** The nodes the fleet settings describe, group by group, numbered from 1 (a node keeps its number and name). */
export function fleetNodes(config: Pick<StackConfig, "bbb">): FleetNode[] {
  const fleet = config.bbb.fleet;
  if (fleet === undefined) return [];
  return fleet.groups.flatMap((group) =>
    Array.from({ length: group.count }, (_, i) => {
      const id = `${group.name}-${i + 1}`;
      return { id, cluster: group.cluster, fqdn: `${id}.${fleet.domain}`, group };
    }),
  );
}

/** The API base the balancer calls on a node, as bbb-install sets it up. */
export function nodeApiUrl(fqdn: string): string {
  return `https://${fqdn}/bigbluebutton/api/`;
}

export function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

interface Issue {
  path: PropertyKey[];
  message: string;
}

type FleetCheckedConfig = Pick<StackConfig, "bbb" | "cluster" | "acme" | "ingress" | "dns" | "domains" | "jitsi" | "janus" | "turn">;

function fleetIssues(config: FleetCheckedConfig): Issue[] {
  const fleet = config.bbb.fleet;
  if (fleet === undefined) return [];
  const issues: Issue[] = [];
  const at = ["bbb", "fleet"];
  if (config.cluster.provider !== "azure") issues.push({ path: at, message: 'needs cluster.provider "azure" (the nodes are Azure VMs)' });
  if (config.acme === undefined) issues.push({ path: at, message: "needs acme: its email is the ACME account of the nodes' certificates" });
  if (config.ingress.adminAllowList.length === 0) {
    issues.push({
      path: ["ingress", "adminAllowList"],
      message: "must list where `pulumi up` runs: bbb.fleet installs its nodes over SSH, open only to these sources",
    });
  }
  const clusters = config.bbb.clusters.map((cluster) => cluster.name);
  const groupNames = new Set<string>();
  fleet.groups.forEach((group, i) => {
    if (!clusters.includes(group.cluster)) {
      issues.push({ path: [...at, "groups", i, "cluster"], message: `unknown cluster "${group.cluster}" (clusters: ${clusters.join(", ")})` });
    }
    if (groupNames.has(group.name)) issues.push({ path: [...at, "groups", i, "name"], message: `duplicate group "${group.name}"` });
    groupNames.add(group.name);
  });
  const referenced = new Set(config.bbb.nodes.map((node) => node.id));
  for (const node of fleetNodes(config)) {
    if (referenced.has(node.id)) {
      const i = fleet.groups.indexOf(node.group);
      issues.push({ path: [...at, "groups", i, "name"], message: `node id "${node.id}" is also a referenced node of bbb.nodes` });
    }
  }
  return issues;
}

/** Host names the stack's records are written for, with the key that sets each. */
export function managedHostNames(config: FleetCheckedConfig): { path: PropertyKey[]; name: string }[] {
  const { domains } = config;
  return [
    { path: ["domains", "apiBase"], name: domains.apiBase },
    ...(config.jitsi.enabled ? [{ path: ["domains", "jitsi"], name: domains.jitsi }] : []),
    ...(config.janus.enabled ? [{ path: ["domains", "janus"], name: domains.janus }] : []),
    ...(config.turn.enabled ? [{ path: ["domains", "turn"], name: domains.turn }] : []),
    ...(config.bbb.fleet === undefined ? [] : [{ path: ["bbb", "fleet", "domain"], name: config.bbb.fleet.domain }]),
  ];
}

function dnsIssues(config: FleetCheckedConfig): Issue[] {
  const dns = config.dns;
  if (dns === undefined) return [];
  const issues: Issue[] = [];
  if (config.acme === undefined) issues.push({ path: ["dns"], message: "needs acme: records are written to acme.nameserver with its TSIG key" });
  if (config.cluster.provider !== "azure") {
    issues.push({ path: ["dns"], message: 'needs cluster.provider "azure": records point at the stack\'s static IPs' });
  }
  for (const { path, name } of managedHostNames(config)) {
    if (!isInZone(name, dns.zone)) issues.push({ path, message: `must lie in dns.zone "${dns.zone}" to get its record` });
  }
  return issues;
}

/** Cross-checks of `bbb.fleet` and `dns` against the rest of the stack, each naming the key to change. */
export function fleetConfigIssues(config: FleetCheckedConfig): Issue[] {
  return [...fleetIssues(config), ...dnsIssues(config)];
}
