import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice/index.js";
import * as k8s from "@pulumi/kubernetes";
import type * as azureInputs from "@pulumi/azure-native/types/input.js";
import type { NodePoolSettings, PortRange } from "../../config/index.js";

/** Label and taint that keep only media workloads (Janus, JVB, TURN) on the public-IP media nodes. */
export const mediaPoolLabel = { key: "mediaplane.io/pool", value: "media" } as const;
export const mediaPoolTaint = `${mediaPoolLabel.key}=${mediaPoolLabel.value}:NoSchedule`;

export interface HostPortRange extends PortRange {
  readonly protocol: "TCP" | "UDP";
}

export interface AksClusterArgs {
  /** Resource group of the cluster itself (AKS creates its own node group `MC_...` beside it). */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  readonly location: pulumi.Input<string>;
  /** Cluster name and DNS prefix. */
  readonly clusterName: string;
  /** Pinned Kubernetes version: an upgrade is a reviewed config change, never a surprise. */
  readonly kubernetesVersion: string;
  /** Network policy engine; NetworkPolicies of the workloads are enforced only with one. */
  readonly networkPolicy: "calico" | "azure" | "cilium";
  /** Pod address range of the overlay network. */
  readonly podCidr: string;
  /** Control plane tier: "Standard" carries the uptime SLA. */
  readonly skuTier: "Free" | "Standard";
  /** The system pool: cluster add-ons, traefik, balancer, Redis, Jitsi signalling. */
  readonly systemPool: NodePoolSettings;
  /** The media pool: every node gets a public IP, carries the media taint, and opens `mediaHostPorts`. */
  readonly mediaPool: NodePoolSettings;
  /** Host port ranges reachable on media nodes' public IPs (Janus RTP, JVB host ports). */
  readonly mediaHostPorts: readonly HostPortRange[];
  /** Sources allowed to reach the API server; empty: no restriction. */
  readonly apiServerAuthorizedIpRanges: readonly string[];
  /** Entra ID groups that administer the cluster via Azure RBAC; empty: no AAD integration. */
  readonly adminGroupObjectIds: readonly string[];
}

function agentPool(
  name: string,
  pool: NodePoolSettings,
  kubernetesVersion: string,
): azureInputs.containerservice.ManagedClusterAgentPoolProfileArgs {
  return {
    name,
    vmSize: pool.vmSize,
    osType: "Linux",
    osSKU: "AzureLinux",
    osDiskSizeGB: pool.osDiskSizeGb,
    type: "VirtualMachineScaleSets",
    orchestratorVersion: kubernetesVersion,
    enableAutoScaling: true,
    minCount: pool.minCount,
    maxCount: pool.maxCount,
    count: Math.max(pool.minCount, 1),
    ...(pool.zones.length > 0 ? { availabilityZones: [...pool.zones] } : {}),
  };
}

/** The cluster's agent pools: pure, so the pool layout is tested without the runtime. */
export function agentPoolProfiles(args: AksClusterArgs): azureInputs.containerservice.ManagedClusterAgentPoolProfileArgs[] {
  return [
    { ...agentPool("system", args.systemPool, args.kubernetesVersion), mode: "System" },
    {
      ...agentPool("media", args.mediaPool, args.kubernetesVersion),
      mode: "User",
      enableNodePublicIP: true,
      nodeLabels: { [mediaPoolLabel.key]: mediaPoolLabel.value },
      nodeTaints: [mediaPoolTaint],
      networkProfile: {
        allowedHostPorts: args.mediaHostPorts.map((range) => ({
          portStart: range.min,
          portEnd: range.max,
          protocol: range.protocol,
        })),
      },
    },
  ];
}

/** AKS with a system and a media pool, and a Kubernetes provider on its admin credentials. */
export class AksCluster extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  /** The `MC_...` group AKS manages; Service public IPs are looked up here by default. */
  readonly nodeResourceGroup: pulumi.Output<string>;
  /** Object id of the kubelet identity (pulls images). */
  readonly kubeletObjectId: pulumi.Output<string>;
  /** Principal id of the cluster identity (manages load balancers and public IPs). */
  readonly principalId: pulumi.Output<string>;
  /** Admin kubeconfig, secret. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;

  constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:azure:AksCluster", name, {}, opts);

    const cluster = new containerservice.ManagedCluster(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        resourceName: args.clusterName,
        dnsPrefix: args.clusterName,
        kubernetesVersion: args.kubernetesVersion,
        sku: { name: "Base", tier: args.skuTier },
        identity: { type: "SystemAssigned" },
        enableRBAC: true,
        ...(args.adminGroupObjectIds.length > 0
          ? { aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [...args.adminGroupObjectIds] } }
          : {}),
        ...(args.apiServerAuthorizedIpRanges.length > 0
          ? { apiServerAccessProfile: { authorizedIPRanges: [...args.apiServerAuthorizedIpRanges] } }
          : {}),
        agentPoolProfiles: agentPoolProfiles(args),
        networkProfile: {
          networkPlugin: "azure",
          networkPluginMode: "overlay",
          podCidr: args.podCidr,
          networkPolicy: args.networkPolicy,
          ...(args.networkPolicy === "cilium" ? { networkDataplane: "cilium" } : {}),
          loadBalancerSku: "standard",
          outboundType: "loadBalancer",
        },
        autoUpgradeProfile: { upgradeChannel: "none", nodeOSUpgradeChannel: "NodeImage" },
      },
      { parent: this },
    );

    this.clusterName = cluster.name;
    const reported = <T>(what: string, value: T | undefined): T => {
      if (value === undefined) throw new Error(`AKS cluster ${args.clusterName} reported no ${what}`);
      return value;
    };
    this.nodeResourceGroup = cluster.nodeResourceGroup.apply((group) => reported("node resource group", group));
    this.kubeletObjectId = cluster.identityProfile.apply((profile) =>
      reported("kubelet identity", profile?.["kubeletidentity"]?.objectId),
    );
    this.principalId = cluster.identity.apply((identity) => reported("cluster identity", identity?.principalId));

    // Admin credentials: user credentials of an AAD-enabled cluster need kubelogin on the machine running Pulumi.
    const credentials = containerservice.listManagedClusterAdminCredentialsOutput(
      { resourceGroupName: args.resourceGroupName, resourceName: cluster.name },
      { parent: this },
    );
    this.kubeconfig = pulumi.secret(
      credentials.kubeconfigs.apply((kubeconfigs) => {
        const encoded = kubeconfigs[0]?.value;
        if (encoded === undefined) throw new Error(`AKS cluster ${args.clusterName} returned no kubeconfig`);
        return Buffer.from(encoded, "base64").toString("utf8");
      }),
    );
    this.provider = new k8s.Provider(name, { kubeconfig: this.kubeconfig }, { parent: this });

    this.registerOutputs({
      clusterName: this.clusterName,
      nodeResourceGroup: this.nodeResourceGroup,
      kubeletObjectId: this.kubeletObjectId,
      principalId: this.principalId,
      kubeconfig: this.kubeconfig,
    });
  }
}
