import type { IDeployment, IStatefulSet } from "kubernetes-models/apps/v1";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1";
import type { IContainer, ISecret } from "kubernetes-models/v1";
import type { IIngressRoute } from "@kubernetes-models/traefik/traefik.io/v1alpha1";
import { beforeAll, describe, expect, it } from "vitest";
import { declareWithMocks, workloadContainer, envVar, findObject, objectOf, type DeclaredResource } from "./support/declared.js";
import { testIngressBinding } from "./support/fixtures.js";
import { clusterDnsRule, egressOf, networkPolicy, podPeersOf, podsIn, publicAddresses } from "./support/egress.js";
import { routerTlsOptionKey, tlsOptionKey } from "./support/traefikTlsOptions.js";
import { contentHash } from "../../components/k8s/workload.js";

let declared: DeclaredResource[];
let redisUrl: string;

beforeAll(async () => {
  let outputs: Record<string, unknown>;
  ({ declared, outputs } = await declareWithMocks(async () => {
    const k8s = await import("@pulumi/kubernetes");
    const { Redis } = await import("../../components/k8s/Redis.js");
    const { Balancer, balancerPods } = await import("../../components/k8s/Balancer.js");
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    const redis = new Redis("redis", { provider, namespace: "platform", clients: balancerPods("platform"), maxMemoryMb: 512 });
    new Balancer("balancer", {
      provider,
      namespace: "platform",
      image: "registry.example.org/balancer@sha256:" + "cd".repeat(32),
      configFile: "tenants: []\n",
      redisUrl: redis.url,
      redisEndpoint: { kind: "inCluster", target: redis.endpoint },
      nodeUrls: [
        "https://bbb-1.example.org/bigbluebutton/api/",
        "https://bbb-1.example.org/load",
        // A node in a peered private network, on a port of its own.
        "https://10.20.0.5:8443/bigbluebutton/api/",
      ],
      podCidrs: ["10.244.0.0/16"],
      apiBaseDomain: "api.example.org",
      trustedProxies: ["10.244.0.0/16"],
      api: { autoscaling: { minReplicas: 2, maxReplicas: 6, targetCpuPercent: 70 } },
      ingress: testIngressBinding(),
    });
    return { redisUrl: redis.url };
  }));
  redisUrl = outputs["redisUrl"] as string;
});

const deployment = (name: string) => objectOf<IDeployment>(declared, "kubernetes:apps/v1:Deployment", name);
const containerOf = (name: string): IContainer => workloadContainer(declared, name);
const redisSet = () => objectOf<IStatefulSet>(declared, "kubernetes:apps/v1:StatefulSet", "redis");

describe("Redis", () => {
  it("generates the password and builds a redis:// URL from it", () => {
    expect(declared.some((resource) => resource.type === "random:index/randomPassword:RandomPassword" && resource.name === "redis-password")).toBe(true);
    expect(redisUrl).toBe("redis://:<unknown until apply: random value of redis-password>@redis.platform.svc.cluster.local:6379/0");
  });

  it("reads the password from a Secret file, never from its command line", () => {
    const pod = redisSet().spec?.template.spec;
    const container = pod?.containers[0];
    expect([...(container?.command ?? []), ...(container?.args ?? [])]).toEqual(["redis-server", "/etc/redis/redis.conf"]);
    expect(container?.volumeMounts).toContainEqual({ name: "auth", mountPath: "/etc/redis-auth", readOnly: true });
    expect(pod?.volumes?.find((volume) => volume.name === "auth")?.secret).toEqual({
      secretName: "redis-auth",
      items: [{ key: "requirepass.conf", path: "requirepass.conf" }],
      defaultMode: 0o440,
    });
  });

  it("keeps the append-only file on a persistent volume", () => {
    expect(redisSet().spec?.volumeClaimTemplates?.[0]?.spec?.accessModes).toEqual(["ReadWriteOnce"]);
    expect(redisSet().spec?.template.spec?.containers[0]?.volumeMounts).toContainEqual({ name: "data", mountPath: "/data" });
  });

  it("sizes the container above maxmemory so an AOF rewrite does not get it killed", () => {
    expect(redisSet().spec?.template.spec?.containers[0]?.resources).toEqual({
      requests: { cpu: "100m", memory: "512Mi" },
      limits: { cpu: "1", memory: "768Mi" },
    });
  });

  it("may connect nowhere itself", () => {
    const policy = objectOf<INetworkPolicy>(declared, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "redis");
    expect(policy.spec?.policyTypes).toContain("Egress");
    expect(policy.spec?.egress).toEqual([]);
  });

  it("admits only the balancer's pods on the Redis port", () => {
    const policy = objectOf<INetworkPolicy>(declared, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "redis");
    expect(policy.spec?.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "platform" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "balancer", "app.kubernetes.io/part-of": "mediaplane" } },
          },
        ],
        ports: [{ port: 6379, protocol: "TCP" }],
      },
    ]);
  });
});

describe("Balancer", () => {
  it("runs the API and the poller from one image with MODE telling them apart", () => {
    expect(envVar(containerOf("balancer-api"), "MODE")?.value).toBe("api");
    expect(envVar(containerOf("balancer-poller"), "MODE")?.value).toBe("poller");
    expect(containerOf("balancer-api").image).toBe(containerOf("balancer-poller").image);
  });

  it("wires the process environment: config file, ports, base domain, trusted proxies", () => {
    const api = containerOf("balancer-api");
    expect(envVar(api, "CONFIG_FILE")?.value).toBe("/etc/balancer/config.yaml");
    expect(envVar(api, "PORT")?.value).toBe("8080");
    expect(envVar(api, "ADMIN_PORT")?.value).toBe("9090");
    expect(envVar(api, "BASE_DOMAIN")?.value).toBe("api.example.org");
    expect(envVar(api, "TRUSTED_PROXIES")?.value).toBe("10.244.0.0/16");
  });

  it("reads REDIS_URL and ADMIN_TOKEN from the Secret", () => {
    const api = containerOf("balancer-api");
    expect(envVar(api, "REDIS_URL")?.valueFrom?.secretKeyRef).toEqual({ name: "balancer", key: "redisUrl" });
    expect(envVar(api, "ADMIN_TOKEN")?.valueFrom?.secretKeyRef).toEqual({ name: "balancer", key: "adminToken" });
  });

  it("signs end callbacks in API and poller pods with one generated key, from the Secret", () => {
    expect(declared.some((resource) => resource.type === "random:index/randomPassword:RandomPassword" && resource.name === "balancer-callback-secret")).toBe(true);
    const secret = findObject(declared, "kubernetes:core/v1:Secret", "balancer").inputs as unknown as ISecret;
    expect(secret.stringData?.["callbackSecret"]).toBe("<unknown until apply: random value of balancer-callback-secret>");
    for (const deploymentName of ["balancer-api", "balancer-poller"]) {
      expect(envVar(containerOf(deploymentName), "CALLBACK_SECRET")).toEqual({
        name: "CALLBACK_SECRET",
        valueFrom: { secretKeyRef: { name: "balancer", key: "callbackSecret" } },
      });
    }
  });

  it("rolls the pods when a value read at start changes, and never for the config file, which reloads in place", () => {
    const secret = objectOf<ISecret>(declared, "kubernetes:core/v1:Secret", "balancer");
    const { "config.yaml": configFile, ...readAtStart } = secret.stringData ?? {};
    expect(configFile).toBe("tenants: []\n");
    expect(Object.keys(readAtStart).sort()).toEqual(["adminToken", "callbackSecret", "redisUrl"]);
    const hashOfReadAtStart = contentHash(JSON.stringify(Object.entries(readAtStart).sort()));
    for (const name of ["balancer-api", "balancer-poller"]) {
      expect(deployment(name).spec?.template.metadata?.annotations).toEqual({ "mediaplane/restart-hash": hashOfReadAtStart });
    }
  });

  it("mounts the config file's directory, which the kubelet updates in place (a subPath mount never is)", () => {
    const container = containerOf("balancer-api");
    expect(container.volumeMounts).toContainEqual({ name: "config", mountPath: "/etc/balancer", readOnly: true });
    expect(container.volumeMounts?.some((mount) => mount.subPath !== undefined)).toBe(false);
    expect(envVar(container, "CONFIG_FILE")?.value).toBe("/etc/balancer/config.yaml");
  });

  it("renders the config file into a secret Secret", () => {
    const secret = findObject(declared, "kubernetes:core/v1:Secret", "balancer");
    expect(secret.hasSecretInput).toBe(true);
    expect((secret.inputs as unknown as ISecret).stringData?.["config.yaml"]).toBe("tenants: []\n");
  });

  it("probes /readyz and /livez on the admin port", () => {
    const api = containerOf("balancer-api");
    expect(api.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "admin" });
    expect(api.livenessProbe?.httpGet).toEqual({ path: "/livez", port: "admin" });
  });

  it("rolls the API without losing capacity and gives in-flight requests time to drain", () => {
    const spec = deployment("balancer-api").spec;
    expect(spec?.strategy?.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(spec?.template.spec?.terminationGracePeriodSeconds).toBeGreaterThan(5);
    expect(containerOf("balancer-api").lifecycle?.preStop).toBeDefined();
  });

  it("leaves the replica count to the autoscaler, with the configured bounds", () => {
    expect(deployment("balancer-api").spec?.replicas).toBeUndefined();
    const hpa = objectOf<IHorizontalPodAutoscaler>(declared, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "balancer-api");
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6, scaleTargetRef: { kind: "Deployment", name: "balancer-api" } });
  });

  it("keeps at least one API pod through voluntary disruptions", () => {
    const budget = objectOf<IPodDisruptionBudget>(declared, "kubernetes:policy/v1:PodDisruptionBudget", "balancer-api-pdb");
    expect(budget.spec?.maxUnavailable).toBe(1);
  });

  it("runs as non-root with no privilege escalation and a read-only root file system", () => {
    for (const name of ["balancer-api", "balancer-poller"]) {
      expect(deployment(name).spec?.template.spec?.securityContext?.runAsNonRoot).toBe(true);
      expect(containerOf(name).securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(containerOf(name).resources?.limits).toBeDefined();
    }
  });

  it("routes tenant hosts with a v3 HostRegexp and path-based URLs under /t/", () => {
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "balancer");
    const matches = route.spec.routes.map((entry) => entry.match);
    expect(matches[0]).toBe("HostRegexp(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.api\\.example\\.org$`)");
    expect(matches[1]).toBe("Host(`api.example.org`) && PathPrefix(`/t/`)");
  });

  it("puts admin API and metrics behind the allow-list, and tenant routes not", () => {
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "balancer");
    const middlewareNames = route.spec.routes.map((entry) => entry.middlewares?.map((middleware) => middleware.name));
    expect(route.spec.routes[2]?.match).toContain("/admin");
    expect(route.spec.routes[2]?.match).toContain("/metrics");
    expect(route.spec.routes[2]?.services?.[0]?.port).toBe(9090);
    expect(middlewareNames[2]).toEqual(["admin-allow-list", "security-headers"]);
    expect(middlewareNames[0]).toEqual(["security-headers"]);
  });

  it("uses the shared TLS option and the issued certificate of traefik's store, naming no resolver", () => {
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "balancer");
    expect(route.spec.tls).toEqual({});
    // The shared TLSOption is named `default`: traefik finds it only through a router that names no options.
    expect(routerTlsOptionKey(route.metadata?.namespace ?? "", route.spec.tls?.options)).toBe(tlsOptionKey("ingress", "default"));
  });

  it("admits only traefik to the balancer pods", () => {
    const policy = objectOf<INetworkPolicy>(declared, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "balancer");
    expect(policy.spec?.ingress?.[0]?.from?.[0]?.podSelector?.matchLabels).toEqual({ "app.kubernetes.io/name": "traefik" });
    expect(policy.spec?.ingress).toHaveLength(1);
  });

  it("lets its pods reach DNS, Redis and the nodes' HTTPS port, and no other pod", () => {
    const egress = egressOf(networkPolicy(declared, "balancer"));
    expect(egress[0]).toEqual(clusterDnsRule);
    expect(podPeersOf(egress)).toEqual([
      clusterDnsRule.to?.[0],
      podsIn("platform", { "app.kubernetes.io/name": "redis", "app.kubernetes.io/component": "balancer-store", "app.kubernetes.io/part-of": "mediaplane" }),
    ]);
    expect(egress[1]?.ports).toEqual([{ port: 6379, protocol: "TCP" }]);
    expect(egress).toContainEqual({ to: [publicAddresses], ports: [{ port: 443, protocol: "TCP" }, { port: 80, protocol: "TCP" }] });
  });

  it("reaches a node configured by a private address on that address and its port only", () => {
    expect(egressOf(networkPolicy(declared, "balancer"))).toContainEqual({ to: [{ ipBlock: { cidr: "10.20.0.5/32" } }], ports: [{ port: 8443, protocol: "TCP" }] });
  });

  it("sends tenants' end callbacks to ports 80 and 443 of public addresses, never into the cluster's ranges", () => {
    const egress = egressOf(networkPolicy(declared, "balancer"));
    const publicRule = egress.find((rule) => rule.to?.[0]?.ipBlock?.cidr === "0.0.0.0/0");
    expect(publicRule?.to).toEqual([publicAddresses]);
    expect(publicRule?.ports).toHaveLength(2);
    expect(publicRule?.ports).toEqual(expect.arrayContaining([{ port: 80, protocol: "TCP" }, { port: 443, protocol: "TCP" }]));
  });

  it("lets traefik reach the balancer's API and admin ports, in a policy beside traefik", () => {
    const policy = networkPolicy(declared, "traefik-to-balancer");
    expect(policy.metadata?.namespace).toBe("ingress");
    expect(policy.spec?.podSelector?.matchLabels).toEqual({ "app.kubernetes.io/name": "traefik" });
    expect(egressOf(policy)).toEqual([
      {
        to: [podsIn("platform", { "app.kubernetes.io/name": "balancer", "app.kubernetes.io/part-of": "mediaplane" })],
        ports: [
          { port: 8080, protocol: "TCP" },
          { port: 9090, protocol: "TCP" },
        ],
      },
    ]);
  });
});
