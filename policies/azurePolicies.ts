import type { PolicyConfigSchema, PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { settingsOf } from "./policyConfig.js";

/**
 * Security settings are required explicitly rather than trusted to Azure's defaults: defaults differ between API
 * versions, so an SDK upgrade could silently weaken a resource nobody touched.
 *
 * The policies know the resources by type token and read their inputs through small views rather than the
 * azure-native SDK's classes, so the published pack does not depend on that (very large) SDK.
 */

const azureTypes = {
  storageAccount: "azure-native:storage:StorageAccount",
  managedCluster: "azure-native:containerservice:ManagedCluster",
  publicIp: "azure-native:network:PublicIPAddress",
  registry: "azure-native:containerregistry:Registry",
  redis: "azure-native:redis:Redis",
  redisFirewallRule: "azure-native:redis:FirewallRule",
} as const;

/** A validation of one resource type; the resource's inputs are untrusted data, every field of the view optional. */
function validateAzure<View>(
  type: string,
  check: (resource: View, reportViolation: ReportViolation, name: string, args: ResourceValidationArgs) => void,
): ResourceValidation {
  return (args, reportViolation) => {
    if (args.type !== type) return;
    check(args.props as View, reportViolation, args.name, args);
  };
}

interface NetworkRules {
  defaultAction?: string;
  ipRules?: { iPAddressOrRange?: string }[];
}

interface StorageAccountView {
  enableHttpsTrafficOnly?: boolean;
  minimumTlsVersion?: string;
  allowBlobPublicAccess?: boolean;
  allowSharedKeyAccess?: boolean;
  publicNetworkAccess?: string;
  networkRuleSet?: NetworkRules;
}

interface ManagedClusterView {
  enableRBAC?: boolean;
  kubernetesVersion?: string;
  networkProfile?: { networkPolicy?: string };
  disableLocalAccounts?: boolean;
  aadProfile?: { managed?: boolean; enableAzureRBAC?: boolean };
  apiServerAccessProfile?: { authorizedIPRanges?: string[]; enablePrivateCluster?: boolean };
}

interface PublicIpView {
  sku?: { name?: string };
  publicIPAllocationMethod?: string;
}

interface RegistryView {
  adminUserEnabled?: boolean;
  publicNetworkAccess?: string;
  networkRuleSet?: NetworkRules;
}

interface RedisView {
  enableNonSslPort?: boolean;
  minimumTlsVersion?: string;
  publicNetworkAccess?: string;
}

/** An address range that admits the whole internet. */
export function admitsEveryone(range: string | undefined): boolean {
  return range === undefined || ["0.0.0.0/0", "0.0.0.0", "*", "any", "::/0"].includes(range.trim());
}

/** Why a resource's public endpoint is open, or undefined when it is disabled or behind a deny-by-default firewall. */
function openEndpointProblem(publicNetworkAccess: string | undefined, rules: NetworkRules | undefined): string | undefined {
  if (publicNetworkAccess === "Disabled") return undefined;
  if (rules?.defaultAction !== "Deny") {
    return `public network access is ${publicNetworkAccess ?? "unset (enabled)"} and networkRuleSet.defaultAction is ${rules?.defaultAction ?? "unset (Allow)"}; disable it or deny by default`;
  }
  const open = (rules.ipRules ?? []).filter((rule) => admitsEveryone(rule.iPAddressOrRange));
  return open.length === 0 ? undefined : "an IP rule admits every address";
}

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
  validateResource: validateAzure<StorageAccountView>(azureTypes.storageAccount, (account, reportViolation) => {
    if (account.enableHttpsTrafficOnly !== true) reportViolation("enableHttpsTrafficOnly must be true");
  }),
};

export const storageMinimumTls: ResourceValidationPolicy = {
  name: "azure-storage-minimum-tls-1-2",
  description: "Storage accounts refuse TLS 1.0 and 1.1, which are broken and deprecated by Azure.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<StorageAccountView>(azureTypes.storageAccount, (account, reportViolation) => {
    if (!isAtLeastTls12(account.minimumTlsVersion)) {
      reportViolation(`minimumTlsVersion must be TLS1_2 or newer, not ${account.minimumTlsVersion ?? "unset"}`);
    }
  }),
};

export const storageNoPublicBlobs: ResourceValidationPolicy = {
  name: "azure-storage-no-public-blob-access",
  description: "Storage accounts forbid anonymous blob access: recordings of private meetings must never be one URL away.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<StorageAccountView>(azureTypes.storageAccount, (account, reportViolation) => {
    if (account.allowBlobPublicAccess !== false) reportViolation("allowBlobPublicAccess must be false");
  }),
};

export const aksRbac: ResourceValidationPolicy = {
  name: "azure-aks-rbac-enabled",
  description: "AKS clusters enforce Kubernetes RBAC, so workloads and people get only the API rights they are granted.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<ManagedClusterView>(azureTypes.managedCluster, (cluster, reportViolation) => {
    if (cluster.enableRBAC !== true) reportViolation("enableRBAC must be true");
  }),
};

export const aksNetworkPolicy: ResourceValidationPolicy = {
  name: "azure-aks-network-policy",
  description:
    "AKS clusters run a network policy engine (calico, azure or cilium): without one the workloads' NetworkPolicies " +
    "are accepted by the API and silently not enforced.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<ManagedClusterView>(azureTypes.managedCluster, (cluster, reportViolation) => {
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
  validateResource: validateAzure<ManagedClusterView>(azureTypes.managedCluster, (cluster, reportViolation) => {
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
  validateResource: validateAzure<PublicIpView>(azureTypes.publicIp, (ip, reportViolation) => {
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
  validateResource: validateAzure<RegistryView>(azureTypes.registry, (registry, reportViolation) => {
    if (registry.adminUserEnabled !== false) reportViolation("adminUserEnabled must be false");
  }),
};

export const redisTlsOnly: ResourceValidationPolicy = {
  name: "azure-redis-tls-only",
  description:
    "Managed Redis accepts TLS 1.2+ connections only: the balancer's Redis holds tenant meeting mappings and its " +
    "access key, which must not cross the network in clear text.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<RedisView>(azureTypes.redis, (cache, reportViolation) => {
    if (cache.enableNonSslPort !== false) reportViolation("enableNonSslPort must be false");
    if (!isAtLeastTls12(cache.minimumTlsVersion)) {
      reportViolation(`minimumTlsVersion must be 1.2 or newer, not ${cache.minimumTlsVersion ?? "unset"}`);
    }
  }),
};

export const storageNetworkRestricted: ResourceValidationPolicy = {
  name: "azure-storage-network-restricted",
  description:
    "Storage accounts are not open to the internet: public network access disabled, or a firewall that denies by " +
    "default and admits only named networks (the nodes' subnet), so a leaked key alone does not reach the recordings.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<StorageAccountView>(azureTypes.storageAccount, (account, reportViolation) => {
    const problem = openEndpointProblem(account.publicNetworkAccess, account.networkRuleSet);
    if (problem !== undefined) reportViolation(problem);
  }),
};

interface ResourceExemption {
  /** The resource's logical (Pulumi) name. */
  resource: string;
  reason: string;
}

const sharedKeySchema: PolicyConfigSchema = {
  properties: {
    exemptions: {
      type: "array",
      items: {
        type: "object",
        properties: { resource: { type: "string", minLength: 1 }, reason: { type: "string", minLength: 1 } },
        required: ["resource", "reason"],
      },
      default: [
        {
          resource: "mediaplane-recordings",
          reason:
            "the Azure Files CSI driver mounts the share over SMB with the account key (Entra ID SMB auth needs " +
            "domain-joined clients); the key lives only in the driver's Secret",
        },
      ],
    },
  },
};

export const storageSharedKeyDisabled: ResourceValidationPolicy = {
  name: "azure-storage-shared-key-disabled",
  description:
    "Storage accounts turn shared-key access off (allowSharedKeyAccess: false), so only Entra ID identities reach " +
    "the data; the pack's config names, with a reason, the accounts a client needs the key for.",
  enforcementLevel: "mandatory",
  configSchema: sharedKeySchema,
  validateResource: validateAzure<StorageAccountView>(azureTypes.storageAccount, (account, reportViolation, name, args) => {
    if (account.allowSharedKeyAccess === false) return;
    const { exemptions } = settingsOf<{ exemptions: ResourceExemption[] }>(sharedKeySchema, args);
    if (exemptions.some((exemption) => exemption.resource === name && exemption.reason.trim() !== "")) return;
    reportViolation(`allowSharedKeyAccess must be false (it is ${String(account.allowSharedKeyAccess ?? "unset, so true")}), or the pack's config must exempt ${name}`);
  }),
};

export const aksLocalAccountsDisabled: ResourceValidationPolicy = {
  name: "azure-aks-local-accounts-disabled",
  description:
    "AKS clusters disable local accounts: the static admin credential of a local account cannot be revoked per " +
    "person or audited; people and pipelines sign in through Entra ID.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<ManagedClusterView>(azureTypes.managedCluster, (cluster, reportViolation) => {
    if (cluster.disableLocalAccounts !== true) reportViolation("disableLocalAccounts must be true");
  }),
};

export const aksEntraIdRbac: ResourceValidationPolicy = {
  name: "azure-aks-entra-id-azure-rbac",
  description:
    "AKS clusters use managed Entra ID integration with Azure RBAC, so who may do what in the cluster is granted " +
    "and revoked with the subscription's role assignments.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<ManagedClusterView>(azureTypes.managedCluster, (cluster, reportViolation) => {
    if (cluster.aadProfile?.managed !== true) reportViolation("aadProfile.managed must be true");
    if (cluster.aadProfile?.enableAzureRBAC !== true) reportViolation("aadProfile.enableAzureRBAC must be true");
  }),
};

export const aksAuthorizedIpRanges: ResourceValidationPolicy = {
  name: "azure-aks-authorized-ip-ranges",
  description:
    "The AKS API server accepts connections only from named address ranges (or is private): an API server open to " +
    "the internet is one leaked token or one API server flaw away from the whole cluster.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<ManagedClusterView>(azureTypes.managedCluster, (cluster, reportViolation) => {
    const access = cluster.apiServerAccessProfile;
    if (access?.enablePrivateCluster === true) return;
    const ranges = access?.authorizedIPRanges ?? [];
    if (ranges.length === 0) reportViolation("apiServerAccessProfile.authorizedIPRanges must list the ranges allowed to reach the API");
    else if (ranges.some(admitsEveryone)) reportViolation("apiServerAccessProfile.authorizedIPRanges admits every address");
  }),
};

export const registryNetworkRestricted: ResourceValidationPolicy = {
  name: "azure-registry-network-restricted",
  description:
    "Container registries are not open to the internet: public network access disabled, or a firewall that denies " +
    "by default and admits the deploying machines and the cluster's egress address only.",
  enforcementLevel: "mandatory",
  validateResource: validateAzure<RegistryView>(azureTypes.registry, (registry, reportViolation) => {
    const problem = openEndpointProblem(registry.publicNetworkAccess, registry.networkRuleSet);
    if (problem !== undefined) reportViolation(problem);
  }),
};

interface RedisFirewallRuleView {
  startIP?: string;
  endIP?: string;
}

export const redisNetworkRestricted: StackValidationPolicy = {
  name: "azure-redis-network-restricted",
  description:
    "Azure Cache for Redis is not open to the internet: public network access disabled, or firewall rules declared " +
    "beside the cache (Azure admits every address while a cache has none), none of them spanning every address.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const rules = args.resources.filter((resource) => resource.type === azureTypes.redisFirewallRule);
    const besides = (cache: PolicyResource) => rules.filter((rule) => rule.parent !== undefined && rule.parent.urn === cache.parent?.urn);
    for (const cache of args.resources.filter((resource) => resource.type === azureTypes.redis)) {
      const { publicNetworkAccess } = cache.props as RedisView;
      if (publicNetworkAccess === "Disabled") continue;
      const own = besides(cache);
      if (own.length === 0) reportViolation(`Redis ${cache.name} has public network access and no firewall rule: every address may connect`, cache.urn);
      for (const rule of own) {
        const { startIP, endIP } = rule.props as RedisFirewallRuleView;
        if (startIP === "0.0.0.0" && endIP === "255.255.255.255") reportViolation(`firewall rule ${rule.name} admits every address`, rule.urn);
      }
    }
  },
};

export const azurePolicies = [
  storageHttpsOnly,
  storageMinimumTls,
  storageNoPublicBlobs,
  storageNetworkRestricted,
  storageSharedKeyDisabled,
  aksRbac,
  aksLocalAccountsDisabled,
  aksEntraIdRbac,
  aksAuthorizedIpRanges,
  aksNetworkPolicy,
  aksPinnedVersion,
  publicIpStandardStatic,
  registryAdminUserDisabled,
  registryNetworkRestricted,
  redisTlsOnly,
  redisNetworkRestricted,
];
