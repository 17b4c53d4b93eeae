import { signQuery } from "../balancer/src/bbb/checksum.js";
import type { BalancerConfigInput } from "../balancer/src/config/schema.js";
import type { SimulatedNodeSpec } from "../balancer/src/simulator/index.js";

/**
 * The benchmark's world: tenants, a fleet of simulated nodes, and signed API paths, derived from a few numbers
 * so the runner and its child processes (simulator, balancer, pollers) agree without passing lists around.
 */

export interface BenchTenant {
  readonly slug: string;
  readonly secret: string;
}

/** `joins` takes the join and create load; `listing` holds the meetings getMeetings lists. */
export const benchTenants = {
  joins: { slug: "alpha", secret: "bench-alpha-secret-0123456789" },
  listing: { slug: "bravo", secret: "bench-bravo-secret-0123456789" },
} as const satisfies Record<string, BenchTenant>;

export function fleetNodes(count: number): SimulatedNodeSpec[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => {
    const id = `node-${String(i + 1).padStart(width, "0")}`;
    return { id, secret: `${id}-bench-secret-0123456789` };
  });
}

/** A simulated node's API base as the simulator serves it: one HTTP server, one path prefix per node. */
export function simulatedNodeUrl(simulatorOrigin: string, nodeId: string): string {
  return `${simulatorOrigin}/${encodeURIComponent(nodeId)}/bigbluebutton/api/`;
}

export function balancerConfig(nodes: readonly SimulatedNodeSpec[], simulatorOrigin: string): BalancerConfigInput {
  return {
    tenants: Object.values(benchTenants).map(({ slug, secret }) => ({ slug, secrets: [secret] })),
    nodes: nodes.map(({ id, secret }) => ({ id, secret, url: simulatedNodeUrl(simulatorOrigin, id) })),
  };
}

/** A path-based API call of a tenant (`/t/<tenant>/bigbluebutton/api/<call>?...`), signed as a BBB client signs it. */
export function signedApiPath(tenant: BenchTenant, call: string, params: Readonly<Record<string, string>>): string {
  const query = new URLSearchParams(params).toString();
  return `/t/${tenant.slug}/bigbluebutton/api/${call}?${signQuery(call, query, tenant.secret, "sha256")}`;
}

export function meetingId(prefix: string, index: number): string {
  return `${prefix}-${index}`;
}

export function createPath(tenant: BenchTenant, id: string): string {
  return signedApiPath(tenant, "create", { name: `Bench ${id}`, meetingID: id, record: "false" });
}

export function joinPath(tenant: BenchTenant, id: string, user: number): string {
  return signedApiPath(tenant, "join", { fullName: `Attendee ${user}`, meetingID: id, role: "VIEWER" });
}

export function getMeetingsPath(tenant: BenchTenant): string {
  return signedApiPath(tenant, "getMeetings", {});
}
