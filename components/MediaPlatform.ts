import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { renderBalancerConfigFile } from "@mediaplane/balancer/config";
import { buildBalancerConfig, fleetNodes, type StackConfig, type StackSecrets } from "../config/index.js";
import {
  azureFoundation,
  mediaNodePlacement,
  type MediaNodePlacement,
  type RedisConnection,
  type StaticIp,
  type StaticIpRole,
} from "./azure/index.js";
import { Tenants, tenantApiUrls, type TenantAccess } from "./Tenants.js";
import { composeWorkloads, type PlatformWorkloads } from "./k8s/composeWorkloads.js";
import { janusInstanceEndpoints, type JanusInstanceEndpoint } from "./k8s/Janus.js";
import { mediaPodSecurity, platformPodSecurity, podSecurityMetadata, type NamespacePodSecurity } from "./k8s/podSecurity.js";
import { BbbFleet } from "./bbb/BbbFleet.js";
import { NodeDrain } from "./bbb/NodeDrain.js";
import { DnsRecord } from "./dns/DnsRecord.js";
import { platformRecords, recordResourceName, recordWriter } from "./dns/platformRecords.js";
import type { LocalClusterImport, RegistryAuth } from "./k8s/ContainerImage.js";

export interface MediaPlatformArgs {
  /** The parsed stack config. */
  readonly settings: StackConfig;
  /** The stack's Pulumi secrets. */
  readonly secrets: StackSecrets;
}

/**
 * Everything the Kubernetes workloads (`components/k8s`) need from the platform. MediaPlatform builds it once per
 * stack and maps it onto each workload's own args.
 */
export interface WorkloadContext {
  /** Provider of the target cluster; every workload resource uses it. */
  readonly provider: k8s.Provider;
  /** Namespace of the platform's workloads: ingress, balancer, Redis, TURN, certificates; enforces `restricted`. */
  readonly namespace: pulumi.Output<string>;
  /** Namespace of Jitsi (root init: enforces `baseline`); undefined when the stack does not run Jitsi. */
  readonly mediaNamespace: pulumi.Output<string> | undefined;
  /**
   * Namespace of the media servers on the node's network: Janus (host network) and host-port bridges (enforces
   * `privileged`); undefined when the stack runs neither.
   */
  readonly mediaHostNamespace: pulumi.Output<string> | undefined;
  /** The whole stack config: domains, ACME, images, sizing of Jitsi/Janus/TURN/balancer, admin allow-list. */
  readonly settings: StackConfig;
  /** TSIG secret for DNS-01; set whenever `settings.acme` is. */
  readonly acmeTsigSecret: pulumi.Output<string> | undefined;
  /** Pinned public IPs for ingress, JVB and TURN; undefined on a laptop cluster (its load balancer picks addresses). */
  readonly staticIps: Readonly<Record<StaticIpRole, StaticIp>> | undefined;
  /** Node selector and toleration of the public-IP media nodes; undefined where every node may run media. */
  readonly mediaNodes: MediaNodePlacement | undefined;
  /** Pod address ranges: sources of in-cluster traffic such as traefik's forwarded requests. */
  readonly podCidrs: readonly string[];
  /** Storage class for RWO volumes (Redis AOF, acme.json): a block disk; undefined: the cluster's default. */
  readonly blockStorageClass: string | undefined;
  /** ReadWriteMany claim for recordings in the platform namespace (Azure Files on AKS, a plain PVC on a laptop). */
  readonly recordingsClaimName: pulumi.Output<string>;
  /**
   * The recordings claim in Janus's namespace, set when Janus records: the same share on AKS, a volume of its own on
   * a laptop (a local volume cannot be claimed from two namespaces).
   */
  readonly janusRecordingsClaimName: pulumi.Output<string> | undefined;
  /** Where the images the program builds go; see `ImageDelivery`. */
  readonly imageDelivery: ImageDelivery;
  /** Azure Cache for Redis when the stack uses it; undefined: run the in-cluster Redis. */
  readonly managedRedis: RedisConnection | undefined;
  /** The balancer's config file (tenants with their secrets, clusters, nodes): a secret, for its Secret. */
  readonly balancerConfigFile: pulumi.Output<string>;
}

/**
 * Where the images the program builds (balancer, Janus) go: pushed to the stack's registry with its push credential,
 * or built into the local engine and imported into a kind/k3d cluster (`none` when the stack pins them all).
 */
export type ImageDelivery =
  | { readonly kind: "registry"; readonly registryAuth: RegistryAuth }
  | { readonly kind: "clusterImport"; readonly target: LocalClusterImport }
  | { readonly kind: "none" };

/** Public endpoints of the stack: each one a route the ingress (or, for TURN, its LoadBalancer) really serves. */
export interface PlatformEndpoints {
  /** BBB API URL patterns of a tenant, `<tenant>` standing for its slug (the balancer serves no tenant-less API). */
  readonly bbbApi: Pick<TenantAccess, "hostBasedUrl" | "pathBasedUrl">;
  /** Present only when the stack runs the service. */
  readonly jitsi?: string;
  readonly janus?: string;
  /** Each Janus instance's own addresses: a room lives on one instance, and all its participants go there. */
  readonly janusInstances?: readonly JanusInstanceEndpoint[];
  readonly turn?: string;
}

export function platformEndpoints(settings: Pick<StackConfig, "domains" | "jitsi" | "janus" | "turn">): PlatformEndpoints {
  const { domains } = settings;
  return {
    bbbApi: tenantApiUrls("<tenant>", domains.apiBase),
    ...(settings.jitsi.enabled ? { jitsi: `https://${domains.jitsi}/` } : {}),
    ...(settings.janus.enabled
      ? { janus: `wss://${domains.janus}/`, janusInstances: janusInstanceEndpoints(domains.janus, settings.janus.replicas) }
      : {}),
    ...(settings.turn.enabled ? { turn: `turn:${domains.turn}:3478` } : {}),
  };
}

const namespaceNames = { platform: "mediaplane", media: "mediaplane-media", mediaHost: "mediaplane-media-host" } as const;

/** The whole media platform of one stack: cluster (AKS or a kube context), tenants, and the workloads on top. */
export class MediaPlatform extends pulumi.ComponentResource {
  readonly endpoints: PlatformEndpoints;
  /** Pinned public IPs by role; empty on a laptop cluster. */
  readonly publicIps: pulumi.Output<Record<string, string>>;
  /**
   * The AKS cluster, for `az aks get-credentials --resource-group <resourceGroup> --name <name>`; undefined on a
   * kube context. No kubeconfig is an output: local accounts are off, and each person signs in as themselves.
   */
  readonly aksCluster: pulumi.Output<{ resourceGroup: string; name: string }> | undefined;
  /** Secret: per tenant, the host-based and path-based API URLs and secrets. */
  readonly tenants: pulumi.Output<Record<string, TenantAccess>>;
  readonly workloadContext: WorkloadContext;
  /** Secrets the workloads generated (balancer admin token, Janus token secret, TURN secret). */
  readonly workloads: PlatformWorkloads;

  constructor(name: string, args: MediaPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:platform:MediaPlatform", name, {}, opts);
    const { settings, secrets } = args;
    const clusterSettings = settings.cluster;

    const azure = clusterSettings.provider === "azure" ? azureFoundation(name, settings, clusterSettings, this) : undefined;
    const provider =
      azure?.cluster.provider ??
      new k8s.Provider(
        `${name}-kube-context`,
        clusterSettings.provider === "kubeContext" && clusterSettings.context !== undefined
          ? { context: clusterSettings.context }
          : {},
        { parent: this },
      );
    const k8sOpts = { parent: this, provider };

    const namespaceFor = (resourceName: string, namespaceName: string, security: NamespacePodSecurity) => {
      const { labels, annotations } = podSecurityMetadata(security);
      return new k8s.core.v1.Namespace(
        resourceName,
        { metadata: { name: namespaceName, labels: { "app.kubernetes.io/part-of": "mediaplane", ...labels }, annotations } },
        k8sOpts,
      ).metadata.name;
    };
    const namespace = namespaceFor(`${name}-namespace`, namespaceNames.platform, platformPodSecurity);
    const mediaSecurity = mediaPodSecurity(settings);
    const mediaNamespace = mediaSecurity.media === undefined ? undefined : namespaceFor(`${name}-media-namespace`, namespaceNames.media, mediaSecurity.media);
    const mediaHostNamespace =
      mediaSecurity.mediaHost === undefined ? undefined : namespaceFor(`${name}-media-host-namespace`, namespaceNames.mediaHost, mediaSecurity.mediaHost);
    const janusRecords = settings.janus.enabled && settings.janus.recording;

    const blockStorageClass = clusterSettings.provider === "azure" ? "managed-csi" : clusterSettings.storageClass;
    const localRecordingsClaim = (resourceName: string, claimNamespace: pulumi.Input<string>) =>
      new k8s.core.v1.PersistentVolumeClaim(
        resourceName,
        {
          metadata: { name: "recordings", namespace: claimNamespace },
          spec: {
            // A laptop cluster has one node: ReadWriteOnce is what its local-path provisioners offer.
            accessModes: ["ReadWriteOnce"],
            ...(blockStorageClass === undefined ? {} : { storageClassName: blockStorageClass }),
            resources: { requests: { storage: `${settings.recordings.quotaGi}Gi` } },
          },
        },
        k8sOpts,
      ).metadata.name;
    const janusClaimNamespace = janusRecords ? mediaHostNamespace : undefined;
    const recordingShare = azure?.recordingShare(namespace, janusClaimNamespace === undefined ? {} : { janus: janusClaimNamespace }, provider);
    const recordingsClaimName = recordingShare?.claimName ?? localRecordingsClaim(`${name}-recordings`, namespace);
    const janusRecordingsClaimName =
      janusClaimNamespace === undefined ? undefined : (recordingShare?.otherClaimNames["janus"] ?? localRecordingsClaim(`${name}-janus-recordings`, janusClaimNamespace));

    const records = recordWriter(settings, secrets.acmeTsigSecret);
    // The balancer (and its admin token) comes after its config, which waits for the fleet: the token is handed over later.
    const [balancerAdminToken, handOverBalancerAdminToken] = pulumi.deferredOutput<string>();
    const fleetSettings = settings.bbb.fleet;
    const fleet =
      azure && clusterSettings.provider === "azure" && fleetSettings && settings.acme && secrets.bbbSshPrivateKey
        ? new BbbFleet(
            `${name}-bbb`,
            {
              settings: fleetSettings,
              nodes: fleetNodes(settings),
              namePrefix: clusterSettings.namePrefix,
              resourceGroupName: azure.resourceGroupName,
              location: clusterSettings.location,
              sshPrivateKey: secrets.bbbSshPrivateKey,
              sshAllowList: settings.ingress.adminAllowList,
              acmeEmail: settings.acme.email,
              dnsRecord: records,
              adminBaseUrl: `https://${settings.domains.apiBase}`,
              adminToken: balancerAdminToken,
            },
            { parent: this },
          )
        : undefined;

    const tenants = new Tenants(`${name}-tenants`, { tenants: settings.tenants, apiBaseDomain: settings.domains.apiBase }, { parent: this });
    const balancerConfigFile = pulumi.secret(
      pulumi
        .all([tenants.secrets, pulumi.all(secrets.bbbNodeSecrets), fleet?.balancerNodes ?? []])
        .apply(([tenantSecrets, nodeSecrets, managedNodes]) =>
          renderBalancerConfigFile(buildBalancerConfig(settings, { tenantSecrets, nodeSecrets, managedNodes })),
        ),
    );

    this.workloadContext = {
      provider,
      namespace,
      mediaNamespace,
      mediaHostNamespace,
      settings,
      acmeTsigSecret: secrets.acmeTsigSecret,
      staticIps: azure?.staticIps,
      mediaNodes: azure ? mediaNodePlacement : undefined,
      podCidrs: clusterSettings.provider === "azure" ? [clusterSettings.podCidr] : clusterSettings.podCidrs,
      blockStorageClass,
      recordingsClaimName,
      janusRecordingsClaimName,
      imageDelivery: azure
        ? { kind: "registry", registryAuth: azure.registry.pushCredential }
        : clusterSettings.provider === "kubeContext" && clusterSettings.imageImport !== undefined
          ? { kind: "clusterImport", target: clusterSettings.imageImport }
          : { kind: "none" },
      managedRedis: azure?.managedRedis,
      balancerConfigFile,
    };
    this.workloads = composeWorkloads(name, this.workloadContext, this);
    handOverBalancerAdminToken(this.workloads.balancerAdminToken);

    // Each drain runs (is deleted) before its node and before the balancer whose admin API it calls.
    if (fleet !== undefined) {
      for (const node of fleet.nodes) {
        new NodeDrain(
          `${name}-drain-${node.id}`,
          {
            drain: { ...fleet.drainTiming, nodeId: node.id },
            adminToken: this.workloads.balancerAdminToken,
            instanceId: node.instanceId,
            dependsOn: [node, this.workloads.balancer],
          },
          { parent: this },
        );
      }
    }
    if (azure && records) {
      for (const record of platformRecords(settings)) {
        new DnsRecord(
          `${name}-dns-${recordResourceName(record.name)}`,
          { ...records, name: record.name, address: azure.staticIps[record.pointsAt].address },
          { parent: this },
        );
      }
    }

    this.endpoints = platformEndpoints(settings);
    this.publicIps = azure
      ? pulumi.all(Object.fromEntries(Object.entries(azure.staticIps).map(([role, ip]) => [role, ip.address])))
      : pulumi.output<Record<string, string>>({});
    this.aksCluster = azure ? pulumi.output({ resourceGroup: azure.resourceGroupName, name: azure.cluster.clusterName }) : undefined;
    this.tenants = tenants.access;
    this.registerOutputs({ endpoints: this.endpoints, publicIps: this.publicIps, tenants: this.tenants });
  }
}
