import { describe, expect, it } from "vitest";
import {
  admitsEveryone,
  aksAuthorizedIpRanges,
  aksEntraIdRbac,
  aksLocalAccountsDisabled,
  redisNetworkRestricted,
  registryNetworkRestricted,
  storageNetworkRestricted,
  storageSharedKeyDisabled,
} from "../../policies/azurePolicies.js";
import {
  addedCapabilities,
  allowedRegistries,
  hostNetwork,
  seccompRuntimeDefault,
  serviceAccountTokens,
} from "../../policies/kubernetes/containerPolicies.js";
import { imageRepository } from "../../policies/kubernetes/imagePins.js";
import { noPlainSecretOutputs } from "../../policies/stackOutputs.js";
import { blocksDeployment, evaluatePolicies, type PlannedResource } from "../../scripts/policyEvaluation.js";
import { deployment, hardenedContainer, planned, violationsOf } from "./support/resources.js";

describe("the hardening policies", () => {
  it("are all mandatory, so any violation they report fails the plan and the deployment", () => {
    const hardening = [
      hostNetwork, addedCapabilities, seccompRuntimeDefault, serviceAccountTokens, allowedRegistries,
      aksLocalAccountsDisabled, aksEntraIdRbac, aksAuthorizedIpRanges, storageNetworkRestricted, storageSharedKeyDisabled,
      registryNetworkRestricted, redisNetworkRestricted, noPlainSecretOutputs,
    ];
    expect(hardening.filter((policy) => policy.enforcementLevel !== "mandatory").map(({ name }) => name)).toEqual([]);
  });
});

const hostNetworkPod = (namespace: string, name: string, annotations: Record<string, string> = {}) => {
  const resource = deployment({ name, namespace, annotations });
  const spec = (resource.inputs["spec"] as { template: { spec: Record<string, unknown> } }).template.spec;
  spec["hostNetwork"] = true;
  return resource;
};

const withPodSpec = (resource: PlannedResource, change: (spec: Record<string, unknown>) => void): PlannedResource => {
  change((resource.inputs["spec"] as { template: { spec: Record<string, unknown> } }).template.spec);
  return resource;
};

describe("k8s-host-network", () => {
  it("accepts host networking for the workload the pack's config names (Janus)", async () => {
    expect(await violationsOf(hostNetwork, hostNetworkPod("mediaplane-media-host", "janus"))).toEqual([]);
  });

  it("rejects host networking for any other workload, failing the plan", async () => {
    const violations = await evaluatePolicies([hostNetworkPod("mediaplane", "coturn")], { policies: [hostNetwork] });
    expect(violations.map(({ message }) => message)).toEqual([
      "Deployment mediaplane/coturn uses hostNetwork, which the pack's config does not allow mediaplane/coturn",
    ]);
    expect(blocksDeployment(violations)).toBe(true);
  });

  it("cannot be granted by the workload itself, whatever it annotates or labels", async () => {
    const selfExempted = hostNetworkPod("mediaplane", "coturn", { "mediaplane.io/privileged-reason": "needs host network", "mediaplane.io/host-network": "janus" });
    expect(await violationsOf(hostNetwork, selfExempted)).toHaveLength(1);
  });

  it("is granted only through the pack's config, which names the workload", async () => {
    const config = { "k8s-host-network": { exemptions: [{ workload: "mediaplane/coturn", reason: "TURN relays on the node's ports" }] } };
    expect(await evaluatePolicies([hostNetworkPod("mediaplane", "coturn")], { policies: [hostNetwork], config })).toEqual([]);
  });
});

describe("k8s-added-capabilities", () => {
  const adding = (namespace: string, name: string, ...add: string[]) =>
    deployment({ name, namespace, containers: [hardenedContainer({ securityContext: { capabilities: { drop: ["ALL"], add } } })] });

  it("accepts the capabilities the allow-list gives the workload", async () => {
    expect(await violationsOf(addedCapabilities, adding("mediaplane-media", "jitsi-web", "CHOWN", "SETUID", "NET_BIND_SERVICE"), adding("mediaplane", "coturn", "NET_BIND_SERVICE"))).toEqual([]);
  });

  it("rejects a capability beyond the workload's allow-list, though another workload may have it", async () => {
    expect(await violationsOf(addedCapabilities, adding("mediaplane-media", "jitsi-prosody", "NET_BIND_SERVICE"))).toEqual([
      "Deployment mediaplane-media/jitsi-prosody containers[0] (app): adds capabilities NET_BIND_SERVICE that the pack's config does not allow mediaplane-media/jitsi-prosody",
    ]);
  });

  it("rejects any added capability in a workload without an allowance", async () => {
    expect(await violationsOf(addedCapabilities, adding("mediaplane", "balancer-api", "NET_ADMIN"))).toHaveLength(1);
  });
});

describe("k8s-seccomp-runtime-default", () => {
  it("accepts RuntimeDefault on the pod for every container", async () => {
    const container = hardenedContainer({ securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true } });
    expect(await violationsOf(seccompRuntimeDefault, deployment({ containers: [container], podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } } }))).toEqual([]);
  });

  it("rejects a container without a seccomp profile", async () => {
    const container = hardenedContainer({ securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true } });
    expect(await violationsOf(seccompRuntimeDefault, deployment({ containers: [container] }))).toEqual([
      expect.stringContaining("runs with seccomp profile unset (Unconfined on most runtimes)"),
    ]);
  });

  it("rejects Unconfined set on the container even when the pod says RuntimeDefault", async () => {
    const container = hardenedContainer({ securityContext: { seccompProfile: { type: "Unconfined" }, allowPrivilegeEscalation: false } });
    const resource = deployment({ containers: [container], podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } } });
    expect(await violationsOf(seccompRuntimeDefault, resource)).toHaveLength(1);
  });
});

describe("k8s-service-account-token-unmounted", () => {
  it("accepts a pod that does not mount the token", async () => {
    expect(await violationsOf(serviceAccountTokens, deployment())).toEqual([]);
  });

  it("rejects a pod that leaves the token mounted", async () => {
    const resource = withPodSpec(deployment({ name: "balancer-api", namespace: "mediaplane" }), (spec) => delete spec["automountServiceAccountToken"]);
    expect(await violationsOf(serviceAccountTokens, resource)).toEqual([
      "Deployment mediaplane/balancer-api mounts a service account token; set automountServiceAccountToken: false",
    ]);
  });

  it("accepts the token in traefik, the API client the pack's config names", async () => {
    const resource = withPodSpec(deployment({ name: "traefik", namespace: "mediaplane" }), (spec) => delete spec["automountServiceAccountToken"]);
    expect(await violationsOf(serviceAccountTokens, resource)).toEqual([]);
  });
});

describe("k8s-allowed-registries", () => {
  const running = (image: string) => deployment({ containers: [hardenedContainer({ image })] });

  it("accepts the upstream projects' namespaces, the stacks' registries and locally imported images", async () => {
    const images = ["redis:8.2.2-alpine", "docker.io/jitsi/jvb:stable-10978", "mpdevacrk3x9q2.azurecr.io/mediaplane/balancer:0.1.0", "localhost/mediaplane/janus:1.3.3"];
    expect(await violationsOf(allowedRegistries, ...images.map(running))).toEqual([]);
  });

  it("rejects an image from an arbitrary Docker Hub namespace or registry", async () => {
    const violations = await violationsOf(allowedRegistries, running("someone/jvb:1.0"), running("ghcr.io/jitsi/jvb:stable-10978"));
    expect(violations).toEqual([
      expect.stringContaining("comes from docker.io/someone/jvb, which is not an allowed registry"),
      expect.stringContaining("comes from ghcr.io/jitsi/jvb, which is not an allowed registry"),
    ]);
  });

  it("allows exactly the repository an entry without a trailing slash names, not its neighbours", async () => {
    expect(await violationsOf(allowedRegistries, running("docker.io/oliver006/redis_exporter:v1.45.0"))).toEqual([]);
    expect(await violationsOf(allowedRegistries, running("docker.io/oliver006/redis_exporter2:v1"), running("docker.io/oliver006/other:v1"))).toHaveLength(2);
  });

  it("does not take a look-alike host for an allowed registry", async () => {
    expect(await violationsOf(allowedRegistries, running("evil.example.org/x.azurecr.io/mediaplane/balancer:0.1.0"))).toHaveLength(1);
  });

  it("reads image references as the container runtime does", () => {
    expect(["redis:8", "jitsi/jvb:1", "registry.example.org:5000/x/y:1", `localhost/a/b@sha256:${"0".repeat(64)}`].map(imageRepository)).toEqual([
      "docker.io/library/redis",
      "docker.io/jitsi/jvb",
      "registry.example.org:5000/x/y",
      "localhost/a/b",
    ]);
  });
});

const cluster = (props: Record<string, unknown>) =>
  planned("azure-native:containerservice:ManagedCluster", {
    disableLocalAccounts: true,
    aadProfile: { managed: true, enableAzureRBAC: true },
    apiServerAccessProfile: { authorizedIPRanges: ["198.51.100.0/24"] },
    ...props,
  });

describe("AKS sign-in and API access", () => {
  it("accepts a cluster with local accounts off, Entra ID with Azure RBAC and authorized ranges", async () => {
    for (const policy of [aksLocalAccountsDisabled, aksEntraIdRbac, aksAuthorizedIpRanges]) expect(await violationsOf(policy, cluster({}))).toEqual([]);
  });

  it("rejects local accounts left on", async () => {
    expect(await violationsOf(aksLocalAccountsDisabled, cluster({ disableLocalAccounts: undefined }))).toEqual(["disableLocalAccounts must be true"]);
  });

  it("rejects a cluster without Entra ID integration or without Azure RBAC", async () => {
    expect(await violationsOf(aksEntraIdRbac, cluster({ aadProfile: undefined }))).toEqual([
      "aadProfile.managed must be true",
      "aadProfile.enableAzureRBAC must be true",
    ]);
  });

  it("rejects an API server open to every address, by omission or explicitly", async () => {
    expect(await violationsOf(aksAuthorizedIpRanges, cluster({ apiServerAccessProfile: undefined }))).toHaveLength(1);
    expect(await violationsOf(aksAuthorizedIpRanges, cluster({ apiServerAccessProfile: { authorizedIPRanges: ["0.0.0.0/0"] } }))).toEqual([
      "apiServerAccessProfile.authorizedIPRanges admits every address",
    ]);
  });

  it("accepts a private cluster without ranges", async () => {
    expect(await violationsOf(aksAuthorizedIpRanges, cluster({ apiServerAccessProfile: { enablePrivateCluster: true } }))).toEqual([]);
  });
});

const account = (props: Record<string, unknown>, name = "mediaplane-recordings") =>
  planned("azure-native:storage:StorageAccount", { allowSharedKeyAccess: false, networkRuleSet: { defaultAction: "Deny" }, ...props }, name);

describe("storage network and shared key", () => {
  it("accepts an account that denies by default, or has public access disabled", async () => {
    expect(await violationsOf(storageNetworkRestricted, account({}), account({ networkRuleSet: undefined, publicNetworkAccess: "Disabled" }))).toEqual([]);
  });

  it("rejects an account open to the internet", async () => {
    expect(await violationsOf(storageNetworkRestricted, account({ networkRuleSet: undefined }))).toEqual([
      "public network access is unset (enabled) and networkRuleSet.defaultAction is unset (Allow); disable it or deny by default",
    ]);
  });

  it("rejects a firewall rule that admits every address", async () => {
    expect(await violationsOf(storageNetworkRestricted, account({ networkRuleSet: { defaultAction: "Deny", ipRules: [{ iPAddressOrRange: "0.0.0.0/0" }] } }))).toEqual([
      "an IP rule admits every address",
    ]);
  });

  it("rejects shared-key access on an account the pack's config does not exempt", async () => {
    expect(await violationsOf(storageSharedKeyDisabled, account({ allowSharedKeyAccess: true }, "backups"))).toEqual([
      "allowSharedKeyAccess must be false (it is true), or the pack's config must exempt backups",
    ]);
  });

  it("accepts shared-key access where the config names the account and why (the CSI driver's SMB mount)", async () => {
    expect(await violationsOf(storageSharedKeyDisabled, account({ allowSharedKeyAccess: true }))).toEqual([]);
  });
});

describe("registry and Redis network access", () => {
  const registry = (props: Record<string, unknown>) => planned("azure-native:containerregistry:Registry", { adminUserEnabled: false, ...props });

  it("accepts a registry behind a deny-by-default firewall", async () => {
    expect(await violationsOf(registryNetworkRestricted, registry({ networkRuleSet: { defaultAction: "Deny", ipRules: [{ iPAddressOrRange: "198.51.100.0/24" }] } }))).toEqual([]);
  });

  it("rejects a registry open to the internet", async () => {
    expect(await violationsOf(registryNetworkRestricted, registry({ publicNetworkAccess: "Enabled" }))).toHaveLength(1);
  });

  const parent = "urn:pulumi:test::mediaplane::mediaplane:azure:ManagedRedis::redis";
  const cache = (props: Record<string, unknown>): PlannedResource => ({ ...planned("azure-native:redis:Redis", props, "redis"), parentUrn: parent });
  const rule = (startIP: string, endIP: string): PlannedResource => ({
    ...planned("azure-native:redis:FirewallRule", { startIP, endIP }, `redis-allow-${startIP}`),
    parentUrn: parent,
  });
  const component = planned("mediaplane:azure:ManagedRedis", {}, "redis");
  const withComponent = (...resources: PlannedResource[]) => [{ ...component, urn: parent }, ...resources];

  it("accepts a cache whose firewall rules admit named addresses only", async () => {
    expect(await evaluatePolicies(withComponent(cache({ publicNetworkAccess: "Enabled" }), rule("203.0.113.7", "203.0.113.7")), { policies: [redisNetworkRestricted] })).toEqual([]);
  });

  it("rejects a public cache without firewall rules, which Azure leaves open to every address", async () => {
    const violations = await evaluatePolicies(withComponent(cache({ publicNetworkAccess: "Enabled" })), { policies: [redisNetworkRestricted] });
    expect(violations.map(({ message }) => message)).toEqual(["Redis redis has public network access and no firewall rule: every address may connect"]);
    expect(blocksDeployment(violations)).toBe(true);
  });

  it("rejects a firewall rule spanning every address", async () => {
    const violations = await evaluatePolicies(withComponent(cache({}), rule("0.0.0.0", "255.255.255.255")), { policies: [redisNetworkRestricted] });
    expect(violations.map(({ message }) => message)).toEqual(["firewall rule redis-allow-0.0.0.0 admits every address"]);
  });

  it("knows the spellings of an address range open to all", () => {
    expect(["0.0.0.0/0", "*", "::/0", "198.51.100.0/24"].map(admitsEveryone)).toEqual([true, true, true, false]);
  });
});

describe("stack-no-plain-secret-outputs", () => {
  const stack = (outputs: Record<string, unknown>) => planned("pulumi:pulumi:Stack", outputs, "mediaplane-test");

  it("accepts secret-bearing outputs the config names as exported secrets, and plain ones without credentials", async () => {
    const outputs = { tenants: { demo: { secrets: ["s"] } }, operatorSecrets: { balancerAdminToken: "t" }, publicIps: { ingress: "203.0.113.7" } };
    expect(await violationsOf(noPlainSecretOutputs, stack(outputs))).toEqual([]);
  });

  it("rejects a credential in an output not exported as a secret", async () => {
    expect(await violationsOf(noPlainSecretOutputs, stack({ redis: { host: "r", password: "hunter2" } }))).toEqual([
      "stack output redis.password holds a credential; export it as a secret and name it in secretOutputs",
    ]);
  });

  it("rejects a kubeconfig with an embedded credential, secret or not", async () => {
    const kubeconfig = "apiVersion: v1\nusers:\n- name: clusterAdmin\n  user:\n    client-key-data: LS0t\n";
    expect(await violationsOf(noPlainSecretOutputs, stack({ operatorSecrets: { kubeconfig } }))).toHaveLength(1);
    expect(await violationsOf(noPlainSecretOutputs, stack({ admin: kubeconfig }))).toEqual(["stack output admin (a kubeconfig with a credential) holds a credential"]);
  });
});
