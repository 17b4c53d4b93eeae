import { beforeAll, describe, expect, it } from "vitest";
import { parseBalancerConfigText } from "@mediaplane/balancer/config";
import { isSecretValue, revealSecrets } from "../../scripts/mockRuntime.js";
import { runStack, type StackRun } from "./support/stackRun.js";
import { ruleMatches } from "./support/traefikRule.js";

let stack: StackRun;
beforeAll(async () => {
  stack = await runStack("dev");
});

const agentPools = (): Record<string, unknown>[] =>
  stack.inputsOf(stack.get("azure-native:containerservice:ManagedCluster", "aks"))["agentPoolProfiles"] as Record<string, unknown>[];

describe("dev stack: AKS", () => {
  it("pins the Kubernetes version and enables RBAC, a managed identity and a network policy", () => {
    const cluster = stack.inputsOf(stack.get("azure-native:containerservice:ManagedCluster", "aks"));
    expect(cluster).toMatchObject({
      kubernetesVersion: "1.33",
      enableRBAC: true,
      identity: { type: "SystemAssigned" },
      networkProfile: { networkPolicy: "calico", loadBalancerSku: "standard" },
      resourceGroupName: "mpdev-rg",
    });
  });

  it("has an autoscaled system pool and a media pool within the stack's bounds", () => {
    const [system, media] = agentPools();
    expect(system).toMatchObject({ name: "system", mode: "System", enableAutoScaling: true, minCount: 1, maxCount: 3 });
    expect(media).toMatchObject({ name: "media", mode: "User", enableAutoScaling: true, minCount: 1, maxCount: 2 });
  });

  it("gives media nodes public IPs, opens the Janus RTP range on them and keeps other pods off them", () => {
    const media = agentPools()[1];
    expect(media).toMatchObject({
      enableNodePublicIP: true,
      networkProfile: { allowedHostPorts: [{ portStart: 20000, portEnd: 20199, protocol: "UDP" }] },
      nodeTaints: ["mediaplane.io/pool=media:NoSchedule"],
    });
  });

  it("spreads no pool over zones when the stack names none", () => {
    for (const pool of agentPools()) expect(pool["availabilityZones"]).toBeUndefined();
  });
});

describe("dev stack: static IPs, recordings and registry", () => {
  it("creates Standard static IPs for ingress, JVB and TURN in the AKS node resource group", () => {
    const ips = stack.ofType("azure-native:network:PublicIPAddress").map((ip) => stack.inputsOf(ip));
    expect(ips.map((ip) => ip["publicIpAddressName"]).sort()).toEqual(["mpdev-ingress", "mpdev-jvb", "mpdev-turn"]);
    for (const ip of ips) {
      expect(ip).toMatchObject({
        sku: { name: "Standard" },
        publicIPAllocationMethod: "Static",
        resourceGroupName: "MC_mpdev-rg_mpdev-aks_westeurope",
      });
    }
  });

  it("keeps the recordings storage account HTTPS-only, TLS 1.2+ and without public blob access", () => {
    expect(stack.inputsOf(stack.get("azure-native:storage:StorageAccount", "recordings"))).toMatchObject({
      accountName: "mpdevrec",
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
    });
    expect(stack.inputsOf(stack.get("azure-native:storage:FileShare", "recordings"))).toMatchObject({ shareQuota: 50 });
  });

  it("hands the file CSI driver the account key through a Secret, marked secret", () => {
    const secret = stack.get("kubernetes:core/v1:Secret", "recordings-credentials");
    expect(JSON.stringify(secret.inputs)).toContain("4dabf18193072939515e22adb298388d");
    expect(stack.inputsOf(secret)["stringData"]).toMatchObject({
      azurestorageaccountname: "mpdevrec",
      azurestorageaccountkey: expect.stringContaining("unknown until apply"),
    });
    const volume = stack.inputsOf(stack.get("kubernetes:core/v1:PersistentVolume", "recordings"));
    expect(volume["spec"]).toMatchObject({
      accessModes: ["ReadWriteMany"],
      csi: { driver: "file.csi.azure.com", nodeStageSecretRef: { name: "recordings-azure-files", namespace: "mediaplane" } },
    });
  });

  it("grants the kubelet identity AcrPull on a registry without an admin user", () => {
    expect(stack.inputsOf(stack.get("azure-native:containerregistry:Registry", "registry"))).toMatchObject({
      registryName: "mpdevacr",
      adminUserEnabled: false,
    });
    const pull = stack.inputsOf(stack.get("azure-native:authorization:RoleAssignment", "registry-acr-pull"));
    expect(pull["roleDefinitionId"]).toMatch(/roleDefinitions\/7f951dda-4ed3-4680-a7ca-43fe172d538d$/);
    expect(pull["principalId"]).toContain("kubelet identity of mpdev-aks");
  });

  it("declares no managed Redis, since dev runs Redis in the cluster", () => {
    expect(stack.ofType("azure-native:redis:Redis")).toEqual([]);
  });
});

describe("dev stack: parents and providers", () => {
  it("places every resource under the MediaPlatform component", () => {
    const roots = stack.resources.filter((resource) => resource.parentUrn === undefined);
    expect(roots.map((resource) => resource.type)).toEqual(["mediaplane:platform:MediaPlatform"]);
  });

  it("parents each Azure resource to the component it belongs to", () => {
    const parentType = (type: string, name: string) => stack.parentOf(stack.get(type, name))?.type;
    expect(parentType("azure-native:containerservice:ManagedCluster", "aks")).toBe("mediaplane:azure:AksCluster");
    expect(parentType("azure-native:network:PublicIPAddress", "ips-jvb")).toBe("mediaplane:azure:StaticIps");
    expect(parentType("azure-native:storage:FileShare", "recordings")).toBe("mediaplane:azure:RecordingShare");
    expect(parentType("azure-native:containerregistry:Registry", "registry")).toBe("mediaplane:azure:Registry");
  });

  it("deploys every Kubernetes object with the provider built from the AKS admin credentials", () => {
    const objects = stack.resources.filter((resource) => resource.custom && resource.type.startsWith("kubernetes:"));
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) expect(object.providerUrn).toMatch(/\$pulumi:providers:kubernetes::aks$/);
  });

  it("builds that provider on a secret kubeconfig", () => {
    const provider = stack.get("pulumi:providers:kubernetes", "aks");
    expect(isSecretValue(provider.inputs["kubeconfig"])).toBe(true);
  });
});

describe("dev stack: tenants and outputs", () => {
  it("generates one random API secret per live tenant secret, letters and digits only", () => {
    // The workloads generate their own internal passwords too; tenant secrets are the Tenants component's.
    const tenantSecrets = stack.ofType("random:index/randomPassword:RandomPassword").filter((password) => password.name.startsWith("tenants-"));
    expect(tenantSecrets.map((password) => password.name).sort()).toEqual(["tenants-demo-secret-1", "tenants-school-secret-1", "tenants-school-secret-2"]);
    for (const password of tenantSecrets) {
      expect(password.inputs).toMatchObject({ length: 48, special: false });
    }
  });

  it("hands the balancer a config file, marked secret, with every tenant's generated secrets and the node secrets", () => {
    const secret = stack.get("kubernetes:core/v1:Secret", "balancer-secret");
    const stringData = secret.inputs["stringData"] as Record<string, unknown>;
    expect(isSecretValue(stringData) || isSecretValue(stringData["config.yaml"])).toBe(true);
    const config = parseBalancerConfigText(String((revealSecrets(stringData) as Record<string, unknown>)["config.yaml"]));
    const tenants = revealSecrets(stack.outputs["tenants"]) as Record<string, { secrets: string[] }>;
    expect(config.tenants.map((tenant) => [tenant.slug, tenant.secrets.map((entry) => entry.secret)])).toEqual([
      ["demo", tenants["demo"]?.secrets],
      ["school", tenants["school"]?.secrets],
    ]);
    expect(config.tenants[1]).toMatchObject({ limits: { maxMeetings: 20, maxAttendees: 400 }, policies: { create: { record: { mode: "block" } } } });
    expect(config.nodes).toEqual([
      expect.objectContaining({ id: "bbb-dev-1", secret: "PLACEHOLDER-bbbNodeSecret-bbb-dev-1-not-available-offline" }),
    ]);
  });

  it("exports tenants as a secret with host-based and path-based URLs and their secrets", () => {
    expect(isSecretValue(stack.outputs["tenants"])).toBe(true);
    const tenants = revealSecrets(stack.outputs["tenants"]) as Record<string, { secrets: string[] }>;
    expect(tenants["school"]).toMatchObject({
      hostBasedUrl: "https://school.api.dev.mediaplane.example.org/bigbluebutton/api/",
      pathBasedUrl: "https://api.dev.mediaplane.example.org/t/school/bigbluebutton/api/",
    });
    expect(tenants["school"]?.secrets).toHaveLength(2);
    expect(tenants["demo"]?.secrets).toHaveLength(1);
  });

  it("exports the operators' secrets (balancer admin token, Janus token and TURN secrets) as one secret", () => {
    expect(isSecretValue(stack.outputs["operatorSecrets"])).toBe(true);
    expect(revealSecrets(stack.outputs["operatorSecrets"])).toEqual({
      balancerAdminToken: "<unknown until apply: random value of balancer-admin-token>",
      janusTokenAuthSecret: "<unknown until apply: random value of janus-token-auth-secret>",
      turnStaticAuthSecret: "<unknown until apply: random value of turn-auth-secret>",
    });
  });

  it("exports the kubeconfig as a secret and the public IPs by role", () => {
    expect(isSecretValue(stack.outputs["kubeconfig"])).toBe(true);
    expect(Object.keys(stack.outputs["publicIps"] as object).sort()).toEqual(["ingress", "jvb", "turn"]);
  });

  it("exports the public endpoints of the enabled services", () => {
    expect(stack.outputs["endpoints"]).toEqual({
      bbbApi: {
        hostBasedUrl: "https://<tenant>.api.dev.mediaplane.example.org/bigbluebutton/api/",
        pathBasedUrl: "https://api.dev.mediaplane.example.org/t/<tenant>/bigbluebutton/api/",
      },
      jitsi: "https://meet.dev.mediaplane.example.org/",
      janus: "wss://janus.dev.mediaplane.example.org/",
      turn: "turn:turn.dev.mediaplane.example.org:3478",
    });
  });

  it("exports only web endpoints an IngressRoute serves, and routes each to the service it names", () => {
    const routes = stack.ofType("kubernetes:traefik.io/v1alpha1:IngressRoute").flatMap((route) => {
      const spec = stack.inputsOf(route)["spec"] as { routes: { match: string; services: { name: string }[] }[] };
      return spec.routes;
    });
    const servicesFor = (url: string, headers?: Record<string, string>) => {
      const { hostname, pathname } = new URL(url.replaceAll("<tenant>", "demo"));
      return routes.filter((route) => ruleMatches(route.match, { host: hostname, path: pathname, ...(headers ? { headers } : {}) })).map((route) => route.services[0]?.name);
    };
    const endpoints = stack.outputs["endpoints"] as { bbbApi: Record<string, string>; jitsi: string; janus: string };
    expect(servicesFor(`${endpoints.bbbApi["hostBasedUrl"]}create`)).toEqual(["balancer"]);
    expect(servicesFor(`${endpoints.bbbApi["pathBasedUrl"]}create`)).toEqual(["balancer"]);
    expect(servicesFor(endpoints.jitsi)).toEqual(["jitsi-web"]);
    expect(servicesFor(endpoints.janus.replace(/^wss:/, "https:"), { Upgrade: "websocket" })).toEqual(["janus"]);
  });

  it("serves the TURN endpoint's port on the TURN LoadBalancer", () => {
    const service = stack.ofType("kubernetes:core/v1:Service").map((resource) => stack.inputsOf(resource)).find((inputs) => (inputs["metadata"] as { name: string }).name === "coturn");
    expect(service?.["spec"]).toMatchObject({ type: "LoadBalancer" });
    const ports = (service?.["spec"] as { ports: { port: number; protocol: string }[] }).ports;
    expect(ports).toContainEqual(expect.objectContaining({ port: 3478, protocol: "UDP" }));
  });
});
