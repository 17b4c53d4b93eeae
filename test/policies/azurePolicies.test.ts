import { describe, expect, it } from "vitest";
import {
  aksNetworkPolicy,
  aksPinnedVersion,
  aksRbac,
  isAtLeastTls12,
  publicIpStandardStatic,
  redisTlsOnly,
  registryAdminUserDisabled,
  storageHttpsOnly,
  storageMinimumTls,
  storageNoPublicBlobs,
} from "../../policies/azurePolicies.js";
import { planned, violationsOf } from "./support/resources.js";

const storageAccount = (props: Record<string, unknown>) =>
  planned("azure-native:storage:StorageAccount", {
    kind: "StorageV2",
    enableHttpsTrafficOnly: true,
    minimumTlsVersion: "TLS1_2",
    allowBlobPublicAccess: false,
    ...props,
  });

const aksCluster = (props: Record<string, unknown>) =>
  planned("azure-native:containerservice:ManagedCluster", {
    enableRBAC: true,
    kubernetesVersion: "1.33",
    networkProfile: { networkPlugin: "azure", networkPolicy: "calico" },
    ...props,
  });

describe("azure-storage-https-only", () => {
  it("accepts an HTTPS-only account", async () => {
    expect(await violationsOf(storageHttpsOnly, storageAccount({}))).toEqual([]);
  });

  it("rejects an account that also serves HTTP", async () => {
    expect(await violationsOf(storageHttpsOnly, storageAccount({ enableHttpsTrafficOnly: false }))).toEqual([
      "enableHttpsTrafficOnly must be true",
    ]);
  });

  it("rejects an account that leaves it to the API version's default", async () => {
    expect(await violationsOf(storageHttpsOnly, storageAccount({ enableHttpsTrafficOnly: undefined }))).toHaveLength(1);
  });

  it("ignores other resource types", async () => {
    expect(await violationsOf(storageHttpsOnly, planned("azure-native:storage:FileShare", { shareQuota: 100 }))).toEqual([]);
  });
});

describe("azure-storage-minimum-tls-1-2", () => {
  it("accepts TLS1_2 and TLS1_3", async () => {
    expect(await violationsOf(storageMinimumTls, storageAccount({}), storageAccount({ minimumTlsVersion: "TLS1_3" }))).toEqual([]);
  });

  it("rejects TLS1_0", async () => {
    expect(await violationsOf(storageMinimumTls, storageAccount({ minimumTlsVersion: "TLS1_0" }))).toEqual([
      "minimumTlsVersion must be TLS1_2 or newer, not TLS1_0",
    ]);
  });
});

describe("azure-storage-no-public-blob-access", () => {
  it("accepts an account without public blob access", async () => {
    expect(await violationsOf(storageNoPublicBlobs, storageAccount({}))).toEqual([]);
  });

  it("rejects an account allowing anonymous blob reads", async () => {
    expect(await violationsOf(storageNoPublicBlobs, storageAccount({ allowBlobPublicAccess: true }))).toEqual([
      "allowBlobPublicAccess must be false",
    ]);
  });
});

describe("azure-aks-rbac-enabled", () => {
  it("accepts a cluster with RBAC", async () => {
    expect(await violationsOf(aksRbac, aksCluster({}))).toEqual([]);
  });

  it("rejects a cluster without RBAC", async () => {
    expect(await violationsOf(aksRbac, aksCluster({ enableRBAC: false }))).toEqual(["enableRBAC must be true"]);
  });
});

describe("azure-aks-network-policy", () => {
  it("accepts a cluster with a network policy engine", async () => {
    expect(await violationsOf(aksNetworkPolicy, aksCluster({}))).toEqual([]);
  });

  it("rejects a cluster whose NetworkPolicies would not be enforced", async () => {
    const unenforced = aksCluster({ networkProfile: { networkPlugin: "azure", networkPolicy: "none" } });
    expect(await violationsOf(aksNetworkPolicy, unenforced, aksCluster({ networkProfile: undefined }))).toEqual([
      "networkProfile.networkPolicy must name an engine, not none",
      "networkProfile.networkPolicy must name an engine, not unset",
    ]);
  });
});

describe("azure-aks-pinned-kubernetes-version", () => {
  it("accepts a minor or a patch version", async () => {
    expect(await violationsOf(aksPinnedVersion, aksCluster({}), aksCluster({ kubernetesVersion: "1.33.2" }))).toEqual([]);
  });

  it("rejects a cluster without a version", async () => {
    expect(await violationsOf(aksPinnedVersion, aksCluster({ kubernetesVersion: undefined }))).toEqual([
      "kubernetesVersion must be pinned to a version such as 1.33, not unset",
    ]);
  });
});

describe("azure-public-ip-standard-static", () => {
  it("accepts a Standard static IP", async () => {
    const ip = planned("azure-native:network:PublicIPAddress", { sku: { name: "Standard" }, publicIPAllocationMethod: "Static" });
    expect(await violationsOf(publicIpStandardStatic, ip)).toEqual([]);
  });

  it("rejects a Basic dynamic IP", async () => {
    const ip = planned("azure-native:network:PublicIPAddress", { sku: { name: "Basic" }, publicIPAllocationMethod: "Dynamic" });
    expect(await violationsOf(publicIpStandardStatic, ip)).toEqual([
      "sku.name must be Standard, not Basic",
      "publicIPAllocationMethod must be Static, not Dynamic",
    ]);
  });
});

describe("azure-registry-admin-user-disabled", () => {
  it("accepts a registry without the admin user", async () => {
    const registry = planned("azure-native:containerregistry:Registry", { sku: { name: "Basic" }, adminUserEnabled: false });
    expect(await violationsOf(registryAdminUserDisabled, registry)).toEqual([]);
  });

  it("rejects a registry with the admin user", async () => {
    const registry = planned("azure-native:containerregistry:Registry", { sku: { name: "Basic" }, adminUserEnabled: true });
    expect(await violationsOf(registryAdminUserDisabled, registry)).toEqual(["adminUserEnabled must be false"]);
  });
});

describe("azure-redis-tls-only", () => {
  it("accepts a cache with TLS 1.2 only", async () => {
    const cache = planned("azure-native:redis:Redis", { enableNonSslPort: false, minimumTlsVersion: "1.2" });
    expect(await violationsOf(redisTlsOnly, cache)).toEqual([]);
  });

  it("rejects the plain-text port and old TLS", async () => {
    const cache = planned("azure-native:redis:Redis", { enableNonSslPort: true, minimumTlsVersion: "1.0" });
    expect(await violationsOf(redisTlsOnly, cache)).toEqual([
      "enableNonSslPort must be false",
      "minimumTlsVersion must be 1.2 or newer, not 1.0",
    ]);
  });
});

describe("minimum TLS settings", () => {
  it("reads Azure's spellings of TLS versions", () => {
    expect(["TLS1_2", "TLS1_3", "1.2", "tls1_2"].map(isAtLeastTls12)).toEqual([true, true, true, true]);
    expect(["TLS1_0", "1.1", "", undefined, "Tls12"].map(isAtLeastTls12)).toEqual([false, false, false, false, false]);
  });
});
