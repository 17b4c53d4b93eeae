import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  acmeStoragePath,
  renderTraefikStaticConfig,
  traefikDynamicConfig,
  traefikPorts,
} from "./render/traefik.js";
import { assertPinnedImage, defaultImages, traefikCrdManifest } from "./versions.js";
import {
  appLabels,
  nonRootPodSecurity,
  plainEnv,
  resourceRequirements,
  restrictedContainerSecurity,
  secretEnv,
  httpGetProbe,
  contentHash,
  type ResourceSizing,
} from "./workload.js";
import { hostRule, ingressRoute, type IngressBinding } from "./ingress.js";
import type { PodMetrics } from "./Monitoring.js";
import {
  dnsEgressRule,
  hostPortEndpoint,
  networkPolicyPeer,
  nodeAddressPeers,
  outsideEgressRules,
  urlEndpoint,
  type PinnedPublicIp,
  type PodPeer,
} from "./network.js";

/** DNS-01 over RFC2136 (dynamic DNS updates signed with a TSIG key). */
export interface AcmeDns01Args {
  /** Account e-mail at the ACME CA. */
  email: string;
  /** ACME directory URL (production or staging). */
  server: string;
  /** Authoritative name server accepting the updates, `host:port`. */
  nameserver: string;
  /** TSIG key name, as configured on the name server. */
  tsigKeyName: string;
  /** TSIG algorithm, e.g. `hmac-sha512.` (trailing dot as lego expects). */
  tsigAlgorithm: string;
  /** TSIG secret (base64); a Pulumi secret, stored in a Kubernetes Secret and read via `secretKeyRef`. */
  tsigSecret: pulumi.Input<string>;
  /** Seconds before the first TXT check; default 0. */
  propagationDelaySeconds?: number;
  /** Seconds to wait for the TXT record to be visible before giving up; default 300. */
  propagationTimeoutSeconds?: number;
  /** TTL of the challenge record; default 60. */
  ttlSeconds?: number;
}

/**
 * Where pods reach the Kubernetes API server (the endpoints of the `kubernetes` Service, which is what policies
 * see once the Service address is translated). On AKS it is the control plane's public address on 443; on a
 * laptop cluster (kind, k3d) a node's address on 6443.
 */
export type KubernetesApiReach = { at: "outsideCluster"; port: number } | { at: "nodes"; port: number };

export interface TraefikIngressArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Namespace traefik and its shared middlewares live in (must exist). */
  namespace: pulumi.Input<string>;
  /** The API base domain: tenants are `<slug>.<it>`, path-based URLs, admin and dashboard live on it. */
  apiBaseDomain: string;
  /** Certificates by DNS-01; omit on a laptop cluster (traefik's self-signed default certificate). */
  acme?: AcmeDns01Args;
  /** CIDRs of the operators' networks, the only sources admitted to admin API, metrics and dashboard. */
  adminSourceRanges: readonly string[];
  /** Where the CRD provider reaches the Kubernetes API server. */
  kubernetesApi: KubernetesApiReach;
  /** The cluster's pod ranges: egress outside the cluster excludes them. */
  podCidrs: readonly string[];
  /** Azure public IP to pin; omit on a laptop cluster (its own LoadBalancer implementation picks one). */
  publicIp?: PinnedPublicIp;
  /** Storage class of the ACME volume: a block disk (Azure Disk `managed-csi`), never Azure Files (mode 600 is impossible there). Default: the cluster's default class. */
  storageClassName?: string;
  /** Image reference; default the pinned upstream release. */
  image?: string;
  /** CRD manifest (URL or file) matching the image's release. */
  crdManifest?: string;
  /** CPU/memory; default 100m/128Mi requests, 1 CPU/512Mi limits. */
  sizing?: ResourceSizing;
  /** Namespaces whose routes traefik serves (watches and may read); default: its own. */
  servedNamespaces?: readonly pulumi.Input<string>[];
  /** Pods allowed to scrape traefik's metrics port (the stack's Prometheus); none by default. */
  metricsScrapers?: readonly PodPeer[];
}

const defaultSizing: ResourceSizing = { cpuRequest: "100m", memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "512Mi" };
const uid = 65532;
/** The traefik.io custom resources the CRD provider reads. */
const traefikResources = [
  "ingressroutes",
  "ingressroutetcps",
  "ingressrouteudps",
  "middlewares",
  "middlewaretcps",
  "tlsoptions",
  "tlsstores",
  "serverstransports",
  "serverstransporttcps",
  "traefikservices",
];
const shutdownGraceSeconds = 20;

/**
 * traefik v3 as typed resources (Deployment, Service, RBAC, ACME volume) rather than a Helm release, so the plan
 * shows and writes every object and the tests validate them. The shared Middlewares and TLSOption are rendered from
 * `traefikDynamicConfig`; every IngressRoute of the platform waits for the CRDs through `binding.dependencies`.
 *
 * One replica by design: traefik OSS keeps ACME state in a local `acme.json` that two replicas cannot share
 * (each would order its own certificates and race on renewals). High availability of certificates needs cert-manager.
 */
export class TraefikIngress extends pulumi.ComponentResource {
  /** What a component publishing a route needs (entry point, resolver, middlewares, TLS option, dependencies). */
  readonly binding: IngressBinding;
  /** Name of the public LoadBalancer Service. */
  readonly serviceName: pulumi.Output<string>;
  /** Where traefik serves Prometheus metrics: its pods' `metrics` port. */
  readonly metricsEndpoint: PodMetrics;

  constructor(name: string, args: TraefikIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:TraefikIngress", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const labels = appLabels("traefik", "ingress");
    const image = assertPinnedImage(`${name}.image`, args.image ?? defaultImages.traefik);
    const namespace = args.namespace;
    const acme = args.acme;
    const certResolver = acme === undefined ? undefined : "acme";

    const crds = new k8s.yaml.v2.ConfigFile(`${name}-crds`, { file: args.crdManifest ?? traefikCrdManifest }, child);

    const servedNamespaces = args.servedNamespaces ?? [namespace];
    const staticConfig = pulumi.all([...servedNamespaces]).apply((watchedNamespaces) =>
      renderTraefikStaticConfig({
        apiBaseDomain: args.apiBaseDomain,
        acme:
          acme === undefined || certResolver === undefined
            ? undefined
            : { certResolver, email: acme.email, server: acme.server, propagationDelaySeconds: acme.propagationDelaySeconds ?? 0 },
        logLevel: "INFO",
        shutdownGraceSeconds,
        watchedNamespaces,
      }),
    );
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: { name: "traefik-config", namespace, labels }, data: { "traefik.yml": staticConfig } },
      child,
    );
    const acmeEnvironment = acme === undefined ? [] : this.rfc2136Environment(name, acme, namespace, labels, child);

    const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: { name: "traefik", namespace, labels } }, child);
    // The CRD provider watches routes and what they name in the served namespaces only, and nothing cluster-scoped
    // (`disableClusterScopeResources`): one Role per namespace, no ClusterRole, so no Secret elsewhere is readable.
    const roleBindings = servedNamespaces.map((served, index) => {
      const role = new k8s.rbac.v1.Role(
        `${name}-role-${index}`,
        {
          metadata: { name: "traefik", namespace: served, labels },
          rules: [
            { apiGroups: [""], resources: ["services", "secrets", "configmaps"], verbs: ["get", "list", "watch"] },
            { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
            { apiGroups: ["traefik.io"], resources: traefikResources, verbs: ["get", "list", "watch"] },
          ],
        },
        child,
      );
      return new k8s.rbac.v1.RoleBinding(
        `${name}-binding-${index}`,
        {
          metadata: { name: "traefik", namespace: served, labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
          subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace }],
        },
        child,
      );
    });

    const acmeVolume = new k8s.core.v1.PersistentVolumeClaim(
      `${name}-acme`,
      {
        metadata: { name: "traefik-acme", namespace, labels },
        spec: {
          accessModes: ["ReadWriteOnce"],
          ...(args.storageClassName === undefined ? {} : { storageClassName: args.storageClassName }),
          resources: { requests: { storage: "1Gi" } },
        },
      },
      child,
    );

    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: "traefik", namespace, labels },
        spec: {
          replicas: 1,
          // The ACME disk attaches to one node at a time: the old pod must let go before the new one starts.
          strategy: { type: "Recreate" },
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: { "mediaplane/config-hash": staticConfig.apply(contentHash) } },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              securityContext: nonRootPodSecurity(uid),
              terminationGracePeriodSeconds: shutdownGraceSeconds + 10,
              initContainers: [
                {
                  // fsGroup makes files group-readable; traefik refuses an acme.json that is not 600.
                  name: "acme-permissions",
                  image,
                  command: ["sh", "-c", `if [ -f ${acmeStoragePath} ]; then chmod 600 ${acmeStoragePath}; fi`],
                  securityContext: restrictedContainerSecurity(),
                  resources: resourceRequirements({ cpuRequest: "10m", memoryRequest: "16Mi", cpuLimit: "100m", memoryLimit: "32Mi" }),
                  volumeMounts: [{ name: "data", mountPath: "/data" }],
                },
              ],
              containers: [
                {
                  name: "traefik",
                  image,
                  args: ["--configFile=/etc/traefik/traefik.yml"],
                  ports: [
                    { name: "web", containerPort: traefikPorts.web, protocol: "TCP" },
                    { name: "websecure", containerPort: traefikPorts.websecure, protocol: "TCP" },
                    { name: "traefik", containerPort: traefikPorts.traefik, protocol: "TCP" },
                    { name: "metrics", containerPort: traefikPorts.metrics, protocol: "TCP" },
                  ],
                  env: acmeEnvironment,
                  readinessProbe: httpGetProbe("/ping", "traefik", 5),
                  livenessProbe: httpGetProbe("/ping", "traefik", 10, 3),
                  resources: resourceRequirements(args.sizing ?? defaultSizing),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [
                    { name: "config", mountPath: "/etc/traefik", readOnly: true },
                    { name: "data", mountPath: "/data" },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: config.metadata.name } },
                { name: "data", persistentVolumeClaim: { claimName: acmeVolume.metadata.name } },
                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
              ],
            },
          },
        },
      },
      { ...child, dependsOn: roleBindings },
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: "traefik", namespace, labels, ...(args.publicIp === undefined ? {} : { annotations: args.publicIp.serviceAnnotations }) },
        spec: {
          type: "LoadBalancer",
          // Keeps the client's address (no SNAT through another node): the IP allow-list and logs see real clients.
          externalTrafficPolicy: "Local",
          selector: labels,
          ports: [
            { name: "web", port: 80, targetPort: "web", protocol: "TCP" },
            { name: "websecure", port: 443, targetPort: "websecure", protocol: "TCP" },
          ],
        },
      },
      { ...child, dependsOn: [deployment] },
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: { name: "traefik", namespace, labels },
        spec: {
          podSelector: { matchLabels: labels },
          policyTypes: ["Ingress", "Egress"],
          // Public traffic only on the two entry points; ping, dashboard API and metrics stay unreachable directly,
          // the metrics port open only to the stack's Prometheus.
          ingress: [
            { ports: [{ port: traefikPorts.web, protocol: "TCP" }, { port: traefikPorts.websecure, protocol: "TCP" }] },
            ...(args.metricsScrapers === undefined || args.metricsScrapers.length === 0
              ? []
              : [{ from: args.metricsScrapers.map(networkPolicyPeer), ports: [{ port: traefikPorts.metrics, protocol: "TCP" }] }]),
          ],
          // traefik's own needs; each route adds its backends in a policy of its own (`ingressRoute`).
          egress: traefikEgress(args.kubernetesApi, acme, args.podCidrs),
        },
      },
      child,
    );

    const dynamic = traefikDynamicConfig({
      securityHeadersMiddleware: "security-headers",
      adminAllowListMiddleware: "admin-allow-list",
      adminSourceRanges: args.adminSourceRanges,
      // traefik keys a TLSOption named `default` globally as `default` and applies it to every router naming none.
      tlsOptionName: "default",
    });
    const afterCrds = { ...child, dependsOn: [crds] };
    // The rendered dynamic config, one traefik custom resource per named middleware and TLS option.
    const traefikObjects = (kind: "Middleware" | "TLSOption", specs: Record<string, unknown>) =>
      Object.entries(specs).map(
        ([objectName, spec]) =>
          new k8s.apiextensions.CustomResource(
            `${name}-${kind.toLowerCase()}-${objectName}`,
            { apiVersion: "traefik.io/v1alpha1", kind, metadata: { name: objectName, namespace, labels }, spec },
            afterCrds,
          ),
      );
    const middlewares = traefikObjects("Middleware", dynamic.http.middlewares);
    const tlsOptions = traefikObjects("TLSOption", dynamic.tls.options);

    this.binding = {
      entryPoint: "websecure",
      certResolver,
      namespace,
      securityHeadersMiddleware: "security-headers",
      adminAllowListMiddleware: "admin-allow-list",
      traefikPods: { namespace, podLabels: labels },
      dependencies: [crds, ...middlewares, ...tlsOptions],
    };

    ingressRoute(
      `${name}-dashboard`,
      {
        objectName: "traefik-dashboard",
        namespace,
        binding: this.binding,
        labels,
        backends: "internal",
        routes: [
          {
            match: `${hostRule(args.apiBaseDomain)} && (PathPrefix(\`/dashboard\`) || PathPrefix(\`/api\`))`,
            target: { kind: "TraefikService", name: "api@internal" },
            adminOnly: true,
          },
        ],
      },
      child,
    );

    this.serviceName = service.metadata.name;
    this.metricsEndpoint = { podLabels: labels, port: "metrics" };
    this.registerOutputs({ serviceName: this.serviceName });
  }

  /** lego's RFC2136 settings; the TSIG secret goes through a Secret and `secretKeyRef`. */
  private rfc2136Environment(
    name: string,
    acme: AcmeDns01Args,
    namespace: pulumi.Input<string>,
    labels: Record<string, string>,
    child: pulumi.CustomResourceOptions,
  ): k8s.types.input.core.v1.EnvVar[] {
    const tsig = new k8s.core.v1.Secret(
      `${name}-tsig`,
      {
        metadata: { name: "traefik-rfc2136-tsig", namespace, labels },
        type: "Opaque",
        stringData: { secret: pulumi.secret(acme.tsigSecret) },
      },
      child,
    );
    return [
      ...plainEnv({
        RFC2136_NAMESERVER: acme.nameserver,
        RFC2136_TSIG_KEY: acme.tsigKeyName,
        RFC2136_TSIG_ALGORITHM: acme.tsigAlgorithm,
        RFC2136_TTL: String(acme.ttlSeconds ?? 60),
        RFC2136_PROPAGATION_TIMEOUT: String(acme.propagationTimeoutSeconds ?? 300),
        RFC2136_POLLING_INTERVAL: "5",
      }),
      secretEnv("RFC2136_TSIG_SECRET", tsig.metadata.name, "secret"),
    ];
  }
}

/**
 * traefik's own needs: DNS, the API server its CRD provider watches, and for DNS-01 the ACME directory (its URL's
 * host and port), the RFC2136 name server (updates over UDP or TCP) and DNS on any public address, because lego
 * checks the TXT record at the zone's authoritative name servers, which it finds only at run time.
 */
function traefikEgress(
  kubernetesApi: KubernetesApiReach,
  acme: AcmeDns01Args | undefined,
  podCidrs: readonly string[],
): k8s.types.input.networking.v1.NetworkPolicyEgressRule[] {
  const apiPort = { port: kubernetesApi.port, protocol: "TCP" } as const;
  return [
    dnsEgressRule(),
    ...(kubernetesApi.at === "nodes" ? [{ to: nodeAddressPeers(podCidrs), ports: [apiPort] }] : []),
    ...outsideEgressRules(podCidrs, [
      ...(kubernetesApi.at === "outsideCluster" ? [{ host: undefined, ...apiPort }] : []),
      ...(acme === undefined
        ? []
        : [
            urlEndpoint(acme.server),
            hostPortEndpoint(acme.nameserver, "UDP"),
            hostPortEndpoint(acme.nameserver, "TCP"),
            { host: undefined, port: 53, protocol: "UDP" as const },
            { host: undefined, port: 53, protocol: "TCP" as const },
          ]),
    ]),
  ];
}
