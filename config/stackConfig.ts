import { z } from "zod";
import {
  ConfigError,
  balancerConfigSchema,
  formatIssuePath,
  nodeSchema,
  tenantSchema,
} from "@mediaplane/balancer/config";
import { defaultImages, imagePinProblem } from "../components/k8s/versions.js";
import { balancerConfigIssues } from "./balancerConfig.js";
import { fleetConfigIssues } from "./bbbFleet.js";
import { bbbReleaseNames } from "../components/bbb/versions.js";

/**
 * The stack configuration: every `mediaplane:<key>` of a `stacks/Pulumi.<stack>.yaml`, parsed once into typed
 * settings with defaults. Secrets are not part of it (see `secrets.ts`): they are Pulumi secrets read separately,
 * so no secret value ever lives in a stack file or in these plain objects.
 * Tenants, BBB clusters, nodes and their tunables reuse the balancer's own schema pieces.
 */

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
    error: "must be a lower-case DNS name such as api.example.org",
  });

/** Short, DNS- and Azure-safe name stem for every cloud resource of the stack. */
const namePrefix = z.string().regex(/^[a-z][a-z0-9-]{1,14}[a-z0-9]$/, {
  error: "must be 3..16 characters of a-z, 0-9 and '-', starting with a letter",
});

const port = z.int().min(1).max(65_535);

const portRange = z
  .strictObject({ min: port, max: port })
  .refine((range) => range.min <= range.max, { error: "min must not exceed max" });
export type PortRange = z.infer<typeof portRange>;

const cidr = z.string().regex(/^(?:\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-f:]+\/\d{1,3}$/i, {
  error: "must be a CIDR such as 203.0.113.0/24",
});

/** A pinned image reference (the workloads' own rule: a release tag or a digest, never a moving tag). */
const imageReference = z.string().superRefine((reference, ctx) => {
  const problem = imagePinProblem(reference);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

const cpuQuantity = z.string().regex(/^\d+(?:\.\d+)?m?$/, { error: 'must be a CPU quantity such as "500m" or "2"' });
const memoryQuantity = z.string().regex(/^\d+(?:Ki|Mi|Gi|Ti)$/, { error: 'must be a memory quantity such as "512Mi" or "2Gi"' });

/** Container requests and limits; unset: the workload's own tested defaults. */
const sizing = z
  .strictObject({
    cpuRequest: cpuQuantity,
    memoryRequest: memoryQuantity,
    cpuLimit: cpuQuantity,
    memoryLimit: memoryQuantity,
  })
  .optional();
export type SizingSettings = z.infer<typeof sizing>;

const zone = z.enum(["1", "2", "3"]);

const nodePool = z
  .strictObject({
    /** Azure VM size of the pool's nodes. */
    vmSize: z.string().min(1),
    /** Autoscaler lower bound. */
    minCount: z.int().min(0).max(1000),
    /** Autoscaler upper bound. */
    maxCount: z.int().min(1).max(1000),
    /** Availability zones to spread the pool over; empty: no zone pinning. */
    zones: z.array(zone).default([]),
    osDiskSizeGb: z.int().min(30).max(2048).default(128),
  })
  .refine((pool) => pool.minCount <= pool.maxCount, { error: "minCount must not exceed maxCount" });
export type NodePoolSettings = z.infer<typeof nodePool>;

const azureCluster = z.strictObject({
  provider: z.literal("azure"),
  /** Azure region, e.g. westeurope. */
  location: z.string().regex(/^[a-z0-9]+$/, { error: "must be an Azure region name such as westeurope" }),
  namePrefix,
  /** Pinned AKS version (minor or patch): upgrades are a deliberate config change. */
  kubernetesVersion: z.string().regex(/^\d+\.\d+(?:\.\d+)?$/, { error: "must be a version such as 1.33 or 1.33.2" }),
  networkPolicy: z.enum(["calico", "azure", "cilium"]).default("calico"),
  /** Pod address range (Azure CNI overlay); the balancer trusts forwarded headers only from it, where traefik runs. */
  podCidr: cidr.default("10.244.0.0/16"),
  /** AKS control plane tier: Standard has the uptime SLA. */
  skuTier: z.enum(["Free", "Standard"]).default("Free"),
  systemPool: nodePool,
  /** Media nodes: public IP per node, host ports for RTP/TURN open, tainted for media workloads only. */
  mediaPool: nodePool,
  /**
   * Where `pulumi up` and operators run: the only sources the Kubernetes API and the registry's firewall accept
   * (besides the cluster's own egress address). Required: an API server open to the internet is not an option.
   */
  apiServerAuthorizedIpRanges: z.array(cidr).min(1, { error: "must list where pulumi up and operators run (the API server and registry accept nobody else)" }),
  /** Entra ID groups made cluster admins (Azure RBAC; local accounts are off). The identity running `pulumi up` is admin too. */
  adminGroupObjectIds: z.array(z.uuid()).default([]),
  /** Team or person answerable for the stack's Azure resources: their `owner` tag. */
  owner: z.string().regex(/^[^<>%&\\?/]{1,256}$/, { error: "must be 1..256 characters, none of < > % & \\ ? /" }),
  recordingStorageSku: z.enum(["Standard_LRS", "Standard_ZRS", "Standard_GRS"]).default("Standard_LRS"),
});
export type AzureClusterSettings = z.infer<typeof azureCluster>;

const kubeContextCluster = z.strictObject({
  provider: z.literal("kubeContext"),
  /** kubeconfig context to deploy into; unset: the current context. */
  context: z.string().min(1).optional(),
  /** Pod address ranges of the cluster (kind: 10.244.0.0/16, k3d: 10.42.0.0/16); forwarded headers are trusted from them. */
  podCidrs: z.array(cidr).min(1).default(["10.244.0.0/16", "10.42.0.0/16"]),
  /** StorageClass for persistent volumes (recordings, Redis, ACME); unset: the cluster's default class. */
  storageClass: z.string().min(1).optional(),
  /**
   * The kind or k3d cluster the images the program builds are imported into (the nodes cannot see the local
   * engine's images). Needed whenever the stack builds an image (balancer or Janus not pinned under `images`).
   */
  imageImport: z
    .strictObject({ tool: z.enum(["kind", "k3d"]), clusterName: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: "must be a kind/k3d cluster name" }) })
    .optional(),
});
export type KubeContextClusterSettings = z.infer<typeof kubeContextCluster>;

const cluster = z.discriminatedUnion("provider", [azureCluster, kubeContextCluster]);

const domains = z.strictObject({
  /** BBB API base: tenants get `<slug>.<apiBase>` and `<apiBase>/t/<slug>/`. */
  apiBase: hostname,
  jitsi: hostname,
  janus: hostname,
  turn: hostname,
});

const acme = z.strictObject({
  email: z.email(),
  /** ACME directory; Let's Encrypt production unless a staging directory is set. */
  server: z.url({ protocol: /^https$/ }).default("https://acme-v02.api.letsencrypt.org/directory"),
  /** RFC2136 primary name server as host:port. */
  nameserver: z.string().regex(/^[A-Za-z0-9.:[\]-]+:\d{1,5}$/, { error: "must be host:port of the RFC2136 name server" }),
  tsigKeyName: z.string().min(1),
  // The algorithms both cert-manager's RFC2136 solver and nsupdate sign with (cert-manager has no HMAC-SHA384).
  tsigAlgorithm: z.enum(["hmac-sha256.", "hmac-sha512."]).default("hmac-sha512."),
});

const ingress = z
  .strictObject({
    /** Sources allowed to reach the admin API, metrics and dashboards. Empty: nobody from outside the cluster. */
    adminAllowList: z.array(cidr).default([]),
    /** traefik pods: they hold no state (certificates live in Secrets), so any number serve any host. */
    replicas: z.int().min(1).max(20).default(2),
  })
  .prefault({});

const tenant = tenantSchema.omit({ secrets: true }).extend({
  /** How many API secrets exist at once: 2 during a rollover (clients move to the new one, then the old one goes). */
  secretCount: z.int().min(1).max(4).default(1),
  /** Number of the oldest live secret; raise it by one to retire the oldest after a rollover. Secrets keep their numbers. */
  firstSecret: z.int().min(1).max(1000).default(1),
});
export type TenantSettings = z.infer<typeof tenant>;

const bbbNode = nodeSchema.omit({ secret: true });
export type BbbNodeSettings = z.infer<typeof bbbNode>;

const bbbFleetGroup = z.strictObject({
  /** Node ids are `<name>-<n>` (n from 1), their host names `<name>-<n>.<fleet.domain>`. */
  name: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,26}[a-z0-9])?$/, {
    error: "must be 1..28 characters of a-z, 0-9 and '-', not starting or ending with '-'",
  }),
  /** The balancer cluster (`bbb.clusters[].name`) the nodes serve. */
  cluster: z.string().min(1).default("default"),
  count: z.int().min(0).max(200),
  /** Azure VM size; BigBlueButton wants at least 8 cores and 16 GB. */
  vmSize: z.string().min(1),
  zone: zone.optional(),
  /** Pinned BigBlueButton release; it decides the Ubuntu release of the VMs. */
  bbbVersion: z.enum(bbbReleaseNames),
  osDiskSizeGb: z.int().min(64).max(4095).default(256),
});

/** BBB nodes the stack creates and installs itself (Azure VMs), beside the referenced `bbb.nodes`. */
const bbbFleet = z.strictObject({
  /** Nodes are `<group>-<n>.<domain>`. */
  domain: hostname,
  /** Login of the remote commands; SSH is open only to `ingress.adminAllowList`. */
  adminUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: "must be a Linux user name (a-z, 0-9, '_', '-')" }).default("mediaplane"),
  /** Public half of the key in the `bbbSshPrivateKey` secret. */
  sshPublicKey: z.string().regex(/^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)) [A-Za-z0-9+/]+={0,2}(?: \S.*)?$/, {
    error: "must be an OpenSSH public key line such as ssh-ed25519 AAAA... ops@example.org",
  }),
  drain: z
    .strictObject({
      /** How long a node being replaced or removed may take to empty before its deletion fails (or panics). */
      timeoutMinutes: z.int().min(1).max(1440).default(60),
      /** The operator's consent to end the meetings still running when the drain times out. */
      panicOnTimeout: z.boolean().default(false),
    })
    .prefault({}),
  groups: z.array(bbbFleetGroup).min(1, { error: "must list at least one group of nodes" }),
});
export type BbbFleetSettings = z.infer<typeof bbbFleet>;
export type BbbFleetGroupSettings = z.infer<typeof bbbFleetGroup>;

const bbb = z
  .strictObject({
    clusters: balancerConfigSchema.shape.clusters,
    nodes: z.array(bbbNode).default([]),
    checksum: balancerConfigSchema.shape.checksum,
    policies: balancerConfigSchema.shape.policies,
    poller: balancerConfigSchema.shape.poller,
    placement: balancerConfigSchema.shape.placement,
    /** Tenants' webhooks (docs/webhooks.md); off unless `enabled`. */
    webhooks: balancerConfigSchema.shape.webhooks,
    fleet: bbbFleet.optional(),
  })
  .prefault({});
export type BbbSettings = z.infer<typeof bbb>;

/** A and wildcard records of the stack's hosts, written over RFC2136 to `acme.nameserver` with the ACME TSIG key. */
const dns = z.strictObject({
  /** The zone that server serves; every managed name lies in it. */
  zone: hostname,
  ttlSeconds: z.int().min(30).max(86_400).default(300),
});
export type DnsSettings = z.infer<typeof dns>;

const balancer = z
  .strictObject({
    /** API replicas when autoscaling is off; the HPA's starting point otherwise. */
    replicas: z.int().min(1).max(100).default(2),
    autoscaling: z
      .strictObject({
        minReplicas: z.int().min(1).max(100),
        maxReplicas: z.int().min(1).max(100),
        targetCpuPercent: z.int().min(10).max(100).default(70),
      })
      .refine((hpa) => hpa.minReplicas <= hpa.maxReplicas, { error: "minReplicas must not exceed maxReplicas" })
      .optional(),
    sizing,
  })
  .prefault({});

const redis = z
  .discriminatedUnion("mode", [
    z.strictObject({
      mode: z.literal("inCluster"),
      maxmemoryMb: z.int().min(32).max(65_536).default(256),
      storageGi: z.int().min(1).max(1024).default(2),
    }),
    z
      .strictObject({
        mode: z.literal("managed"),
        sku: z.enum(["Basic", "Standard", "Premium"]).default("Standard"),
        /** C for Basic and Standard, P for Premium. */
        family: z.enum(["C", "P"]).default("C"),
        capacity: z.int().min(0).max(6).default(1),
        /**
         * Premium only: a clustered cache of this many shards. The balancer then speaks the Redis Cluster protocol
         * (`rediss+cluster://`); each of its scripts keeps to one hash tag, so it runs unchanged on shards.
         */
        shardCount: z.int().min(1).max(10).optional(),
      })
      .superRefine((managed, ctx) => {
        const family = managed.sku === "Premium" ? "P" : "C";
        if (managed.family !== family) ctx.addIssue({ code: "custom", path: ["family"], message: `must be "${family}" for sku "${managed.sku}"` });
        if (managed.shardCount !== undefined && managed.sku !== "Premium") {
          ctx.addIssue({ code: "custom", path: ["shardCount"], message: 'needs sku "Premium" (only Premium caches are clustered)' });
        }
      }),
  ])
  .prefault({ mode: "inCluster" });
export type RedisSettings = z.infer<typeof redis>;

/** Who may open a Jitsi room; default: prosody accounts (a stack must opt out to let anyone with a link in). */
const jitsiAuthentication = z
  .discriminatedUnion(
    "type",
    [
      /** Anyone with the link opens and joins rooms. */
      z.strictObject({ type: z.literal("none") }),
      /** Accounts in prosody (`prosodyctl register`); `guests`: others may join a room once a signed-in host opened it. */
      z.strictObject({ type: z.literal("internal"), guests: z.boolean().default(true) }),
      /**
       * Tokens (HS256) signed with the stack's `jitsiJwtSecret` output by the application that sends people to Jitsi;
       * `appId` is the `iss`/app_id the tokens carry. `guests`: people without a token may join opened rooms.
       */
      z.strictObject({
        type: z.literal("jwt"),
        appId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: "must be 1..64 characters of A-Z, a-z, 0-9, '.', '_', '-'" }),
        guests: z.boolean().default(false),
      }),
    ],
    { error: 'must have type "none", "internal" or "jwt"' },
  )
  .prefault({ type: "internal" });

/** An origin allowed to embed Jitsi in a frame (CSP frame-ancestors). */
const embeddingOrigin = z.string().regex(/^https:\/\/(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?::\d{1,5})?$/, {
  error: "must be an https origin such as https://app.example.org (scheme and host, no path or trailing slash)",
});

const jitsi = z
  .strictObject({
    enabled: z.boolean().default(false),
    webReplicas: z.int().min(1).max(20).default(1),
    authentication: jitsiAuthentication,
    /** Origins whose pages may show Jitsi in a frame; empty: none may. */
    embeddingOrigins: z.array(embeddingOrigin).default([]),
    /**
     * Lifetime of the TURN credentials prosody hands to a participant. coturn checks it on every refresh of a
     * relay, so it bounds how long a relayed call can last; far below the image's default of a day.
     */
    turnCredentialTtlSeconds: z.int().min(600).max(86_400).default(14_400),
    jvb: z
      .strictObject({
        replicas: z.int().min(1).max(100).default(1),
        /** loadBalancer: one UDP port per bridge behind the JVB static IP; hostPort: one bridge per media node on its public IP. */
        exposure: z.enum(["loadBalancer", "hostPort"]).default("loadBalancer"),
        /** First UDP media port; bridge n uses udpPort + n with loadBalancer exposure. */
        udpPort: port.default(10_000),
        /** Participants after which jicofo prefers another bridge. */
        maxParticipantsPerBridge: z.int().min(1).max(1000).optional(),
        /**
         * Relays (secure octo): a conference larger than one bridge continues on another, the bridges cascading
         * media over ICE/DTLS between them. Default: on when there is more than one bridge.
         */
        relays: z.boolean().optional(),
        sizing,
      })
      .prefault({}),
  })
  .prefault({});

const janus = z
  .strictObject({
    enabled: z.boolean().default(false),
    replicas: z.int().min(1).max(100).default(1),
    /** Fixed RTP range, opened as host ports on the media nodes' public IPs. */
    rtpPortRange: portRange.default({ min: 20_000, max: 20_999 }),
    recording: z.boolean().default(true),
    sizing,
  })
  .prefault({});

const turn = z
  .strictObject({
    enabled: z.boolean().default(true),
    // No replica count: relay ports behind the one TURN IP cannot be shared by several coturn processes.
    relayPortRange: portRange.default({ min: 49_152, max: 49_407 }),
    /** TURN over TLS on 443 with a certificate the stack issues for the TURN host; default: on whenever `acme` is set. */
    tls: z.boolean().optional(),
    /**
     * TCP relays (RFC 6062) towards peers: off, since media needs UDP relays only and a TCP relay lets any holder of
     * credentials open connections to arbitrary public services from the TURN IP. Clients reach TURN over TCP either way.
     */
    tcpRelay: z.boolean().default(false),
    sizing,
  })
  .prefault({});

const recordings = z
  .strictObject({
    /** Size of the recordings share (Azure Files quota or the PVC request), GiB. */
    quotaGi: z.int().min(1).max(102_400).default(100),
  })
  .prefault({});

const labelKey = z.string().regex(/^(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/, {
  error: "must be a Kubernetes label key such as release or app.kubernetes.io/name",
});
const labelValue = z.string().regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/, { error: "must be a Kubernetes label value (63 characters of A-Z, a-z, 0-9, . _ -)" });
const namespaceName = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, { error: "must be a namespace name (a DNS label)" });

const monitoring = z
  .strictObject({
    /** ServiceMonitor and PodMonitor objects for the balancer, its pollers, traefik and Redis; unset: none. */
    prometheusOperator: z
      .strictObject({
        /** Apply the pinned ServiceMonitor/PodMonitor CRDs; false when the operator's installation brings them. */
        installCrds: z.boolean().default(true),
        /** Labels the Prometheus resource's monitor selectors match (kube-prometheus-stack: `release: <its release>`). */
        selectorLabels: z.record(labelKey, labelValue).default({}),
        scrapeInterval: z.string().regex(/^[1-9]\d*(?:s|m)$/, { error: 'must be a duration such as "30s" or "1m"' }).default("30s"),
        /** The Prometheus pods: the only pods the NetworkPolicies admit to the metrics ports. */
        prometheusPods: z
          .strictObject({ namespace: namespaceName, podLabels: z.record(labelKey, labelValue) })
          .default({ namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } }),
      })
      .optional(),
    /** The Grafana dashboard as a ConfigMap for Grafana's dashboard sidecar; unset: none. */
    grafanaDashboards: z
      .strictObject({
        namespace: namespaceName,
        /** What the sidecar selects ConfigMaps by (the Grafana chart's default: `grafana_dashboard: "1"`). */
        labels: z.record(labelKey, labelValue).default({ grafana_dashboard: "1" }),
      })
      .optional(),
  })
  .prefault({});

/** Upstream images default to the versions the workloads are tested with; our own images are built unless pinned here. */
const images = z
  .strictObject({
    traefik: imageReference.default(defaultImages.traefik),
    redis: imageReference.default(defaultImages.redis),
    coturn: imageReference.default(defaultImages.coturn),
    jitsiWeb: imageReference.default(defaultImages.jitsiWeb),
    jitsiProsody: imageReference.default(defaultImages.jitsiProsody),
    jitsiJicofo: imageReference.default(defaultImages.jitsiJicofo),
    jitsiJvb: imageReference.default(defaultImages.jitsiJvb),
    /** The Redis metrics sidecar, run only with `monitoring.prometheusOperator` and an in-cluster Redis. */
    redisExporter: imageReference.default(defaultImages.redisExporter),
    /** A released balancer image; unset: the program builds it from `balancer/`. */
    balancer: imageReference.optional(),
    /** A released Janus image; unset: the program builds it from `images/janus`. */
    janus: imageReference.optional(),
  })
  .prefault({});
export type ImageSettings = z.infer<typeof images>;

export const stackConfigSchema = z
  .strictObject({
    cluster,
    domains,
    /** DNS-01 certificates over RFC2136; unset (laptop stacks): traefik serves its default certificate. */
    acme: acme.optional(),
    ingress,
    tenants: z.array(tenant).min(1, { error: "must list at least one tenant" }),
    bbb,
    balancer,
    redis,
    jitsi,
    janus,
    turn,
    recordings,
    images,
    /** Prometheus Operator monitors and the Grafana dashboard; both off unless set. */
    monitoring,
    /** Records of the stack's hosts; unset: they are managed elsewhere. */
    dns: dns.optional(),
  })
  .superRefine((config, ctx) => {
    for (const issue of balancerConfigIssues(config)) ctx.addIssue({ code: "custom", ...issue });
    for (const issue of fleetConfigIssues(config)) ctx.addIssue({ code: "custom", ...issue });
    if (config.redis.mode === "managed" && config.cluster.provider !== "azure") {
      ctx.addIssue({ code: "custom", path: ["redis", "mode"], message: 'managed Redis needs cluster.provider "azure"; use "inCluster"' });
    }
    const buildsImages = config.images.balancer === undefined || (config.janus.enabled && config.images.janus === undefined);
    if (config.cluster.provider === "kubeContext" && config.cluster.imageImport === undefined && buildsImages) {
      ctx.addIssue({
        code: "custom",
        path: ["cluster", "imageImport"],
        message: 'is required to import the images the stack builds into the cluster, e.g. { tool: kind, clusterName: mediaplane } (or pin images.balancer and images.janus)',
      });
    }
    if (config.turn.enabled && config.turn.tls === true && config.acme === undefined) {
      ctx.addIssue({ code: "custom", path: ["turn", "tls"], message: "needs acme: the TURN host's certificate is issued by DNS-01" });
    }
    if (config.balancer.autoscaling && config.balancer.replicas > config.balancer.autoscaling.maxReplicas) {
      ctx.addIssue({ code: "custom", path: ["balancer", "replicas"], message: "must not exceed autoscaling.maxReplicas" });
    }
  });

export type StackConfig = z.infer<typeof stackConfigSchema>;
/** The top-level keys, each one `mediaplane:<key>` in a stack file. */
export const stackConfigKeys = Object.keys(stackConfigSchema.shape) as (keyof StackConfig)[];

/** `mediaplane:tenants[2].slug` style: the way a user finds the key in the stack file. */
export function formatConfigKey(project: string, path: readonly PropertyKey[]): string {
  return `${project}:${formatIssuePath(path)}`;
}

/** One line per problem, each naming its key: a broken stack file is fixed in one pass, not one error per run. */
function describeStackIssues(error: z.ZodError, project: string): string[] {
  const lines = error.issues.map((issue) => `${formatConfigKey(project, issue.path)}: ${issue.message}`);
  return lines.length === 0 ? [`${project}: invalid stack config`] : [...new Set(lines)];
}

/** Zod's wording for a missing value is about types; users need to hear that the key is missing. */
function missingKeyMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type" && issue.input === undefined) return `is required (${issue.expected})`;
  return undefined;
}

/** The settings, or every problem of the raw values as one line each (key: what is wrong and what is allowed). */
export function stackConfigProblems(
  raw: Readonly<Record<string, unknown>>,
  project: string,
): { settings: StackConfig; problems: [] } | { settings: undefined; problems: string[] } {
  const result = stackConfigSchema.safeParse(raw, { error: missingKeyMessage });
  return result.success ? { settings: result.data, problems: [] } : { settings: undefined, problems: describeStackIssues(result.error, project) };
}

/**
 * Parses the raw values of the top-level keys (as the stack file holds them) into settings with defaults.
 * Throws a ConfigError listing every wrong key, one per line, with what it allows.
 */
export function parseStackConfig(raw: Readonly<Record<string, unknown>>, project: string): StackConfig {
  const { settings, problems } = stackConfigProblems(raw, project);
  if (settings === undefined) throw new ConfigError(problems.join("\n"));
  return settings;
}
