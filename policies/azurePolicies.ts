import * as containerregistry from "@pulumi/azure-native/containerregistry/index.js";
import * as containerservice from "@pulumi/azure-native/containerservice/index.js";
import * as network from "@pulumi/azure-native/network/index.js";
import * as redis from "@pulumi/azure-native/redis/index.js";
import * as storage from "@pulumi/azure-native/storage/index.js";
import { validateResourceOfType, type ResourceValidationPolicy } from "@pulumi/policy";

/**
 * Security settings are required explicitly rather than trusted to Azure's defaults: defaults differ between API
 * versions, so an SDK upgrade could silently weaken a resource nobody touched.
 */

/** "TLS1_2", "1.2", "TLS1_3" → [1, 2] / [1, 3]; anything else → undefined. */
function tlsVersion(setting: string | undefined): [number, number] | undefined {
  const match = /^(?:TLS)?(\d)[._](\d)$/i.exec(setting ?? "");
  return match === null ? undefined : [Number(match[1]), Number(match[2])];
}

/** Whether a minimum TLS setting refuses everything older than TLS 1.2. */
export function isAtLeastTls12(setting: string | undefined): boolean {
  const version = tlsVersion(setting);
  return version !== undefined && (version[0] > 1 || version[1] >= 2);
}

export const storageHttpsOnly: ResourceValidationPolicy = {
  name: "azure-storage-https-only",
  description: "Storage accounts accept HTTPS only: recordings and keys never cross the network in clear text.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
    if (account.enableHttpsTrafficOnly !== true) reportViolation("enableHttpsTrafficOnly must be true");
  }),
};

export const storageMinimumTls: ResourceValidationPolicy = {
  name: "azure-storage-minimum-tls-1-2",
  description: "Storage accounts refuse TLS 1.0 and 1.1, which are broken and deprecated by Azure.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
    if (!isAtLeastTls12(account.minimumTlsVersion)) {
      reportViolation(`minimumTlsVersion must be TLS1_2 or newer, not ${account.minimumTlsVersion ?? "unset"}`);
    }
  }),
};

export const storageNoPublicBlobs: ResourceValidationPolicy = {
  name: "azure-storage-no-public-blob-access",
  description: "Storage accounts forbid anonymous blob access: recordings of private meetings must never be one URL away.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
    if (account.allowBlobPublicAccess !== false) reportViolation("allowBlobPublicAccess must be false");
  }),
};

export const aksRbac: ResourceValidationPolicy = {
  name: "azure-aks-rbac-enabled",
  description: "AKS clusters enforce Kubernetes RBAC, so workloads and people get only the API rights they are granted.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
    if (cluster.enableRBAC !== true) reportViolation("enableRBAC must be true");
  }),
};

export const aksNetworkPolicy: ResourceValidationPolicy = {
  name: "azure-aks-network-policy",
  description:
    "AKS clusters run a network policy engine (calico, azure or cilium): without one the workloads' NetworkPolicies " +
    "are accepted by the API and silently not enforced.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
    const engine = cluster.networkProfile?.networkPolicy;
    if (engine === undefined || engine === "none") {
      reportViolation(`networkProfile.networkPolicy must name an engine, not ${engine ?? "unset"}`);
    }
  }),
};

export const aksPinnedVersion: ResourceValidationPolicy = {
  name: "azure-aks-pinned-kubernetes-version",
  description:
    "AKS clusters pin kubernetesVersion (1.33 or 1.33.2): an unpinned cluster gets whatever Azure's default is on " +
    "the day it is created, and two stacks of the same program drift apart.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(containerservice.ManagedCluster, (cluster, _args, reportViolation) => {
    if (!/^\d+\.\d+(?:\.\d+)?$/.test(cluster.kubernetesVersion ?? "")) {
      reportViolation(`kubernetesVersion must be pinned to a version such as 1.33, not ${cluster.kubernetesVersion ?? "unset"}`);
    }
  }),
};

export const publicIpStandardStatic: ResourceValidationPolicy = {
  name: "azure-public-ip-standard-static",
  description:
    "Public IPs are Standard SKU (required by the AKS Standard load balancer, zone-redundant) and Static, so the " +
    "addresses in DNS, JVB_ADVERTISE_IPS and TURN configs stay valid across re-creations.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(network.PublicIPAddress, (ip, _args, reportViolation) => {
    if (ip.sku?.name !== "Standard") reportViolation(`sku.name must be Standard, not ${ip.sku?.name ?? "unset"}`);
    if (ip.publicIPAllocationMethod !== "Static") {
      reportViolation(`publicIPAllocationMethod must be Static, not ${ip.publicIPAllocationMethod ?? "unset"}`);
    }
  }),
};

export const registryAdminUserDisabled: ResourceValidationPolicy = {
  name: "azure-registry-admin-user-disabled",
  description:
    "Container registries disable the admin user: its shared password cannot be scoped or audited; the cluster pulls " +
    "with its kubelet identity (AcrPull) instead.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(containerregistry.Registry, (registry, _args, reportViolation) => {
    if (registry.adminUserEnabled !== false) reportViolation("adminUserEnabled must be false");
  }),
};

export const redisTlsOnly: ResourceValidationPolicy = {
  name: "azure-redis-tls-only",
  description:
    "Managed Redis accepts TLS 1.2+ connections only: the balancer's Redis holds tenant meeting mappings and its " +
    "access key, which must not cross the network in clear text.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(redis.Redis, (cache, _args, reportViolation) => {
    if (cache.enableNonSslPort !== false) reportViolation("enableNonSslPort must be false");
    if (!isAtLeastTls12(cache.minimumTlsVersion)) {
      reportViolation(`minimumTlsVersion must be 1.2 or newer, not ${cache.minimumTlsVersion ?? "unset"}`);
    }
  }),
};

export const azurePolicies = [
  storageHttpsOnly,
  storageMinimumTls,
  storageNoPublicBlobs,
  aksRbac,
  aksNetworkPolicy,
  aksPinnedVersion,
  publicIpStandardStatic,
  registryAdminUserDisabled,
  redisTlsOnly,
];
