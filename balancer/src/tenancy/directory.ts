import { createHash } from "node:crypto";
import { validatedPolicies } from "./policies.js";
import type { BalancerConfig, BbbNode, ChecksumAlgorithm, Limits, LoadTunables, ParameterPolicy, PlacementSettings, Tenant } from "../config/schema.js";

/** A node as the request path needs it: everything precomputed once from the config file. */
export interface NodeEntry {
  readonly id: string;
  readonly cluster: string;
  /** The node's API base, ending in `/`: `<apiUrl><call>?<query>` is a call. */
  readonly apiUrl: string;
  readonly secret: string;
  readonly checksumAlgorithm: ChecksumAlgorithm;
  readonly config: BbbNode;
}

export interface TenantEntry {
  readonly slug: string;
  readonly secrets: readonly string[];
  /** Limits of the requests signed with each secret, by the secret's index. */
  readonly secretLimits: readonly Limits[];
  /** A name for each secret that does not reveal it (for limits per secret in Redis), by the secret's index. */
  readonly secretIds: readonly string[];
  readonly clusters: readonly string[];
  readonly limits: Limits;
  /** The global policies with the tenant's own on top, per call. */
  readonly policies: { readonly create: ReadonlyMap<string, ParameterPolicy>; readonly join: ReadonlyMap<string, ParameterPolicy> };
  readonly config: Tenant;
}

export interface Directory {
  readonly tenants: ReadonlyMap<string, TenantEntry>;
  readonly nodes: ReadonlyMap<string, NodeEntry>;
  /** The configured nodes of each cluster (placement by server tag picks among them). */
  readonly clusterNodes: ReadonlyMap<string, readonly NodeEntry[]>;
  readonly clusterLoad: ReadonlyMap<string, LoadTunables>;
  readonly allowedChecksums: readonly ChecksumAlgorithm[];
  readonly placement: PlacementSettings;
  /** The BBB version the fleet runs, for the version document; undefined: not told (as a node that hides it). */
  readonly bbbVersion: string | undefined;
}

/** Lookups by tenant slug and node ID, built once at start so no request does work that grows with the fleet. */
export function buildDirectory(config: BalancerConfig): Directory {
  const tenants = new Map<string, TenantEntry>(
    config.tenants.map((tenant) => [
      tenant.slug,
      {
        slug: tenant.slug,
        secrets: tenant.secrets.map((entry) => entry.secret),
        secretLimits: tenant.secrets.map((entry) => entry.limits),
        secretIds: tenant.secrets.map((entry) => createHash("sha256").update(entry.secret).digest("hex").slice(0, 16)),
        clusters: tenant.clusters,
        limits: tenant.limits,
        policies: {
          create: validatedPolicies("create", [config.policies.create, tenant.policies.create], tenant.slug),
          join: validatedPolicies("join", [config.policies.join, tenant.policies.join], tenant.slug),
        },
        config: tenant,
      },
    ]),
  );
  const nodes = new Map<string, NodeEntry>(
    config.nodes.map((node) => [
      node.id,
      { id: node.id, cluster: node.cluster, apiUrl: node.url, secret: node.secret, checksumAlgorithm: node.checksumAlgorithm, config: node },
    ]),
  );
  const clusterLoad = new Map(config.clusters.map((cluster) => [cluster.name, cluster.load]));
  const clusterNodes = new Map(config.clusters.map((cluster) => [cluster.name, [...nodes.values()].filter((node) => node.cluster === cluster.name)]));
  return { tenants, nodes, clusterNodes, clusterLoad, allowedChecksums: config.checksum.allowed, placement: config.placement, bbbVersion: config.bbbVersion };
}
