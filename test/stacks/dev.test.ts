import { beforeAll, describe, expect, it } from "vitest";
import { parseBalancerConfigText } from "@mediaplane/balancer/config";
import { isSecretValue, revealSecrets } from "../../scripts/mockRuntime.js";
import { runStack, type StackRun } from "./support/stackRun.js";
import { ruleMatches } from "./support/traefikRule.js";

let stack: StackRun;
beforeAll(async () => {
  stack = await runStack("dev");
});

const inputsOf = (type: string, name: string): Record<string, unknown> => stack.inputsOf(stack.get(type, name));
const cluster = () => inputsOf("azure-native:containerservice:ManagedCluster", "mediaplane-aks");
const mediaPool = () => stack.get("azure-native:containerservice:AgentPool", "mediaplane-aks-media");
const urnOf = (type: string, name: string) => stack.get(type, name).urn;
const builtInRole = (id: string) => expect.stringMatching(new RegExp(`/providers/Microsoft.Authorization/roleDefinitions/${id}$`));

describe("dev stack: AKS", () => {
  it("pins the Kubernetes version and enables RBAC, the stack's own identity and a network policy", () => {
    expect(cluster()).toMatchObject({
      kubernetesVersion: "1.33",
      enableRBAC: true,
      identity: { type: "UserAssigned", userAssignedIdentities: [expect.stringMatching(/\/mpdev-aks-identity$/)] },
      networkProfile: { networkPolicy: "calico", loadBalancerSku: "standard" },
      resourceGroupName: "mpdev-rg",
    });
  });

  it("turns local accounts off and leaves sign-in to Entra ID with Azure RBAC", () => {
    expect(cluster()).toMatchObject({ disableLocalAccounts: true, aadProfile: { managed: true, enableAzureRBAC: true } });
  });

  it("opens the API server only to the address ranges of the stack config", () => {
    expect(cluster()["apiServerAccessProfile"]).toEqual({ authorizedIPRanges: ["198.51.100.0/24"] });
  });

  it("makes whoever runs pulumi up cluster admin through Azure RBAC, before deploying a workload", () => {
    const grant = inputsOf("azure-native:authorization:RoleAssignment", "mediaplane-aks-deployer-cluster-admin");
    expect(grant).toMatchObject({ principalId: "<unknown until apply: object id>", roleDefinitionId: builtInRole("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b") });
    expect(stack.get("pulumi:providers:kubernetes", "mediaplane-aks").engine.dependencies).toContain(
      urnOf("azure-native:authorization:RoleAssignment", "mediaplane-aks-deployer-cluster-admin"),
    );
  });

  it("deploys with a user kubeconfig signing in through the Azure CLI, which holds no credential", () => {
    const kubeconfig = String(stack.inputsOf(stack.get("pulumi:providers:kubernetes", "mediaplane-aks"))["kubeconfig"]);
    expect(kubeconfig).toContain("- azurecli");
    expect(kubeconfig).not.toMatch(/token:|client-key-data|password/);
    expect(stack.calls.map(({ token }) => token)).not.toContain("azure-native:containerservice:listManagedClusterAdminCredentials");
  });

  it("declares the system pool inline and lets the autoscaler own its node count", () => {
    const pools = cluster()["agentPoolProfiles"] as Record<string, unknown>[];
    expect(pools).toEqual([expect.objectContaining({ name: "system", mode: "System", enableAutoScaling: true, minCount: 1, maxCount: 3, count: 1 })]);
    expect(stack.get("azure-native:containerservice:ManagedCluster", "mediaplane-aks").engine.ignoreChanges).toEqual(["agentPoolProfiles[0].count"]);
  });

  it("declares the media pool as its own autoscaled AgentPool whose count later updates never reset", () => {
    expect(stack.inputsOf(mediaPool())).toMatchObject({ agentPoolName: "media", mode: "User", enableAutoScaling: true, minCount: 1, maxCount: 2, resourceName: "mpdev-aks" });
    expect(mediaPool().engine.ignoreChanges).toEqual(["count"]);
  });

  it("gives media nodes public IPs, opens the Janus RTP range on them and keeps other pods off them", () => {
    expect(stack.inputsOf(mediaPool())).toMatchObject({
      enableNodePublicIP: true,
      networkProfile: { allowedHostPorts: [{ portStart: 20000, portEnd: 20199, protocol: "UDP" }] },
      nodeTaints: ["mediaplane.io/pool=media:NoSchedule"],
    });
  });

  it("puts both pools in the stack's own subnet and sends all egress from the stack's egress address", () => {
    const subnet = expect.stringMatching(/\/mpdev-vnet\/subnets\/nodes$/);
    expect((cluster()["agentPoolProfiles"] as Record<string, unknown>[])[0]).toMatchObject({ vnetSubnetID: subnet });
    expect(stack.inputsOf(mediaPool())).toMatchObject({ vnetSubnetID: subnet });
    expect(cluster()["networkProfile"]).toMatchObject({
      loadBalancerProfile: { outboundIPs: { publicIPs: [{ id: expect.stringMatching(/\/mpdev-egress$/) }] } },
    });
  });

  it("spreads no pool over zones when the stack names none", () => {
    expect((cluster()["agentPoolProfiles"] as Record<string, unknown>[])[0]?.["availabilityZones"]).toBeUndefined();
    expect(stack.inputsOf(mediaPool())["availabilityZones"]).toBeUndefined();
  });
});

describe("dev stack: static IPs", () => {
  const serviceAnnotations = (ipName: string) =>
    stack
      .ofType("kubernetes:core/v1:Service")
      .filter((service) => JSON.stringify(service.inputs).includes(`"service.beta.kubernetes.io/azure-pip-name":"${ipName}"`));

  it("creates Standard static IPs for ingress, JVB and TURN in the stack's resource group, not the AKS node group", () => {
    const ips = stack.ofType("azure-native:network:PublicIPAddress").map((ip) => stack.inputsOf(ip));
    expect(ips.map((ip) => ip["publicIpAddressName"]).sort()).toEqual(["mpdev-egress", "mpdev-ingress", "mpdev-jvb", "mpdev-turn"]);
    for (const ip of ips) {
      expect(ip).toMatchObject({ sku: { name: "Standard" }, publicIPAllocationMethod: "Static", resourceGroupName: "mpdev-rg" });
    }
  });

  it("gives the cluster identity Network Contributor on that group, before the cluster exists", () => {
    const grant = stack.get("azure-native:authorization:RoleAssignment", "mediaplane-cluster-network-contributor");
    expect(stack.inputsOf(grant)).toMatchObject({
      principalId: "<unknown until apply: principal id of mpdev-aks-identity>",
      principalType: "ServicePrincipal",
      roleDefinitionId: builtInRole("4d97b98b-1d4f-4787-a291-c67834d212e7"),
      scope: expect.stringMatching(/\/resourceGroups\/mpdev-rg$/),
    });
    expect(stack.get("azure-native:containerservice:ManagedCluster", "mediaplane-aks").engine.dependencies).toContain(grant.urn);
  });

  it("points each pinned Service at the stack's group, and makes it depend on its address and the role", () => {
    for (const role of ["ingress", "jvb", "turn"]) {
      const services = serviceAnnotations(`mpdev-${role}`);
      expect(services.length, role).toBeGreaterThan(0);
      for (const service of services) {
        expect(stack.inputsOf(service)["metadata"]).toMatchObject({
          annotations: { "service.beta.kubernetes.io/azure-load-balancer-resource-group": "mpdev-rg" },
        });
        // A dependency is what makes Pulumi delete the Service (releasing the address) before the address or the role.
        expect(service.engine.dependencies).toEqual(
          expect.arrayContaining([
            urnOf("azure-native:network:PublicIPAddress", `mediaplane-ips-${role}`),
            urnOf("azure-native:authorization:RoleAssignment", "mediaplane-cluster-network-contributor"),
          ]),
        );
      }
    }
  });
});

describe("dev stack: recordings, registry and image pushes", () => {
  it("keeps the recordings storage account HTTPS-only, TLS 1.2+, without public blob access, reachable only from the nodes' subnet", () => {
    expect(inputsOf("azure-native:storage:StorageAccount", "mediaplane-recordings")).toMatchObject({
      accountName: "mpdevrec<unknown until apply: random value of mediaplane-name-suffix>",
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      allowSharedKeyAccess: true,
      networkRuleSet: {
        defaultAction: "Deny",
        bypass: "None",
        virtualNetworkRules: [{ virtualNetworkResourceId: expect.stringContaining("/subnets/nodes"), action: "Allow" }],
      },
    });
    expect(inputsOf("azure-native:storage:FileShare", "mediaplane-recordings")).toMatchObject({ shareQuota: 50 });
  });

  it("admits the storage service endpoint on the nodes' subnet, so the account's network rule can name it", () => {
    expect(inputsOf("azure-native:network:VirtualNetwork", "mediaplane-network")).toMatchObject({
      subnets: [{ name: "nodes", serviceEndpoints: [{ service: "Microsoft.Storage" }] }],
    });
  });

  it("hands the file CSI driver the account key through a Secret, marked secret, and nowhere else", () => {
    const secret = stack.get("kubernetes:core/v1:Secret", "mediaplane-recordings-credentials");
    expect(isSecretValue((secret.inputs["stringData"] as Record<string, unknown>)["azurestorageaccountkey"]) || isSecretValue(secret.inputs["stringData"])).toBe(true);
    const keyHolders = stack.resources.filter((resource) => JSON.stringify(resource.inputs).includes("key of mpdevrec"));
    expect(keyHolders.map((resource) => resource.name)).toEqual(["mediaplane-recordings-credentials"]);
    const volume = inputsOf("kubernetes:core/v1:PersistentVolume", "mediaplane-recordings");
    expect(volume["spec"]).toMatchObject({
      accessModes: ["ReadWriteMany"],
      csi: { driver: "file.csi.azure.com", nodeStageSecretRef: { name: "recordings-azure-files", namespace: "mediaplane" } },
    });
  });

  it("keeps the registry Premium, without an admin user, behind a firewall admitting the operators and the cluster's egress", () => {
    expect(inputsOf("azure-native:containerregistry:Registry", "mediaplane-registry")).toMatchObject({
      registryName: "mpdevacr<unknown until apply: random value of mediaplane-name-suffix>",
      sku: { name: "Premium" },
      adminUserEnabled: false,
      networkRuleSet: {
        defaultAction: "Deny",
        ipRules: [
          { action: "Allow", iPAddressOrRange: "198.51.100.0/24" },
          { action: "Allow", iPAddressOrRange: "<unknown until apply: address of mpdev-egress>" },
        ],
      },
    });
  });

  it("grants the kubelet identity AcrPull and whoever runs pulumi up AcrPush on the registry", () => {
    const pull = inputsOf("azure-native:authorization:RoleAssignment", "mediaplane-registry-acr-pull");
    expect(pull).toMatchObject({ roleDefinitionId: builtInRole("7f951dda-4ed3-4680-a7ca-43fe172d538d"), principalId: expect.stringContaining("kubelet identity of mpdev-aks") });
    const push = inputsOf("azure-native:authorization:RoleAssignment", "mediaplane-registry-deployer-acr-push");
    expect(push).toMatchObject({ roleDefinitionId: builtInRole("8311e382-0749-4cb8-b61a-304f252e45ec"), principalId: "<unknown until apply: object id>" });
  });

  it("hands each image build a registry token from the deployer's Azure login, as a secret, to push on the first run", () => {
    const exchange = stack.calls.find(({ token }) => token === "command:local:run");
    expect(exchange?.inputs["command"]).toBe(
      "az acr login --name mpdevacr<unknown until apply: random value of mediaplane-name-suffix> --expose-token --output tsv --query accessToken",
    );
    for (const build of stack.ofType("docker-build:index:Image")) {
      // The token makes the whole credential list secret on its way to the provider.
      expect(isSecretValue(build.inputs["registries"])).toBe(true);
      expect(revealSecrets(build.inputs["registries"])).toEqual([
        {
          address: "mpdevacr<unknown until apply: random value of mediaplane-name-suffix>.azurecr.io",
          username: "00000000-0000-0000-0000-000000000000",
          password: `<unknown until apply: output of: ${String(exchange?.inputs["command"])}>`,
        },
      ]);
      expect(build.inputs).toMatchObject({ push: true });
    }
    expect(stack.ofType("docker-build:index:Image").map((build) => build.name).sort()).toEqual(["mediaplane-balancer-image-image", "mediaplane-janus-image-image"]);
  });

  it("declares no managed Redis, since dev runs Redis in the cluster", () => {
    expect(stack.ofType("azure-native:redis:Redis")).toEqual([]);
  });
});

describe("dev stack: names, protection and tags", () => {
  it("protects what holds data: the registry, the recordings account and its share", () => {
    const protectedResources = stack.resources.filter((resource) => resource.engine.protect).map((resource) => `${resource.type} ${resource.name}`);
    expect(protectedResources.sort()).toEqual([
      "azure-native:containerregistry:Registry mediaplane-registry",
      "azure-native:storage:FileShare mediaplane-recordings",
      "azure-native:storage:StorageAccount mediaplane-recordings",
    ]);
  });

  it("ends every globally unique name in one random suffix the stack keeps", () => {
    const suffix = "<unknown until apply: random value of mediaplane-name-suffix>";
    expect(inputsOf("azure-native:containerregistry:Registry", "mediaplane-registry")["registryName"]).toBe(`mpdevacr${suffix}`);
    expect(inputsOf("azure-native:storage:StorageAccount", "mediaplane-recordings")["accountName"]).toBe(`mpdevrec${suffix}`);
    expect(inputsOf("random:index/randomString:RandomString", "mediaplane-name-suffix")).toMatchObject({ length: 6, upper: false, special: false });
  });

  it("derives every logical name from the platform's name, so a second platform in the program would not collide", () => {
    const children = stack.resources.filter((resource) => resource.type !== "mediaplane:platform:MediaPlatform");
    for (const resource of children) expect(resource.name, resource.urn).toMatch(/^mediaplane-/);
  });

  it("tags every Azure resource that takes tags with the stack, its component and the owner", () => {
    const azure = stack.resources.filter((resource) => resource.custom && resource.type.startsWith("azure-native:"));
    const untaggable = new Set(["azure-native:authorization:RoleAssignment", "azure-native:storage:FileShare"]);
    for (const resource of azure) {
      if (untaggable.has(resource.type)) {
        expect(resource.inputs["tags"], resource.urn).toBeUndefined();
        continue;
      }
      expect(resource.inputs["tags"], resource.urn).toEqual({
        stack: "dev",
        component: expect.stringMatching(/^mediaplane:(azure|platform):[A-Za-z]+\/mediaplane(-[a-z]+)*$/),
        owner: "platform-team@mediaplane.example.org",
      });
    }
    expect(inputsOf("azure-native:containerservice:AgentPool", "mediaplane-aks-media")["tags"]).toMatchObject({ component: "mediaplane:azure:AksCluster/mediaplane-aks" });
    expect(inputsOf("azure-native:resources:ResourceGroup", "mediaplane-group")["tags"]).toMatchObject({ component: "mediaplane:platform:MediaPlatform/mediaplane" });
  });
});

describe("dev stack: parents and providers", () => {
  it("places every resource under the MediaPlatform component", () => {
    const roots = stack.resources.filter((resource) => resource.parentUrn === undefined);
    expect(roots.map((resource) => resource.type)).toEqual(["mediaplane:platform:MediaPlatform"]);
  });

  it("parents each Azure resource to the component it belongs to", () => {
    const parentType = (type: string, name: string) => stack.parentOf(stack.get(type, name))?.type;
    expect(parentType("azure-native:containerservice:ManagedCluster", "mediaplane-aks")).toBe("mediaplane:azure:AksCluster");
    expect(parentType("azure-native:network:PublicIPAddress", "mediaplane-ips-jvb")).toBe("mediaplane:azure:StaticIps");
    expect(parentType("azure-native:storage:FileShare", "mediaplane-recordings")).toBe("mediaplane:azure:RecordingShare");
    expect(parentType("azure-native:containerregistry:Registry", "mediaplane-registry")).toBe("mediaplane:azure:Registry");
  });

  it("deploys every Kubernetes object with the provider signing in to the AKS cluster", () => {
    const objects = stack.resources.filter((resource) => resource.custom && resource.type.startsWith("kubernetes:"));
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) expect(object.providerUrn).toMatch(/\$pulumi:providers:kubernetes::mediaplane-aks$/);
  });
});

describe("dev stack: tenants and outputs", () => {
  it("generates one random API secret per live tenant secret, letters and digits only", () => {
    // The workloads generate their own internal passwords too; tenant secrets are the Tenants component's.
    const tenantSecrets = stack.ofType("random:index/randomPassword:RandomPassword").filter((password) => password.name.startsWith("mediaplane-tenants-"));
    expect(tenantSecrets.map((password) => password.name).sort()).toEqual([
      "mediaplane-tenants-demo-secret-1",
      "mediaplane-tenants-school-secret-1",
      "mediaplane-tenants-school-secret-2",
    ]);
    for (const password of tenantSecrets) {
      expect(password.inputs).toMatchObject({ length: 48, special: false });
    }
  });

  it("hands the balancer a config file, marked secret, with every tenant's generated secrets and the node secrets", () => {
    const secret = stack.get("kubernetes:core/v1:Secret", "mediaplane-balancer-secret");
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
      balancerAdminToken: "<unknown until apply: random value of mediaplane-balancer-admin-token>",
      janusTokenAuthSecret: "<unknown until apply: random value of mediaplane-janus-token-auth-secret>",
      turnStaticAuthSecret: "<unknown until apply: random value of mediaplane-turn-auth-secret>",
    });
  });

  it("exports no kubeconfig, only where the cluster is, and the public IPs by role", () => {
    expect(stack.outputs["kubeconfig"]).toBeUndefined();
    expect(stack.outputs["aksCluster"]).toEqual({ resourceGroup: "mpdev-rg", name: "mpdev-aks" });
    expect(Object.keys(stack.outputs["publicIps"] as object).sort()).toEqual(["ingress", "jvb", "turn"]);
  });

  it("exports nothing secret in plain: every output holding a generated secret is a secret output", () => {
    for (const [key, value] of Object.entries(stack.outputs)) {
      if (JSON.stringify(revealSecrets(value)).includes("random value of")) expect(isSecretValue(value), key).toBe(true);
    }
  });

  it("exports the public endpoints of the enabled services", () => {
    expect(stack.outputs["endpoints"]).toEqual({
      bbbApi: {
        hostBasedUrl: "https://<tenant>.api.dev.mediaplane.example.org/bigbluebutton/api/",
        pathBasedUrl: "https://api.dev.mediaplane.example.org/t/<tenant>/bigbluebutton/api/",
      },
      jitsi: "https://meet.dev.mediaplane.example.org/",
      janus: "wss://janus.dev.mediaplane.example.org/",
      janusInstances: [
        { ordinal: 0, websocket: "wss://janus.dev.mediaplane.example.org/instance/0/", http: "https://janus.dev.mediaplane.example.org/instance/0/janus" },
      ],
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
    const endpoints = stack.outputs["endpoints"] as {
      bbbApi: Record<string, string>;
      jitsi: string;
      janus: string;
      janusInstances: { ordinal: number; websocket: string; http: string }[];
    };
    expect(servicesFor(`${endpoints.bbbApi["hostBasedUrl"]}create`)).toEqual(["balancer"]);
    expect(servicesFor(`${endpoints.bbbApi["pathBasedUrl"]}create`)).toEqual(["balancer"]);
    expect(servicesFor(endpoints.jitsi)).toEqual(["jitsi-web"]);
    expect(servicesFor(endpoints.janus.replace(/^wss:/, "https:"), { Upgrade: "websocket" })).toEqual(["janus"]);
    for (const instance of endpoints.janusInstances) {
      expect(servicesFor(instance.websocket.replace(/^wss:/, "https:"), { Upgrade: "websocket" })).toEqual([`janus-${instance.ordinal}`]);
      expect(servicesFor(`${instance.http}/123`)).toEqual([`janus-${instance.ordinal}`]);
    }
  });

  it("serves the TURN endpoint's port on the TURN LoadBalancer", () => {
    const service = stack.ofType("kubernetes:core/v1:Service").map((resource) => stack.inputsOf(resource)).find((inputs) => (inputs["metadata"] as { name: string }).name === "coturn");
    expect(service?.["spec"]).toMatchObject({ type: "LoadBalancer" });
    const ports = (service?.["spec"] as { ports: { port: number; protocol: string }[] }).ports;
    expect(ports).toContainEqual(expect.objectContaining({ port: 3478, protocol: "UDP" }));
  });
});
