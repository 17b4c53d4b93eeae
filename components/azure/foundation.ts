import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources/index.js";
import type * as k8s from "@pulumi/kubernetes";
import type { AzureClusterSettings, StackConfig } from "../../config/index.js";
import { AksCluster, mediaPoolLabel, type HostPortRange } from "./AksCluster.js";
import { ManagedRedis, type RedisConnection } from "./ManagedRedis.js";
import { RecordingShare } from "./RecordingShare.js";
import { Registry } from "./Registry.js";
import { StaticIps, type StaticIp, type StaticIpRole } from "./StaticIps.js";
import { alphanumericName, azureResourceName } from "./naming.js";

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

/** The Azure side of a stack: everything the Kubernetes workloads stand on. */
export interface AzureFoundation {
  readonly resourceGroupName: pulumi.Output<string>;
  readonly cluster: AksCluster;
  readonly staticIps: Readonly<Record<StaticIpRole, StaticIp>>;
  readonly registry: Registry;
  /** Set when the stack asks for Azure Cache for Redis. */
  readonly managedRedis: RedisConnection | undefined;
  /** Creates the recordings share and its claim in the given namespace. */
  readonly recordingShare: (namespace: pulumi.Input<string>, provider: k8s.Provider) => RecordingShare;
}

/** Builds the Azure resources of a stack as children of `parent`. */
export function azureFoundation(
  config: StackConfig,
  azure: AzureClusterSettings,
  parent: pulumi.Resource,
): AzureFoundation {
  const opts = { parent };
  const prefix = azure.namePrefix;
  const group = new resources.ResourceGroup(
    "stack",
    { resourceGroupName: azureResourceName(prefix, "rg"), location: azure.location },
    opts,
  );
  const location = group.location;
  const cluster = new AksCluster(
    "aks",
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
    },
    opts,
  );
  const staticIps = new StaticIps(
    "ips",
    {
      namePrefix: prefix,
      location,
      zones: azure.systemPool.zones,
      placement:
        azure.staticIpPlacement === "nodeResourceGroup"
          ? { kind: "nodeResourceGroup", resourceGroupName: cluster.nodeResourceGroup }
          : {
              kind: "stackResourceGroup",
              resourceGroupName: group.name,
              resourceGroupId: group.id,
              clusterPrincipalId: cluster.principalId,
            },
    },
    opts,
  );
  const registry = new Registry(
    "registry",
    {
      resourceGroupName: group.name,
      location,
      registryName: alphanumericName(prefix, "acr", 50),
      sku: azure.registrySku,
      kubeletObjectId: cluster.kubeletObjectId,
    },
    opts,
  );
  const managedRedis =
    config.redis.mode === "managed"
      ? new ManagedRedis(
          "redis",
          {
            resourceGroupName: group.name,
            location,
            cacheName: azureResourceName(prefix, "redis"),
            sku: config.redis.sku,
            family: config.redis.family,
            capacity: config.redis.capacity,
            zones: azure.systemPool.zones,
            shardCount: config.redis.shardCount,
          },
          opts,
        ).connection
      : undefined;

  return {
    resourceGroupName: group.name,
    cluster,
    staticIps: staticIps.ips,
    registry,
    managedRedis,
    recordingShare: (namespace, provider) =>
      new RecordingShare(
        "recordings",
        {
          resourceGroupName: group.name,
          location,
          storageAccountName: alphanumericName(prefix, "rec", 24),
          sku: azure.recordingStorageSku,
          shareName: "recordings",
          quotaGi: config.recordings.quotaGi,
          namespace,
          provider,
        },
        opts,
      ),
  };
}
