import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { z } from "zod";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";

/**
 * The balancer's configuration file: tenants, clusters and nodes. The Pulumi program renders this same file
 * into a Kubernetes Secret, so the schema and its types are this package's public contract.
 * Everything that varies per process (Redis URL, listen address, base domain, trusted proxies) comes from the
 * environment instead (see `env.ts`).
 */

export const checksumAlgorithms = ["sha1", "sha256", "sha384", "sha512"] as const;
export type ChecksumAlgorithm = (typeof checksumAlgorithms)[number];

export const nodeStates = ["enabled", "cordoned", "draining", "disabled", "panic"] as const;
export type NodeState = (typeof nodeStates)[number];

/** A DNS label, so a tenant slug can be the first label of its API host name. */
const slug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, {
    error: "must be 1..32 characters of a-z, 0-9 and '-', not starting or ending with '-'",
  });

/** Shared secrets are the only credential of the BBB API: refuse ones too short to resist guessing. */
const sharedSecret = z.string().min(16, { error: "must be at least 16 characters" });

const positiveInt = z.int().positive();

export const policyModes = ["block", "setIfAbsent", "override"] as const;
export type PolicyMode = (typeof policyModes)[number];

/** What the balancer does with one API parameter before the call reaches a node (B3LB's parameter modes). */
export const parameterPolicySchema = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("block") }),
  z.strictObject({ mode: z.literal("setIfAbsent"), value: z.string() }),
  z.strictObject({ mode: z.literal("override"), value: z.string() }),
]);
export type ParameterPolicy = z.infer<typeof parameterPolicySchema>;

/** BBB parameter names: letters, digits, '_' and '-' (meta_ tags included). */
const parameterName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, { error: "must be a BBB parameter name" });

export const parameterPoliciesSchema = z
  .strictObject({
    create: z.record(parameterName, parameterPolicySchema).default({}),
    join: z.record(parameterName, parameterPolicySchema).default({}),
  })
  .prefault({});
export type ParameterPolicies = z.infer<typeof parameterPoliciesSchema>;

export const limitsSchema = z
  .strictObject({
    /** Concurrent meetings; a create beyond it is refused. Unset: unlimited. */
    maxMeetings: positiveInt.optional(),
    /**
     * Attendees across all meetings (for a secret: of the meetings created with it), counted as they join: a join
     * beyond it is refused (`maxParticipantsReached`), and so is a create while it is reached. Unset: unlimited.
     */
    maxAttendees: positiveInt.optional(),
  })
  .prefault({});
export type Limits = z.infer<typeof limitsSchema>;

/** A tenant secret: the bare string, or an object that also carries limits for the requests signed with it. */
export const tenantSecretSchema = z.preprocess(
  // The bare string is read as the object, so a problem with either names what is wrong, not "invalid input".
  (value) => (typeof value === "string" ? { secret: value } : value),
  z.strictObject({ secret: sharedSecret, limits: limitsSchema }),
);
export type TenantSecret = z.infer<typeof tenantSecretSchema>;

export const tenantSchema = z.strictObject({
  slug,
  /** Any of these verifies a request: add the new one, move clients over, then drop the old one. */
  secrets: z.array(tenantSecretSchema).min(1, { error: "must list at least one secret" }),
  /** Clusters whose nodes may host this tenant's meetings. */
  clusters: z.array(slug).min(1, { error: "must list at least one cluster" }).default(["default"]),
  limits: limitsSchema,
  policies: parameterPoliciesSchema,
  /**
   * Set: playback URLs in this tenant's getRecordings carry a signed token valid for `tokenSeconds`, and playback
   * files are refused without it (docs/recordings.md). Unset: anyone with a recording's URL can play it, as on BBB.
   */
  protectedPlayback: z
    .strictObject({ tokenSeconds: z.int({ error: "must be a whole number of seconds" }).min(60).max(7 * 86_400).default(4 * 3_600) })
    .optional(),
  /** Logo URL set on every create of this tenant unless the request sets one. */
  logo: z.url({ protocol: /^https?$/ }).optional(),
  /** Presentation preloaded on every create of this tenant that brings none of its own. */
  presentation: z.url({ protocol: /^https?$/ }).optional(),
  /** Days a recording is kept after its meeting ended, then deleted by the importer; unset: kept until deleted. */
  recordingRetentionDays: z.int({ error: "must be a whole number of days" }).min(1, { error: "must be at least 1 day (leave it unset to keep recordings)" }).max(36_500).optional(),
});
export type Tenant = z.infer<typeof tenantSchema>;

/** B3LB's load formula: load = attendeeFactor*attendees + meetingFactor*meetings + cpuMax/cpuOrder * sum_{n=1..cpuOrder} (cpu/10000)^n. */
export const loadTunablesSchema = z
  .strictObject({
    attendeeFactor: z.number().nonnegative().default(1),
    meetingFactor: z.number().nonnegative().default(30),
    cpuMax: z.number().nonnegative().default(5000),
    cpuOrder: z.int().min(1).max(32).default(6),
  })
  .prefault({});
export type LoadTunables = z.infer<typeof loadTunablesSchema>;

export const clusterSchema = z.strictObject({
  name: slug,
  load: loadTunablesSchema,
});
export type Cluster = z.infer<typeof clusterSchema>;

export const nodeSchema = z.strictObject({
  /** Stable identifier, used in Redis keys, metrics and the admin API. */
  id: slug,
  /** The node's API base, e.g. `https://bbb1.example.org/bigbluebutton/api/`. */
  url: z
    .url({ protocol: /^https?$/ })
    .transform((url) => (url.endsWith("/") ? url : `${url}/`)),
  secret: sharedSecret,
  cluster: slug.default("default"),
  /** Optional CPU figure (0..10000 as text), as B3LB's node agent serves it. */
  loadUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** State when the node is first seen; later changes live in Redis and are made with the admin API or CLI. */
  state: z.enum(["enabled", "cordoned", "disabled"]).default("enabled"),
  /** Hash used to sign requests to this node. */
  checksumAlgorithm: z.enum(checksumAlgorithms).default("sha256"),
  /**
   * Scales what the node's meetings and attendees add to its load (Scalelite's load multiplier): 0.5 for a node
   * twice the size of the others, 2 for one half their size. The CPU term is a share of the node already.
   */
  loadMultiplier: z.number().positive().max(100).default(1),
  /** Scalelite's server tag: creates asking for it with `meta_server-tag` go here (see docs/fleet-operations.md). */
  tag: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, { error: "must be 1..64 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'" })
    .refine((tag) => tag !== "none", { error: '"none" is what a create asks for to get an untagged node; leave the tag out instead' })
    .optional(),
});
export type BbbNode = z.infer<typeof nodeSchema>;

export const checksumSettingsSchema = z
  .strictObject({
    /** Algorithms accepted from clients; the algorithm is told by the checksum's length, as bbb-web does. */
    allowed: z.array(z.enum(checksumAlgorithms)).min(1, { error: "must allow at least one algorithm" }).default([...checksumAlgorithms]),
  })
  .prefault({});

export const pollerSettingsSchema = z
  .strictObject({
    intervalSeconds: z.number().min(1).max(300).default(10),
    timeoutMs: z.int().min(100).max(60_000).default(5_000),
    concurrency: z.int().min(1).max(1_000).default(64),
    /** Consecutive failed polls after which a node gets no new meetings and its meetings are released. */
    unhealthyAfter: z.int().min(1).max(100).default(2),
    /** Consecutive successful polls after which an unhealthy node takes meetings again. */
    healthyAfter: z.int().min(1).max(100).default(1),
    /**
     * Which copy of a meeting runs on when polls find it on two nodes (a create retried elsewhere after a node
     * hung, then woke): `mostAttendees` keeps the copy with more attendees (the mapped one on a tie) and ends the
     * other, `mapped` keeps the copy joins are sent to, `report` ends neither and only reports both.
     */
    duplicateMeetings: z.enum(["mostAttendees", "mapped", "report"]).default("mostAttendees"),
  })
  .prefault({});

export const placementSettingsSchema = z
  .strictObject({
    /** Nodes one create may try: a node that does not answer the create is left for the next least-loaded one. */
    createAttempts: z.int().min(1).max(5).default(3),
    /** A create ends within this, every attempt included (each node call also within `poller.timeoutMs`). */
    createBudgetMs: z.int().min(100).max(120_000).default(10_000),
    /**
     * A node that failed a create gets no new meetings for this long, on every replica, without waiting for the
     * poller to find it down. 0: only the failed create itself moves on.
     */
    holdOutSeconds: z.number().min(0).max(3_600).default(30),
  })
  .prefault({});
export type PlacementSettings = z.infer<typeof placementSettingsSchema>;

/** `address/prefix`, IPv4 or IPv6. */
const cidr = z.string().refine(
  (text) => {
    const [address = "", prefix, ...rest] = text.split("/");
    const family = isIP(address);
    return family !== 0 && rest.length === 0 && prefix !== undefined && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  },
  { error: "must be a network in CIDR notation, e.g. 10.20.0.0/16 or fd00::/8" },
);

/** Tenants' webhooks (bbb-webhooks' API, relayed from the nodes' own bbb-webhooks); see docs/webhooks.md. */
export const webhookSettingsSchema = z
  .strictObject({
    /** Serve hooks/create|list|destroy and register the balancer as a hook on every node (bbb-webhooks >= 3.4.0). */
    enabled: z.boolean().default(false),
    /** Private, loopback and link-local networks a tenant's callbackURL may still reach (all others are refused). */
    allowedCallbackNetworks: z.array(cidr).default([]),
    /** One delivery attempt ends within this (bbb-webhooks' `requestTimeout`). */
    requestTimeoutMs: z.int().min(100).max(60_000).default(5_000),
    /** Waits between attempts; after the last, the hook is removed, as bbb-webhooks does (`retryIntervals`). */
    retryIntervalsMs: z.array(z.int().min(1).max(600_000)).max(20).default([100, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 30_000, 60_000, 60_000, 60_000, 60_000]),
    /** Hash of the checksum on deliveries to tenants (bbb-webhooks' `hookChecksumAlgorithm`). */
    checksumAlgorithm: z.enum(checksumAlgorithms).default("sha1"),
    maxHooksPerTenant: z.int().min(1).max(10_000).default(100),
    /** Events waiting for one hook beyond this are dropped, oldest first: a dead hook cannot grow memory. */
    maxQueuedEventsPerHook: z.int().min(1).max(100_000).default(1_000),
    /** A node's event stamped longer ago than this is refused as a replay. */
    maxEventAgeSeconds: z.int().min(10).max(86_400).default(900),
  })
  .prefault({});
export type WebhookSettings = z.infer<typeof webhookSettingsSchema>;

export const balancerConfigSchema = z
  .strictObject({
    tenants: z.array(tenantSchema).min(1, { error: "must list at least one tenant" }),
    clusters: z.array(clusterSchema).prefault([{ name: "default" }]),
    nodes: z.array(nodeSchema).default([]),
    checksum: checksumSettingsSchema,
    /** Parameter policies for every tenant; a tenant's own policy for the same parameter wins. */
    policies: parameterPoliciesSchema,
    poller: pollerSettingsSchema,
    placement: placementSettingsSchema,
    webhooks: webhookSettingsSchema,
    /** The BigBlueButton version the nodes run (e.g. `3.0.4`), shown in the version document's `bbbVersion`. */
    bbbVersion: z
      .string()
      .regex(/^\d+\.\d+(?:\.\d+)?(?:-[A-Za-z0-9.]+)?$/, { error: "must be a version such as 3.0 or 3.0.4" })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const clusterNames = new Set<string>();
    config.clusters.forEach((cluster, i) => {
      if (clusterNames.has(cluster.name)) {
        ctx.addIssue({ code: "custom", path: ["clusters", i, "name"], message: `duplicate cluster "${cluster.name}"` });
      }
      clusterNames.add(cluster.name);
    });
    const slugs = new Set<string>();
    config.tenants.forEach((tenant, i) => {
      if (slugs.has(tenant.slug)) {
        ctx.addIssue({ code: "custom", path: ["tenants", i, "slug"], message: `duplicate tenant "${tenant.slug}"` });
      }
      slugs.add(tenant.slug);
      tenant.clusters.forEach((name, j) => {
        if (!clusterNames.has(name)) {
          ctx.addIssue({
            code: "custom",
            path: ["tenants", i, "clusters", j],
            message: `unknown cluster "${name}" (clusters: ${[...clusterNames].join(", ") || "none"})`,
          });
        }
      });
    });
    const nodeIds = new Set<string>();
    config.nodes.forEach((node, i) => {
      if (nodeIds.has(node.id)) {
        ctx.addIssue({ code: "custom", path: ["nodes", i, "id"], message: `duplicate node "${node.id}"` });
      }
      nodeIds.add(node.id);
      if (!clusterNames.has(node.cluster)) {
        ctx.addIssue({
          code: "custom",
          path: ["nodes", i, "cluster"],
          message: `unknown cluster "${node.cluster}" (clusters: ${[...clusterNames].join(", ") || "none"})`,
        });
      }
    });
  });

/** What the balancer works with: every default filled in. */
export type BalancerConfig = z.infer<typeof balancerConfigSchema>;
/** What a config file may say: the Pulumi program renders this. */
export type BalancerConfigInput = z.input<typeof balancerConfigSchema>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** `tenants[1].secrets` style, the way a person points at a key in a file. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    return out === "" ? String(key) : `${out}.${String(key)}`;
  }, "");
}

/** One line naming the first offending key and what is allowed there. */
export function describeIssue(error: z.ZodError, source: string): string {
  const issue = error.issues[0];
  if (issue === undefined) return `${source}: invalid`;
  const where = formatIssuePath(issue.path);
  return `${source}: ${where === "" ? "(top level)" : where}: ${issue.message}`;
}

export function parseBalancerConfig(input: unknown, source = "balancer config"): BalancerConfig {
  const result = balancerConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(describeIssue(result.error, source));
  return result.data;
}

/** Parses YAML (JSON being a subset of it) text into a validated config. */
export function parseBalancerConfigText(text: string, source = "balancer config"): BalancerConfig {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${source}: not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`);
  }
  return parseBalancerConfig(document, source);
}

export async function loadBalancerConfigFile(path: string): Promise<BalancerConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`${path}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseBalancerConfigText(text, path);
}

/** The file the Pulumi program writes into the balancer's Secret; validated first, so a bad stack fails at preview. */
export function renderBalancerConfigFile(config: BalancerConfigInput): string {
  parseBalancerConfig(config, "rendered balancer config");
  return stringifyYaml(config, { lineWidth: 0 });
}
