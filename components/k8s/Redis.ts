import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { redisPort, renderRedisConfig, renderRedisPasswordFile } from "./render/redis.js";
import { assertPinnedImage, defaultImages } from "./versions.js";
import type { PodMetrics } from "./Monitoring.js";
import {
  appLabels,
  contentHash,
  httpGetProbe,
  nonRootPodSecurity,
  plainEnv,
  resourceRequirements,
  restrictedContainerSecurity,
  secretEnv,
} from "./workload.js";
import { networkPolicyPeer, type PodPeer, type PodPorts } from "./network.js";

export interface RedisArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Namespace to run in (must exist). */
  namespace: pulumi.Input<string>;
  /** The only pods allowed to connect (the balancer's API and poller). */
  clients: PodPeer;
  /** Memory for the data set in MiB; the container limit is set 50% above it for AOF rewrites. Default 256. */
  maxMemoryMb?: number;
  /** Size of the append-only-file volume, e.g. `"4Gi"`. Default `"2Gi"`. */
  volumeSize?: string;
  /** Storage class of the volume; default the cluster's default class. */
  storageClassName?: string;
  /** Image reference; default the pinned upstream release. */
  image?: string;
  /** A redis_exporter sidecar serving Prometheus metrics, scraped only by these pods; undefined: none. */
  metrics?: { scrapers: readonly PodPeer[]; image?: string };
}

/** Port of the exporter sidecar (redis_exporter's default). */
export const redisExporterPort = 9121;

/**
 * The exporter sidecar: it reads Redis over loopback with the same password, and takes its settings from the
 * environment (`REDIS_ADDR`, `REDIS_PASSWORD`, `REDIS_EXPORTER_WEB_LISTEN_ADDRESS`, as redis_exporter's main.go
 * reads them), so no secret is on its command line.
 */
export function redisExporterContainer(image: string, passwordSecret: pulumi.Input<string>): k8s.types.input.core.v1.Container {
  return {
    name: "metrics",
    image,
    env: [
      ...plainEnv({ REDIS_ADDR: `redis://127.0.0.1:${redisPort}`, REDIS_EXPORTER_WEB_LISTEN_ADDRESS: `:${redisExporterPort}` }),
      secretEnv("REDIS_PASSWORD", passwordSecret, "password"),
    ],
    ports: [{ name: "metrics", containerPort: redisExporterPort, protocol: "TCP" }],
    readinessProbe: httpGetProbe("/health", "metrics", 10, 3),
    livenessProbe: { ...httpGetProbe("/health", "metrics", 30, 3), initialDelaySeconds: 10 },
    resources: resourceRequirements({ cpuRequest: "20m", memoryRequest: "32Mi", cpuLimit: "200m", memoryLimit: "64Mi" }),
    securityContext: restrictedContainerSecurity(),
  };
}

const uid = 999; // the `redis` user of the official image
const dataDir = "/data";
const passwordDir = "/etc/redis-auth";
const passwordFileKey = "requirepass.conf";

/**
 * The balancer's in-cluster store: one Redis with AOF persistence on a volume, a random password, `noeviction`
 * (meeting mappings must never be evicted), reachable only from the balancer's pods. Stacks that use Azure Cache
 * for Redis skip this component and hand the balancer that URL instead.
 */
export class Redis extends pulumi.ComponentResource {
  /** `redis://` URL with the password: a secret. */
  readonly url: pulumi.Output<string>;
  /** In-cluster host name of the Service. */
  readonly host: pulumi.Output<string>;
  /** Its pods and port, for the egress rule of its clients. */
  readonly endpoint: PodPorts;
  /** Where the exporter sidecar serves metrics; undefined without one. */
  readonly metricsEndpoint: PodMetrics | undefined;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:Redis", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const labels = appLabels("redis", "balancer-store");
    const namespace = args.namespace;
    const image = assertPinnedImage(`${name}.image`, args.image ?? defaultImages.redis);
    const maxMemoryMb = args.maxMemoryMb ?? 256;
    const configText = renderRedisConfig({ maxMemoryMb, dataDir, appendFsync: "everysec", passwordFile: `${passwordDir}/${passwordFileKey}` });

    // Stable across updates: generated once and kept in state.
    const password = new random.RandomPassword(`${name}-password`, { length: 40, special: false }, { parent: this });
    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { name: "redis-auth", namespace, labels },
        type: "Opaque",
        // `password` for clients (the probes, the exporter), the config line for the server.
        stringData: { password: password.result, [passwordFileKey]: password.result.apply(renderRedisPasswordFile) },
      },
      child,
    );
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: { name: "redis-config", namespace, labels }, data: { "redis.conf": configText } },
      child,
    );
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: "redis", namespace, labels },
        spec: { type: "ClusterIP", selector: labels, ports: [{ name: "redis", port: redisPort, targetPort: "redis", protocol: "TCP" }] },
      },
      child,
    );

    const cliProbe = (periodSeconds: number) => ({
      // REDISCLI_AUTH keeps the password off the command line (and out of `ps`).
      exec: { command: ["sh", "-c", "redis-cli -h 127.0.0.1 ping | grep -q PONG"] },
      periodSeconds,
      timeoutSeconds: 3,
      failureThreshold: 3,
    });
    new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: { name: "redis", namespace, labels },
        spec: {
          serviceName: service.metadata.name,
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: { "mediaplane/config-hash": contentHash(configText) } },
            spec: {
              securityContext: nonRootPodSecurity(uid),
              // No Kubernetes API access: no service account token in the pod.
              automountServiceAccountToken: false,
              // Lets Redis finish writing the AOF before it is killed.
              terminationGracePeriodSeconds: 30,
              containers: [
                {
                  name: "redis",
                  image,
                  // The binary itself: the image's entrypoint would add --loadmodule for modules this store does not use.
                  // The password comes from the file redis.conf includes, never from the command line.
                  command: ["redis-server"],
                  args: ["/etc/redis/redis.conf"],
                  env: [secretEnv("REDISCLI_AUTH", secret.metadata.name, "password")],
                  ports: [{ name: "redis", containerPort: redisPort, protocol: "TCP" }],
                  readinessProbe: cliProbe(5),
                  livenessProbe: { ...cliProbe(15), initialDelaySeconds: 10 },
                  resources: resourceRequirements({
                    cpuRequest: "100m",
                    memoryRequest: `${maxMemoryMb}Mi`,
                    cpuLimit: "1",
                    memoryLimit: `${Math.ceil(maxMemoryMb * 1.5)}Mi`,
                  }),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [
                    { name: "data", mountPath: dataDir },
                    { name: "config", mountPath: "/etc/redis", readOnly: true },
                    { name: "auth", mountPath: passwordDir, readOnly: true },
                  ],
                },
                ...(args.metrics === undefined
                  ? []
                  : [redisExporterContainer(assertPinnedImage(`${name}.metrics.image`, args.metrics.image ?? defaultImages.redisExporter), secret.metadata.name)]),
              ],
              volumes: [
                { name: "config", configMap: { name: config.metadata.name } },
                // Readable by the redis group only (the kubelet makes fsGroup the files' group).
                { name: "auth", secret: { secretName: secret.metadata.name, items: [{ key: passwordFileKey, path: passwordFileKey }], defaultMode: 0o440 } },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels },
              spec: {
                accessModes: ["ReadWriteOnce"],
                ...(args.storageClassName === undefined ? {} : { storageClassName: args.storageClassName }),
                resources: { requests: { storage: args.volumeSize ?? "2Gi" } },
              },
            },
          ],
        },
      },
      child,
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: { name: "redis", namespace, labels },
        spec: {
          podSelector: { matchLabels: labels },
          // Redis never connects anywhere (no replication, no modules that call out, no names to resolve):
          // no egress at all, not even DNS.
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            { from: [networkPolicyPeer(args.clients)], ports: [{ port: redisPort, protocol: "TCP" }] },
            ...(args.metrics === undefined || args.metrics.scrapers.length === 0
              ? []
              : [{ from: args.metrics.scrapers.map(networkPolicyPeer), ports: [{ port: redisExporterPort, protocol: "TCP" }] }]),
          ],
          egress: [],
        },
      },
      child,
    );

    this.endpoint = { pods: { namespace, podLabels: labels }, ports: [{ port: redisPort, protocol: "TCP" }] };
    this.metricsEndpoint = args.metrics === undefined ? undefined : { podLabels: labels, port: "metrics" };
    this.host = pulumi.interpolate`${service.metadata.name}.${namespace}.svc.cluster.local`;
    this.url = pulumi.secret(pulumi.interpolate`redis://:${password.result}@${this.host}:${redisPort}/0`);
    this.registerOutputs({ host: this.host, url: this.url });
  }
}
