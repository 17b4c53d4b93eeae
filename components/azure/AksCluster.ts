import * as pulumi from "@pulumi/pulumi";
import * as containerservice from "@pulumi/azure-native/containerservice/index.js";
import * as k8s from "@pulumi/kubernetes";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type * as azureInputs from "@pulumi/azure-native/types/input.js";
import type { NodePoolSettings, PortRange } from "../../config/index.js";
import { deployerObjectId, grantRole } from "./roles.js";

/** Label and taint that keep only media workloads (Janus, JVB, TURN) on the public-IP media nodes. */
export const mediaPoolLabel = { key: "mediaplane.io/pool", value: "media" } as const;
export const mediaPoolTaint = `${mediaPoolLabel.key}=${mediaPoolLabel.value}:NoSchedule`;

export interface HostPortRange extends PortRange {
  readonly protocol: "TCP" | "UDP";
}

/** The identity the cluster acts as towards Azure (load balancers, public IPs, the node subnet). */
export interface ClusterIdentity {
  /** Resource id of the user-assigned identity. */
  readonly id: pulumi.Input<string>;
  /** Its role assignments: the cluster is created only once they exist, so its first load balancer works. */
  readonly grants: readonly pulumi.Resource[];
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
  /** Sources allowed to reach the API server (where `pulumi up` and operators run). */
  readonly apiServerAuthorizedIpRanges: readonly string[];
  /** Entra ID groups made cluster admins; the identity running `pulumi up` is granted admin through Azure RBAC too. */
  readonly adminGroupObjectIds: readonly string[];
  readonly identity: ClusterIdentity;
  /** Subnet of the stack's virtual network the nodes live in. */
  readonly nodeSubnetId: pulumi.Input<string>;
  /** Resource id of the stack's static public IP every outbound connection of the cluster leaves from. */
  readonly egressIpId: pulumi.Input<string>;
}

/** Settings shared by both pools. The count is only a starting point: from then on the autoscaler owns it. */
function agentPool(pool: NodePoolSettings, kubernetesVersion: string, nodeSubnetId: pulumi.Input<string>) {
  return {
    vmSize: pool.vmSize,
    osType: "Linux",
    osSKU: "AzureLinux",
    osDiskSizeGB: pool.osDiskSizeGb,
    type: "VirtualMachineScaleSets",
    orchestratorVersion: kubernetesVersion,
    vnetSubnetID: nodeSubnetId,
    enableAutoScaling: true,
    minCount: pool.minCount,
    maxCount: pool.maxCount,
    count: Math.max(pool.minCount, 1),
    ...(pool.zones.length > 0 ? { availabilityZones: [...pool.zones] } : {}),
  };
}

/** The system pool, declared inline: AKS cannot create a cluster without one. */
export function systemPoolProfile(args: AksClusterArgs): azureInputs.containerservice.ManagedClusterAgentPoolProfileArgs {
  return { name: "system", mode: "System", ...agentPool(args.systemPool, args.kubernetesVersion, args.nodeSubnetId) };
}

/** The media pool, its own AgentPool resource: public node IPs, the media taint, the media host ports. */
export function mediaPoolArgs(
  args: AksClusterArgs,
  clusterName: pulumi.Input<string>,
): containerservice.AgentPoolArgs {
  return {
    resourceGroupName: args.resourceGroupName,
    resourceName: clusterName,
    agentPoolName: "media",
    mode: "User",
    ...agentPool(args.mediaPool, args.kubernetesVersion, args.nodeSubnetId),
    enableNodePublicIP: true,
    nodeLabels: { [mediaPoolLabel.key]: mediaPoolLabel.value },
    nodeTaints: [mediaPoolTaint],
    networkProfile: {
      allowedHostPorts: args.mediaHostPorts.map((range) => ({ portStart: range.min, portEnd: range.max, protocol: range.protocol })),
    },
  };
}

/**
 * Whatever AKS returns as the user kubeconfig (`--format exec`) logs in with kubelogin's device code, which would
 * wait for a person in the middle of `pulumi up`; this makes it use the Azure CLI login of the machine instead
 * (what `kubelogin convert-kubeconfig -l azurecli` does).
 */
export function azureCliKubeconfig(kubeconfig: string): string {
  const document = parseYaml(kubeconfig) as { users?: { user?: { exec?: { command?: string; args?: string[] } } }[] };
  for (const { user } of document.users ?? []) {
    const exec = user?.exec;
    if (exec?.command !== "kubelogin") continue;
    const args = exec.args ?? [];
    const serverId = args[args.indexOf("--server-id") + 1];
    if (!args.includes("--server-id") || serverId === undefined) throw new Error("the AKS user kubeconfig names no --server-id for kubelogin");
    exec.args = ["get-token", "--login", "azurecli", "--server-id", serverId];
  }
  return stringifyYaml(document);
}

/**
 * AKS with local accounts off: people and `pulumi up` sign in through Entra ID, with Azure RBAC deciding what they
 * may do. The system pool is inline (AKS needs one to exist), the media pool a separate AgentPool; on both the
 * autoscaler owns the node count, which updates never reset (`ignoreChanges`).
 */
export class AksCluster extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  /** The `MC_...` group AKS manages. */
  readonly nodeResourceGroup: pulumi.Output<string>;
  /** Object id of the kubelet identity (pulls images). */
  readonly kubeletObjectId: pulumi.Output<string>;
  /** Kubernetes provider signing in as the identity running `pulumi up` (kubelogin with the Azure CLI login). */
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
        identity: { type: "UserAssigned", userAssignedIdentities: [args.identity.id] },
        enableRBAC: true,
        disableLocalAccounts: true,
        aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [...args.adminGroupObjectIds] },
        apiServerAccessProfile: { authorizedIPRanges: [...args.apiServerAuthorizedIpRanges] },
        agentPoolProfiles: [systemPoolProfile(args)],
        networkProfile: {
          networkPlugin: "azure",
          networkPluginMode: "overlay",
          podCidr: args.podCidr,
          networkPolicy: args.networkPolicy,
          ...(args.networkPolicy === "cilium" ? { networkDataplane: "cilium" } : {}),
          loadBalancerSku: "standard",
          outboundType: "loadBalancer",
          loadBalancerProfile: { outboundIPs: { publicIPs: [{ id: args.egressIpId }] } },
        },
        autoUpgradeProfile: { upgradeChannel: "none", nodeOSUpgradeChannel: "NodeImage" },
      },
      { parent: this, dependsOn: [...args.identity.grants], ignoreChanges: ["agentPoolProfiles[0].count"] },
    );
    const mediaPool = new containerservice.AgentPool(`${name}-media`, mediaPoolArgs(args, cluster.name), {
      parent: this,
      ignoreChanges: ["count"],
    });

    this.clusterName = cluster.name;
    const reported = <T>(what: string, value: T | undefined): T => {
      if (value === undefined) throw new Error(`AKS cluster ${args.clusterName} reported no ${what}`);
      return value;
    };
    this.nodeResourceGroup = cluster.nodeResourceGroup.apply((group) => reported("node resource group", group));
    this.kubeletObjectId = cluster.identityProfile.apply((profile) =>
      reported("kubelet identity", profile?.["kubeletidentity"]?.objectId),
    );

    // `pulumi up` deploys the workloads as whoever runs it: cluster admin through Azure RBAC, not a local account.
    const deployerAdmin = grantRole(
      `${name}-deployer-cluster-admin`,
      { principalId: deployerObjectId(this), role: "aksRbacClusterAdmin", scope: cluster.id },
      { parent: this },
    );
    const credentials = containerservice.listManagedClusterUserCredentialsOutput(
      { resourceGroupName: args.resourceGroupName, resourceName: cluster.name, format: "exec" },
      { parent: this },
    );
    const kubeconfig = credentials.kubeconfigs.apply((kubeconfigs) => {
      const encoded = kubeconfigs[0]?.value;
      if (encoded === undefined) throw new Error(`AKS cluster ${args.clusterName} returned no kubeconfig`);
      return azureCliKubeconfig(Buffer.from(encoded, "base64").toString("utf8"));
    });
    this.provider = new k8s.Provider(name, { kubeconfig }, { parent: this, dependsOn: [deployerAdmin, mediaPool] });

    this.registerOutputs({
      clusterName: this.clusterName,
      nodeResourceGroup: this.nodeResourceGroup,
      kubeletObjectId: this.kubeletObjectId,
    });
  }
}
