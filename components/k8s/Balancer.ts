import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { tenantHostRegexp } from "./render/traefik.js";
import { appLabels, secretContentHash, disruptionBudgetFor, type ResourceSizing } from "./workload.js";
import { balancerPodTemplate, balancerPorts } from "./balancerPod.js";
import { hostRule, ingressRoute, type IngressBinding } from "./ingress.js";
import { recordingsMountPath, recordingVolume, type RecordingStorage } from "./recordings.js";
import {
  dnsEgressRule,
  internetPeer,
  networkPolicyPeer,
  outsideEgressRules,
  podPortsEgressRule,
  urlEndpoint,
  type PodPeer,
  type PodPorts,
} from "./network.js";

export { balancerPorts };

/**
 * Where the balancer serves `/metrics`: the admin port of the API pods (behind the Service with `serviceLabels`) and
 * of the poller pods, with the admin token as bearer credentials.
 */
export interface BalancerMetricsEndpoints {
  serviceLabels: Record<string, string>;
  pollerPodLabels: Record<string, string>;
  /** Name of the admin port on the Service and the pods. */
  port: string;
  tokenSecret: { name: pulumi.Output<string>; key: string };
}

/** Labels shared by the API and poller pods: what the Redis NetworkPolicy admits. */
export const balancerPodLabels = { "app.kubernetes.io/name": "balancer", "app.kubernetes.io/part-of": "mediaplane" } as const;

/** The balancer's pods in a namespace, as a NetworkPolicy peer. */
export function balancerPods(namespace: pulumi.Input<string>): PodPeer {
  return { namespace, podLabels: { ...balancerPodLabels } };
}

/**
 * Where the balancer's Redis is, for its egress rule: the URL names it, but a NetworkPolicy needs pods or addresses.
 * In the cluster: the Redis pods. Managed: a cache outside the cluster, reached by name (a public address) on its
 * TLS port, whatever the cache reports (6380 for Azure Cache for Redis), and a clustered cache's shard ports.
 */
export type RedisEndpoint =
  | { kind: "inCluster"; target: PodPorts }
  | { kind: "managed"; port: pulumi.Input<number>; shardPorts?: { readonly first: number; readonly last: number } | undefined };

export interface BalancerAutoscaling {
  /** Replicas kept at all times (2 or more keeps the API up through node drains). */
  minReplicas: number;
  /** Upper bound. */
  maxReplicas: number;
  /** Average CPU utilisation (percent of the request) the autoscaler aims for. */
  targetCpuPercent: number;
}

export interface BalancerArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Namespace to run in (must exist). */
  namespace: pulumi.Input<string>;
  /** Balancer image, by digest (built by the program) or a pinned tag. */
  image: pulumi.Input<string>;
  /** The rendered config file (`renderBalancerConfigFile`); it contains tenant and node secrets. */
  configFile: pulumi.Input<string>;
  /** `redis://` or `rediss://` URL with credentials (in-cluster Redis or the managed cache). */
  redisUrl: pulumi.Input<string>;
  /** Where that Redis is, for the egress rule. */
  redisEndpoint: RedisEndpoint;
  /** Every URL the balancer calls on BBB nodes (API bases and load URLs): their hosts and ports become egress rules. */
  nodeUrls: readonly string[];
  /** The cluster's pod ranges: egress outside the cluster excludes them. */
  podCidrs: readonly string[];
  /** API base domain: tenants are `<slug>.<it>`, path-based URLs `https://<it>/t/<slug>/...`. */
  apiBaseDomain: string;
  /** CIDRs whose `X-Forwarded-*` headers are believed: the cluster's pod range, where traefik runs. */
  trustedProxies: readonly string[];
  /** API replicas and their autoscaler. */
  api: { autoscaling: BalancerAutoscaling; sizing?: ResourceSizing };
  /** Poller sizing. */
  poller?: { sizing?: ResourceSizing };
  /** The ingress the routes attach to. */
  ingress: IngressBinding;
  /** Pods allowed to scrape `/metrics` on the admin port directly (e.g. Prometheus), besides traefik. */
  metricsScrapers?: readonly PodPeer[];
  /** The recordings share, mounted read-write in the API pods: publishRecordings, updateRecordings, deleteRecordings change it. */
  recordings?: RecordingStorage;
}

const drainSeconds = 25;
const defaultApiSizing: ResourceSizing = { cpuRequest: "250m", memoryRequest: "192Mi", cpuLimit: "2", memoryLimit: "512Mi" };
const defaultPollerSizing: ResourceSizing = { cpuRequest: "100m", memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "384Mi" };

/**
 * The BigBlueButton API balancer: an autoscaled API Deployment, one poller, their config Secret, the Service and the
 * traefik routes for tenant hosts, path-based tenant URLs and (allow-listed) admin API and metrics.
 */
export class Balancer extends pulumi.ComponentResource {
  /** Token of the admin API: a secret. */
  readonly adminToken: pulumi.Output<string>;
  /** In-cluster Service name. */
  readonly serviceName: pulumi.Output<string>;
  /** Where Prometheus scrapes the balancer's processes. */
  readonly metricsEndpoints: BalancerMetricsEndpoints;
  /** The Secret with `config.yaml`, `redisUrl`, `callbackSecret`, for the balancer's other modes (recordings). */
  readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: BalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:Balancer", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const namespace = args.namespace;
    const { autoscaling } = args.api;
    if (autoscaling.minReplicas < 1 || autoscaling.maxReplicas < autoscaling.minReplicas) {
      throw new Error(`balancer autoscaling: need 1 <= minReplicas <= maxReplicas, got ${autoscaling.minReplicas}..${autoscaling.maxReplicas}`);
    }

    const adminToken = new random.RandomPassword(`${name}-admin-token`, { length: 48, special: false }, { parent: this });
    // Signs end-callback URLs. Without it the balancer derives the key from the node secrets, so adding or removing
    // a node would invalidate every callback of a running meeting; a generated key stays put across updates.
    const callbackSecret = new random.RandomPassword(`${name}-callback-secret`, { length: 48, special: false }, { parent: this });
    // Read once at start as environment variables: a change of any of them needs new pods.
    const startupSecrets = { redisUrl: pulumi.secret(args.redisUrl), adminToken: adminToken.result, callbackSecret: callbackSecret.result };
    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { name: "balancer", namespace, labels: appLabels("balancer", "config") },
        type: "Opaque",
        stringData: { "config.yaml": pulumi.secret(args.configFile), ...startupSecrets },
      },
      child,
    );
    // Rolls the pods when a value read at start changes. The config file is not in it: the balancer watches its
    // mounted copy, which the kubelet updates in place, and switches to a new version without a restart.
    const restartHash = secretContentHash(pulumi.all(startupSecrets).apply((values) => JSON.stringify(Object.entries(values).sort())));

    const { recordings } = args;
    const podTemplate = (mode: "api" | "poller", sizing: ResourceSizing) =>
      balancerPodTemplate({
        mode,
        image: args.image,
        secretName: secret.metadata.name,
        restartHash,
        apiBaseDomain: args.apiBaseDomain,
        sizing,
        env: { TRUSTED_PROXIES: args.trustedProxies.join(","), ...(mode === "api" && recordings !== undefined ? { RECORDINGS_DIR: recordingsMountPath } : {}) },
        adminToken: true,
        ...(mode === "api" ? { servicePort: "api" } : {}),
        ...(mode === "api" && recordings !== undefined
          ? { volumes: [{ volume: recordingVolume("recordings", recordings), mount: { name: "recordings", mountPath: recordingsMountPath, readOnly: false } }] }
          : {}),
        terminationGracePeriodSeconds: drainSeconds + 15,
        // preStop keeps the pod in the endpoints' removal window, then SIGTERM lets in-flight requests finish.
        preStopSeconds: 5,
      });

    const apiLabels = appLabels("balancer", "api");
    const api = new k8s.apps.v1.Deployment(
      `${name}-api`,
      {
        metadata: { name: "balancer-api", namespace, labels: apiLabels },
        spec: {
          // No `replicas`: the HorizontalPodAutoscaler owns the count; declaring it here would reset it on every update.
          selector: { matchLabels: apiLabels },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          minReadySeconds: 5,
          template: podTemplate("api", args.api.sizing ?? defaultApiSizing),
        },
      },
      child,
    );
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-api-hpa`,
      {
        metadata: { name: "balancer-api", namespace, labels: apiLabels },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: api.metadata.name },
          minReplicas: autoscaling.minReplicas,
          maxReplicas: autoscaling.maxReplicas,
          metrics: [
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: autoscaling.targetCpuPercent } } },
          ],
        },
      },
      child,
    );
    disruptionBudgetFor(`${name}-api-pdb`, { namespace, selector: apiLabels, replicas: autoscaling.minReplicas }, child);

    const pollerLabels = appLabels("balancer", "poller");
    new k8s.apps.v1.Deployment(
      `${name}-poller`,
      {
        metadata: { name: "balancer-poller", namespace, labels: pollerLabels },
        spec: {
          replicas: 1,
          // Pollers share the fleet through Redis leases, so old and new overlapping during a rollout is safe.
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          selector: { matchLabels: pollerLabels },
          template: podTemplate("poller", args.poller?.sizing ?? defaultPollerSizing),
        },
      },
      child,
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: "balancer", namespace, labels: apiLabels },
        spec: {
          type: "ClusterIP",
          selector: apiLabels,
          ports: [
            { name: "api", port: balancerPorts.api, targetPort: "api", protocol: "TCP" },
            { name: "admin", port: balancerPorts.admin, targetPort: "admin", protocol: "TCP" },
          ],
        },
      },
      child,
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: { name: "balancer", namespace, labels: apiLabels },
        spec: {
          podSelector: { matchLabels: { ...balancerPodLabels } },
          policyTypes: ["Ingress", "Egress"],
          egress: [
            dnsEgressRule(),
            args.redisEndpoint.kind === "inCluster"
              ? podPortsEgressRule(args.redisEndpoint.target)
              : { to: [internetPeer(args.podCidrs)], ports: managedRedisPorts(args.redisEndpoint) },
            ...outsideEgressRules(args.podCidrs, [
              ...args.nodeUrls.map((url) => urlEndpoint(url)),
              // Tenants' end callbacks go to URLs of their choosing: the web ports of any public address.
              { host: undefined, port: 80, protocol: "TCP" },
              { host: undefined, port: 443, protocol: "TCP" },
            ]),
          ],
          ingress: [
            {
              from: [networkPolicyPeer(args.ingress.traefikPods)],
              ports: [
                { port: balancerPorts.api, protocol: "TCP" },
                { port: balancerPorts.admin, protocol: "TCP" },
              ],
            },
            ...(args.metricsScrapers === undefined || args.metricsScrapers.length === 0
              ? []
              : [{ from: args.metricsScrapers.map(networkPolicyPeer), ports: [{ port: balancerPorts.admin, protocol: "TCP" }] }]),
          ],
        },
      },
      child,
    );

    const base = args.apiBaseDomain;
    const toApi = { kind: "Service", name: service.metadata.name, port: balancerPorts.api } as const;
    ingressRoute(
      `${name}-routes`,
      {
        objectName: "balancer",
        namespace,
        binding: args.ingress,
        labels: apiLabels,
        backends: {
          to: [networkPolicyPeer(balancerPods(namespace))],
          ports: [
            { port: balancerPorts.api, protocol: "TCP" },
            { port: balancerPorts.admin, protocol: "TCP" },
          ],
        },
        routes: [
          { match: `HostRegexp(\`${tenantHostRegexp(base)}\`)`, target: toApi, adminOnly: false },
          { match: `${hostRule(base)} && PathPrefix(\`/t/\`)`, target: toApi, adminOnly: false },
          {
            match: `${hostRule(base)} && (PathPrefix(\`/admin\`) || Path(\`/metrics\`))`,
            target: { kind: "Service", name: service.metadata.name, port: balancerPorts.admin },
            adminOnly: true,
          },
        ],
      },
      child,
    );

    this.adminToken = pulumi.secret(adminToken.result);
    this.serviceName = service.metadata.name;
    this.secretName = secret.metadata.name;
    this.metricsEndpoints = {
      serviceLabels: apiLabels,
      pollerPodLabels: pollerLabels,
      port: "admin",
      tokenSecret: { name: secret.metadata.name, key: "adminToken" },
    };
    this.registerOutputs({ adminToken: this.adminToken, serviceName: this.serviceName });
  }
}

/** The seed port of a managed cache, and when it is clustered the shards' port range. */
function managedRedisPorts(endpoint: Extract<RedisEndpoint, { kind: "managed" }>): k8s.types.input.networking.v1.NetworkPolicyPort[] {
  const seed = { port: endpoint.port, protocol: "TCP" };
  if (endpoint.shardPorts === undefined) return [seed];
  return [seed, { port: endpoint.shardPorts.first, endPort: endpoint.shardPorts.last, protocol: "TCP" }];
}
