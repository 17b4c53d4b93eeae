import * as pulumi from "@pulumi/pulumi";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as network from "@pulumi/azure-native/network/index.js";
import * as resources from "@pulumi/azure-native/resources/index.js";
import * as random from "@pulumi/random";
import type * as k8s from "@pulumi/kubernetes";
import type { AzureClusterSettings, StackConfig } from "../../config/index.js";
import { AksCluster, mediaPoolLabel, type HostPortRange } from "./AksCluster.js";
import { ManagedRedis, type RedisConnection } from "./ManagedRedis.js";
import { RecordingShare } from "./RecordingShare.js";
import { Registry } from "./Registry.js";
import { StaticIps, staticPublicIp, type StaticIp, type StaticIpRole } from "./StaticIps.js";
import { alphanumericName, azureResourceName, uniqueResourceName, uniqueSuffixLength } from "./naming.js";
import { grantRole } from "./roles.js";

/** Host ports the media nodes open on their public IPs, derived from what the stack runs there. */
export function mediaHostPorts(config: Pick<StackConfig, "janus" | "jitsi">): HostPortRange[] {
  const ranges: HostPortRange[] = [];
  if (config.janus.enabled) ranges.push({ ...config.janus.rtpPortRange, protocol: "UDP" });
  if (config.jitsi.enabled && config.jitsi.jvb.exposure === "hostPort") {
    ranges.push({ min: config.jitsi.jvb.udpPort, max: config.jitsi.jvb.udpPort, protocol: "UDP" });
  }
  return ranges;
}

/** Where media pods must run to get a public node IP, and the toleration of the media pool's taint. */
export interface MediaNodePlacement {
  readonly nodeSelector: Record<string, string>;
  readonly tolerations: { key: string; operator: "Equal"; value: string; effect: "NoSchedule" }[];
}

export const mediaNodePlacement: MediaNodePlacement = {
  nodeSelector: { [mediaPoolLabel.key]: mediaPoolLabel.value },
  tolerations: [{ key: mediaPoolLabel.key, operator: "Equal", value: mediaPoolLabel.value, effect: "NoSchedule" }],
};

/**
 * The nodes' network: AKS's default node range, clear of the default service range (10.0.0.0/16) and of the pod
 * overlay (10.244.0.0/16). Its subnet has the storage service endpoint, through which the recordings account
 * admits the nodes.
 */
export const nodeNetwork = { addressSpace: "10.224.0.0/12", subnet: "10.224.0.0/16", subnetName: "nodes" } as const;

/** The Azure side of a stack: everything the Kubernetes workloads stand on. */
export interface AzureFoundation {
  readonly resourceGroupName: pulumi.Output<string>;
  readonly cluster: AksCluster;
  readonly staticIps: Readonly<Record<StaticIpRole, StaticIp>>;
  /** The address all of the cluster's outbound traffic leaves from (firewalls of the registry and Redis admit it). */
  readonly egressAddress: pulumi.Output<string>;
  readonly registry: Registry;
  /** Set when the stack asks for Azure Cache for Redis. */
  readonly managedRedis: RedisConnection | undefined;
  /** Creates the recordings share, its key's Secret and claim in `namespace`, and a claim in each of `alsoClaimedIn`. */
  readonly recordingShare: (
    namespace: pulumi.Input<string>,
    alsoClaimedIn: Readonly<Record<string, pulumi.Input<string>>>,
    provider: k8s.Provider,
  ) => RecordingShare;
}

/**
 * Builds the Azure resources of a stack as children of `parent`, every logical name derived from `name`. The stack's
 * resource group holds what must outlive the cluster: its identity (and that identity's role), the network, the
 * static addresses, the registry, the caches and the recordings.
 */
export function azureFoundation(name: string, config: StackConfig, azure: AzureClusterSettings, parent: pulumi.Resource): AzureFoundation {
  const opts = { parent };
  const prefix = azure.namePrefix;
  // Globally unique names (DNS labels) end in this: stable for the stack, different for every other stack.
  const suffix = new random.RandomString(
    `${name}-name-suffix`,
    { length: uniqueSuffixLength, lower: true, upper: false, numeric: true, special: false },
    opts,
  ).result;
  const group = new resources.ResourceGroup(`${name}-group`, { resourceGroupName: azureResourceName(prefix, "rg"), location: azure.location }, opts);
  const location = group.location;

  const identity = new managedidentity.UserAssignedIdentity(
    `${name}-cluster-identity`,
    { resourceName: azureResourceName(prefix, "aks-identity"), resourceGroupName: group.name, location },
    opts,
  );
  // Joins nodes to the subnet, and attaches the egress and Service addresses to the cluster's load balancer.
  const clusterGrant = grantRole(
    `${name}-cluster-network-contributor`,
    { principalId: identity.principalId, principalType: "ServicePrincipal", role: "networkContributor", scope: group.id },
    opts,
  );
  const nodeNetworkResource = new network.VirtualNetwork(
    `${name}-network`,
    {
      virtualNetworkName: azureResourceName(prefix, "vnet"),
      resourceGroupName: group.name,
      location,
      addressSpace: { addressPrefixes: [nodeNetwork.addressSpace] },
      subnets: [{ name: nodeNetwork.subnetName, addressPrefix: nodeNetwork.subnet, serviceEndpoints: [{ service: "Microsoft.Storage" }] }],
    },
    opts,
  );
  const nodeSubnetId = pulumi.interpolate`${nodeNetworkResource.id}/subnets/${nodeNetwork.subnetName}`;
  const zones = azure.systemPool.zones;
  const egressIp = staticPublicIp(
    `${name}-egress-ip`,
    { ipName: azureResourceName(prefix, "egress"), resourceGroupName: group.name, location, zones },
    opts,
  );
  const egressAddress = egressIp.ipAddress.apply((address) => address ?? "");

  const cluster = new AksCluster(
    `${name}-aks`,
    {
      resourceGroupName: group.name,
      location,
      clusterName: azureResourceName(prefix, "aks"),
      kubernetesVersion: azure.kubernetesVersion,
      networkPolicy: azure.networkPolicy,
      podCidr: azure.podCidr,
      skuTier: azure.skuTier,
      systemPool: azure.systemPool,
      mediaPool: azure.mediaPool,
      mediaHostPorts: mediaHostPorts(config),
      apiServerAuthorizedIpRanges: azure.apiServerAuthorizedIpRanges,
      adminGroupObjectIds: azure.adminGroupObjectIds,
      identity: { id: identity.id, grants: [clusterGrant] },
      nodeSubnetId,
      egressIpId: egressIp.id,
    },
    opts,
  );
  const staticIps = new StaticIps(
    `${name}-ips`,
    { namePrefix: prefix, location, zones, resourceGroupName: group.name, clusterGrant },
    opts,
  );
  const registry = new Registry(
    `${name}-registry`,
    {
      resourceGroupName: group.name,
      location,
      registryName: suffix.apply((unique) => alphanumericName(prefix, "acr", unique, 50)),
      kubeletObjectId: cluster.kubeletObjectId,
      allowedSources: egressAddress.apply((egress) => [...azure.apiServerAuthorizedIpRanges, egress]),
    },
    opts,
  );
  const managedRedis =
    config.redis.mode === "managed"
      ? new ManagedRedis(
          `${name}-redis`,
          {
            resourceGroupName: group.name,
            location,
            cacheName: suffix.apply((unique) => uniqueResourceName(prefix, "redis", unique)),
            sku: config.redis.sku,
            family: config.redis.family,
            capacity: config.redis.capacity,
            zones,
            shardCount: config.redis.shardCount,
            allowedAddresses: [egressAddress],
          },
          opts,
        ).connection
      : undefined;

  return {
    resourceGroupName: group.name,
    cluster,
    staticIps: staticIps.ips,
    egressAddress,
    registry,
    managedRedis,
    recordingShare: (namespace, alsoClaimedIn, provider) =>
      new RecordingShare(
        `${name}-recordings`,
        {
          resourceGroupName: group.name,
          location,
          storageAccountName: suffix.apply((unique) => alphanumericName(prefix, "rec", unique, 24)),
          nodeSubnetId,
          sku: azure.recordingStorageSku,
          shareName: "recordings",
          quotaGi: config.recordings.quotaGi,
          namespace,
          alsoClaimedIn,
          provider,
        },
        opts,
      ),
  };
}
