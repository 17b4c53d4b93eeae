import { balancerConfigSchema, type BalancerConfigInput } from "@mediaplane/balancer/config";
import type { StackConfig } from "./stackConfig.js";

/** The secret values the balancer's config file needs, known only inside a Pulumi `apply`. */
export interface BalancerSecretValues {
  /** Live API secrets per tenant slug, oldest first. */
  readonly tenantSecrets: Readonly<Record<string, readonly string[]>>;
  /** API secret per BBB node id. */
  readonly nodeSecrets: Readonly<Record<string, string>>;
  /** The stack's own BBB nodes, complete (URL, cluster, secret, load URL) once installed. */
  readonly managedNodes?: readonly NonNullable<BalancerConfigInput["nodes"]>[number][];
}

/** The balancer's config file for this stack: stack settings plus the secrets. */
export function buildBalancerConfig(
  config: Pick<StackConfig, "tenants" | "bbb">,
  secrets: BalancerSecretValues,
): BalancerConfigInput {
  return {
    tenants: config.tenants.map(({ secretCount: _count, firstSecret: _first, ...tenant }) => ({
      ...tenant,
      secrets: [...(secrets.tenantSecrets[tenant.slug] ?? [])],
    })),
    clusters: config.bbb.clusters,
    nodes: [...config.bbb.nodes.map((node) => ({ ...node, secret: secrets.nodeSecrets[node.id] ?? "" })), ...(secrets.managedNodes ?? [])],
    checksum: config.bbb.checksum,
    policies: config.bbb.policies,
    poller: config.bbb.poller,
    placement: config.bbb.placement,
    webhooks: config.bbb.webhooks,
    ...fleetRelease(config.bbb.fleet?.groups ?? []),
  };
}

/** The BBB release the stack's own nodes run, for the version document: only when every group pins the same one. */
function fleetRelease(groups: readonly { bbbVersion: string }[]): { bbbVersion?: string } {
  const releases = new Set(groups.map((group) => group.bbbVersion));
  const [release] = releases;
  return releases.size === 1 && release !== undefined ? { bbbVersion: release } : {};
}

/** Stands in for secrets when only the shape of the config is checked; long enough to satisfy the schema. */
const shapeCheckSecret = "shape-check-secret-not-a-real-value";

/** Where a balancer-config key lives in the stack config: tenants at the top, everything else under `bbb`. */
function stackPathOf(balancerPath: readonly PropertyKey[]): PropertyKey[] {
  return balancerPath[0] === "tenants" ? [...balancerPath] : ["bbb", ...balancerPath];
}

/**
 * The balancer's own cross-checks (unknown clusters, duplicate slugs/ids/clusters) run on the stack settings,
 * so a wrong stack fails at preview with the stack's key, not later inside the balancer.
 */
export function balancerConfigIssues(
  config: Pick<StackConfig, "tenants" | "bbb">,
): { path: PropertyKey[]; message: string }[] {
  const secrets: BalancerSecretValues = {
    tenantSecrets: Object.fromEntries(config.tenants.map((tenant) => [tenant.slug, [shapeCheckSecret]])),
    nodeSecrets: Object.fromEntries(config.bbb.nodes.map((node) => [node.id, shapeCheckSecret])),
  };
  const result = balancerConfigSchema.safeParse(buildBalancerConfig(config, secrets));
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ path: stackPathOf(issue.path), message: issue.message }));
}
