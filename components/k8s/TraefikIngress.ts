import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderTraefikStaticConfig, traefikDynamicConfig, traefikPorts } from "./render/traefik.js";
import { assertPinnedImage, defaultImages, traefikCrdManifest } from "./versions.js";
import {
  appLabels,
  nonRootPodSecurity,
  resourceRequirements,
  restrictedContainerSecurity,
  httpGetProbe,
  contentHash,
  disruptionBudgetFor,
  type ResourceSizing,
} from "./workload.js";
import { hostRule, ingressRoute, type IngressBinding } from "./ingress.js";
import type { PodMetrics } from "./Monitoring.js";
import type { IssuedCertificate } from "./CertManager.js";
import {
  dnsEgressRule,
  networkPolicyPeer,
  nodeAddressPeers,
  outsideEgressRules,
  type PinnedPublicIp,
  type PodPeer,
} from "./network.js";

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
  /**
   * The issued certificate every route is served with (a `kubernetes.io/tls` Secret in traefik's namespace, kept
   * current by cert-manager); omit on a laptop cluster (traefik's self-signed default certificate).
   */
  certificate?: IssuedCertificate;
  /** traefik pods; default 2, spread over nodes, at most one down at a time. */
  replicas?: number;
  /** CIDRs of the operators' networks, the only sources admitted to admin API, metrics and dashboard. */
  adminSourceRanges: readonly string[];
  /** Where the CRD provider reaches the Kubernetes API server. */
  kubernetesApi: KubernetesApiReach;
  /** The cluster's pod ranges: egress outside the cluster excludes them. */
  podCidrs: readonly string[];
  /** Azure public IP to pin; omit on a laptop cluster (its own LoadBalancer implementation picks one). */
  publicIp?: PinnedPublicIp;
  /** Image reference; default the pinned upstream release. */
  image?: string;
  /** CRD manifest (URL or file) matching the image's release. */
  crdManifest?: string;
  /** CPU/memory; default 100m/128Mi requests, 1 CPU/512Mi limits. */
  sizing?: ResourceSizing;
  /** Namespaces besides its own whose routes traefik serves (watches and may read); default none. */
  alsoServedNamespaces?: readonly pulumi.Input<string>[];
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
 * traefik v3 as typed resources (Deployment, PDB, Service, RBAC) rather than a Helm release, so the plan shows and
 * writes every object and the tests validate them. The shared Middlewares, TLSOption and TLSStore are rendered from
 * `traefikDynamicConfig`; every IngressRoute of the platform waits for the CRDs through `binding.dependencies`.
 *
 * traefik orders no certificate itself: it serves the one cert-manager keeps in a Secret (the default TLSStore), so
 * its pods hold no state, any replica serves any host, and a pod moved to another node serves the same certificate.
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
    const replicas = args.replicas ?? 2;

    const crds = new k8s.yaml.v2.ConfigFile(`${name}-crds`, { file: args.crdManifest ?? traefikCrdManifest }, child);

    const servedNamespaces = [namespace, ...(args.alsoServedNamespaces ?? [])];
    const staticConfig = pulumi.all([...servedNamespaces]).apply((watchedNamespaces) =>
      renderTraefikStaticConfig({
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

    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: "traefik", namespace, labels },
        spec: {
          replicas,
          // A new pod is ready before an old one goes: the entry points never lose capacity during a rollout.
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: { "mediaplane/config-hash": staticConfig.apply(contentHash) } },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              securityContext: nonRootPodSecurity(uid),
              terminationGracePeriodSeconds: shutdownGraceSeconds + 10,
              // One node's loss takes at most one replica; with externalTrafficPolicy Local the LoadBalancer sends
              // traffic only to nodes running one.
              topologySpreadConstraints: [
                { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } },
                { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } },
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
                  readinessProbe: httpGetProbe("/ping", "traefik", 5),
                  livenessProbe: httpGetProbe("/ping", "traefik", 10, 3),
                  resources: resourceRequirements(args.sizing ?? defaultSizing),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [
                    { name: "config", mountPath: "/etc/traefik", readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: config.metadata.name } },
                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
              ],
            },
          },
        },
      },
      { ...child, dependsOn: roleBindings },
    );
    disruptionBudgetFor(`${name}-pdb`, { namespace, selector: labels, replicas }, child);

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
          egress: traefikEgress(args.kubernetesApi, args.podCidrs),
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
    const traefikObjects = (kind: "Middleware" | "TLSOption", specs: Record<string, unknown>, objectNamespace: pulumi.Input<string>, nameSuffix: string) =>
      Object.entries(specs).map(
        ([objectName, spec]) =>
          new k8s.apiextensions.CustomResource(
            `${name}-${kind.toLowerCase()}-${objectName}${nameSuffix}`,
            { apiVersion: "traefik.io/v1alpha1", kind, metadata: { name: objectName, namespace: objectNamespace, labels }, spec },
            afterCrds,
          ),
      );
    // Routes name middlewares of their own namespace only, so each served namespace has the shared ones.
    const middlewares = servedNamespaces.flatMap((served, index) =>
      traefikObjects("Middleware", dynamic.http.middlewares, served, index === 0 ? "" : `-${index}`),
    );
    // traefik keys the TLSOption and TLSStore named `default` globally: one of each, in traefik's namespace.
    const tlsOptions = traefikObjects("TLSOption", dynamic.tls.options, namespace, "");
    const tlsStores =
      args.certificate === undefined
        ? []
        : [
            new k8s.apiextensions.CustomResource(
              `${name}-tlsstore-default`,
              {
                apiVersion: "traefik.io/v1alpha1",
                kind: "TLSStore",
                metadata: { name: "default", namespace, labels },
                spec: pulumi.output(args.certificate.secretName).apply(defaultTlsStoreSpec),
              },
              { ...child, dependsOn: [crds, args.certificate.certificate] },
            ),
          ];

    this.binding = {
      entryPoint: "websecure",
      securityHeadersMiddleware: "security-headers",
      adminAllowListMiddleware: "admin-allow-list",
      traefikPods: { namespace, podLabels: labels },
      dependencies: [crds, ...middlewares, ...tlsOptions, ...tlsStores],
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
}

/**
 * The default TLSStore: the issued certificate among the store's certificates (matched by SNI, which strict SNI
 * requires: traefik v3.7 pkg/tls/tlsmanager.go `Get` closes a connection whose name matches no certificate of the
 * store, and the default certificate does not count) and as the default certificate (clients sending no SNI).
 */
export function defaultTlsStoreSpec(secretName: string) {
  return { certificates: [{ secretName }], defaultCertificate: { secretName } };
}

/** traefik's own needs: DNS and the API server its CRD provider watches. It orders no certificates. */
function traefikEgress(kubernetesApi: KubernetesApiReach, podCidrs: readonly string[]): k8s.types.input.networking.v1.NetworkPolicyEgressRule[] {
  const apiPort = { port: kubernetesApi.port, protocol: "TCP" } as const;
  return [
    dnsEgressRule(),
    ...(kubernetesApi.at === "nodes" ? [{ to: nodeAddressPeers(podCidrs), ports: [apiPort] }] : []),
    ...(kubernetesApi.at === "outsideCluster" ? outsideEgressRules(podCidrs, [{ host: undefined, ...apiPort }]) : []),
  ];
}
