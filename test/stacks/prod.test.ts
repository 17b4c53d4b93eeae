import { beforeAll, describe, expect, it } from "vitest";
import { isSecretValue, revealSecrets } from "../../scripts/mockRuntime.js";
import { runStack, type StackRun } from "./support/stackRun.js";

let stack: StackRun;
beforeAll(async () => {
  stack = await runStack("prod");
});

const cluster = () => stack.inputsOf(stack.get("azure-native:containerservice:ManagedCluster", "mediaplane-aks"));
const mediaPool = () => stack.inputsOf(stack.get("azure-native:containerservice:AgentPool", "mediaplane-aks-media"));
const redisCache = () => stack.inputsOf(stack.get("azure-native:redis:Redis", "mediaplane-redis"));

describe("prod stack: highly available cluster", () => {
  it("runs the control plane on the Standard (SLA) tier", () => {
    expect(cluster()).toMatchObject({ sku: { tier: "Standard" } });
  });

  it("lets only the operators' networks reach the Kubernetes API", () => {
    expect(cluster()).toMatchObject({
      apiServerAccessProfile: { authorizedIPRanges: ["198.51.100.0/24", "203.0.113.10/32"] },
    });
  });

  it("spreads both pools over three zones with larger autoscaler bounds", () => {
    const [system] = cluster()["agentPoolProfiles"] as Record<string, unknown>[];
    expect(system).toMatchObject({ availabilityZones: ["1", "2", "3"], minCount: 3, maxCount: 6 });
    expect(mediaPool()).toMatchObject({ availabilityZones: ["1", "2", "3"], minCount: 3, maxCount: 20 });
  });

  it("opens the JVB host port and the Janus RTP range on the media nodes", () => {
    expect(mediaPool()).toMatchObject({
      networkProfile: {
        allowedHostPorts: [
          { portStart: 20000, portEnd: 21999, protocol: "UDP" },
          { portStart: 10000, portEnd: 10000, protocol: "UDP" },
        ],
      },
    });
  });
});

describe("prod stack: managed Redis", () => {
  it("uses Azure Cache for Redis with TLS only and no eviction of meeting mappings", () => {
    expect(redisCache()).toMatchObject({
      name: "mpprod-redis-<unknown until apply: random value of mediaplane-name-suffix>",
      sku: { name: "Premium", family: "P", capacity: 1 },
      enableNonSslPort: false,
      minimumTlsVersion: "1.2",
      redisConfiguration: { maxmemoryPolicy: "noeviction" },
      zones: ["1", "2", "3"],
    });
  });

  it("clusters the cache over the stack's shards", () => {
    expect(redisCache()).toMatchObject({ shardCount: 2 });
  });

  it("admits only the cluster's egress address through the cache's firewall", () => {
    expect(redisCache()).toMatchObject({ publicNetworkAccess: "Enabled" });
    const rules = stack.ofType("azure-native:redis:FirewallRule").map((rule) => stack.inputsOf(rule));
    const egress = "<unknown until apply: address of mpprod-egress>";
    expect(rules).toEqual([expect.objectContaining({ cacheName: redisCache()["name"], startIP: egress, endIP: egress })]);
  });

  it("protects the cache from deletion", () => {
    expect(stack.get("azure-native:redis:Redis", "mediaplane-redis").engine.protect).toBe(true);
  });
});

describe("prod stack: the balancer on managed Redis", () => {
  it("runs no Redis in the cluster", () => {
    expect(stack.ofType("mediaplane:k8s:Redis")).toEqual([]);
  });

  it("hands the balancer the cache's TLS URL, marked secret", () => {
    const secret = stack.get("kubernetes:core/v1:Secret", "mediaplane-balancer-secret");
    expect(JSON.stringify(secret.inputs["stringData"])).toContain("4dabf18193072939515e22adb298388d");
    const redisUrl = String((stack.inputsOf(secret)["stringData"] as Record<string, unknown>)["redisUrl"]);
    expect(redisUrl).toMatch(/^rediss\+cluster:\/\/:.+@mpprod-redis-<unknown until apply: random value of mediaplane-name-suffix>\.redis\.cache\.windows\.net:6380$/);
  });
});

describe("prod stack: static IPs in the stack's own resource group", () => {
  it("creates zone-redundant addresses in the stack group, so they survive a cluster re-creation", () => {
    const platformIps = stack.ofType("azure-native:network:PublicIPAddress").filter((ip) => stack.parentOf(ip)?.type === "mediaplane:azure:StaticIps");
    expect(platformIps.map((ip) => ip.name).sort()).toEqual(["mediaplane-ips-ingress", "mediaplane-ips-jvb", "mediaplane-ips-turn"]);
    for (const ip of platformIps) {
      expect(stack.inputsOf(ip)).toMatchObject({ resourceGroupName: "mpprod-rg", zones: ["1", "2", "3"] });
    }
  });

  it("lets the cluster identity attach them with Network Contributor on that group", () => {
    const role = stack.inputsOf(stack.get("azure-native:authorization:RoleAssignment", "mediaplane-cluster-network-contributor"));
    expect(role["roleDefinitionId"]).toMatch(/roleDefinitions\/4d97b98b-1d4f-4787-a291-c67834d212e7$/);
    expect(role["principalId"]).toContain("principal id of mpprod-aks-identity");
    expect(role["scope"]).toMatch(/\/resourceGroups\/mpprod-rg$/);
  });

  it("uses zone-redundant storage for recordings", () => {
    expect(stack.inputsOf(stack.get("azure-native:storage:StorageAccount", "mediaplane-recordings"))).toMatchObject({
      sku: { name: "Standard_ZRS" },
    });
  });
});

describe("prod stack: tenants", () => {
  it("keeps two live secrets for a tenant in rollover and one for the others", () => {
    const tenants = revealSecrets(stack.outputs["tenants"]) as Record<string, { secrets: string[] }>;
    expect(Object.fromEntries(Object.entries(tenants).map(([slug, access]) => [slug, access.secrets.length]))).toEqual({
      university: 2,
      school: 1,
      townhall: 1,
    });
    expect(isSecretValue(stack.outputs["tenants"])).toBe(true);
  });
});

describe("prod stack: monitoring by the cluster's Prometheus Operator", () => {
  const monitors = (type: string) =>
    stack.ofType(type).map((resource) => (stack.inputsOf(resource)["metadata"] as { name: string; labels: Record<string, string> }));

  it("has the balancer's API replicas, its pollers and traefik scraped, with the label the cluster's Prometheus selects", () => {
    const scraped = [...monitors("kubernetes:monitoring.coreos.com/v1:ServiceMonitor"), ...monitors("kubernetes:monitoring.coreos.com/v1:PodMonitor")];
    expect(scraped.map((metadata) => metadata.name).sort()).toEqual(["balancer-api", "balancer-poller", "traefik"]);
    for (const metadata of scraped) expect(metadata.labels).toMatchObject({ release: "monitoring" });
  });

  it("leaves the monitor CRDs to the operator's own installation", () => {
    const files = stack.ofType("kubernetes:yaml/v2:ConfigFile").map((resource) => String(stack.inputsOf(resource)["file"]));
    expect(files.filter((file) => file.includes("monitoring.coreos.com"))).toEqual([]);
  });

  it("provisions the dashboard for Grafana's sidecar in the monitoring namespace", () => {
    const dashboards = monitors("kubernetes:core/v1:ConfigMap").find((metadata) => metadata.name === "mediaplane-dashboards");
    expect(dashboards).toMatchObject({ namespace: "monitoring", labels: { grafana_dashboard: "1" } });
  });
});

describe("prod stack: the BBB nodes it creates", () => {
  const fleetIps = () => stack.ofType("azure-native:network:PublicIPAddress").filter((ip) => stack.parentOf(ip)?.type === "mediaplane:bbb:BbbNode");

  it("gives each node of a group a static IP in the group's zone", () => {
    expect(fleetIps().map((ip) => [ip.name, stack.inputsOf(ip)["zones"]])).toEqual([
      ["fleet-a-1-ip", ["1"]],
      ["fleet-a-2-ip", ["1"]],
      ["fleet-b-1-ip", ["2"]],
      ["fleet-b-2-ip", ["2"]],
    ]);
  });

  it("writes a DNS record for every node beside the platform's hosts", () => {
    const names = stack.ofType("mediaplane:dns:DnsRecord").map((record) => record.name);
    for (const node of ["fleet-a-1", "fleet-a-2", "fleet-b-1", "fleet-b-2"]) expect(names.some((name) => name.includes(node))).toBe(true);
  });
});
