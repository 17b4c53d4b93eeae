import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IConfigMap, IService } from "kubernetes-models/v1";
import type { IRole, IRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { parse } from "yaml";
import type { IPersistentVolumeClaim } from "kubernetes-models/v1";
import type { IIngressRoute, IMiddleware, ITLSOption } from "@kubernetes-models/traefik/traefik.io/v1alpha1";
import { beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { declareWithMocks, findObject, objectOf, type DeclaredResource } from "./support/declared.js";
import { routerTlsOptionKey, tlsOptionKey, tlsOptionProblems } from "./support/traefikTlsOptions.js";
import { testPublicIp } from "./support/fixtures.js";
import { clusterDnsRule, egressOf, networkPolicy, podPeersOf, publicAddresses } from "./support/egress.js";
import { traefikCrdManifest } from "../../components/k8s/versions.js";

let declared: DeclaredResource[];
let dependencyUrns: string[];

beforeAll(async () => {
  let outputs: Record<string, unknown>;
  ({ declared, outputs } = await declareWithMocks(async () => {
    const k8s = await import("@pulumi/kubernetes");
    const { TraefikIngress } = await import("../../components/k8s/TraefikIngress.js");
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    const ingress = new TraefikIngress("ingress", {
      provider,
      namespace: "ingress",
      apiBaseDomain: "api.example.org",
      acme: {
        email: "ops@example.org",
        server: "https://acme-staging-v02.api.letsencrypt.org/directory",
        nameserver: "ns1.example.org:53",
        tsigKeyName: "acme-key",
        tsigAlgorithm: "hmac-sha512.",
        tsigSecret: "c2VjcmV0LXRzaWcta2V5",
      },
      adminSourceRanges: ["203.0.113.0/24"],
      kubernetesApi: { at: "outsideCluster", port: 443 },
      podCidrs: ["10.244.0.0/16"],
      publicIp: testPublicIp("198.51.100.10", "mp-dev-ingress-ip"),
      storageClassName: "managed-csi",
    });
    return { dependencyUrns: pulumi.all(ingress.binding.dependencies.map((dependency) => pulumi.output(dependency).apply((resource) => resource.urn))) };
  }));
  dependencyUrns = outputs["dependencyUrns"] as string[];
});

const deployment = () => objectOf<IDeployment>(declared, "kubernetes:apps/v1:Deployment", "traefik");
const traefikContainer = () => {
  const container = deployment().spec?.template.spec?.containers[0];
  if (container === undefined) throw new Error("no traefik container");
  return container;
};
const envNamed = (name: string) => traefikContainer().env?.find((variable) => variable.name === name);

describe("TraefikIngress", () => {
  it("runs one traefik replica, replaced rather than rolled because the ACME disk attaches to one node", () => {
    expect(deployment().spec?.replicas).toBe(1);
    expect(deployment().spec?.strategy?.type).toBe("Recreate");
  });

  it("reads Secrets, Services and its routes only in the namespace it serves: a Role there, no ClusterRole", () => {
    expect(declared.filter((resource) => resource.type.startsWith("kubernetes:rbac.authorization.k8s.io/v1:Cluster"))).toEqual([]);
    const role = objectOf<IRole>(declared, "kubernetes:rbac.authorization.k8s.io/v1:Role", "traefik");
    expect(role.metadata?.namespace).toBe("ingress");
    expect(role.rules?.find((rule) => rule.resources?.includes("secrets"))?.verbs).toEqual(["get", "list", "watch"]);
    expect(role.rules?.flatMap((rule) => rule.verbs)).not.toContain("update");
    const binding = objectOf<IRoleBinding>(declared, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "traefik");
    expect(binding.metadata?.namespace).toBe("ingress");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "traefik" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "traefik", namespace: "ingress" }]);
  });

  it("watches exactly the namespaces its Roles cover", () => {
    const config = parse(objectOf<IConfigMap>(declared, "kubernetes:core/v1:ConfigMap", "traefik-config").data?.["traefik.yml"] ?? "");
    expect(config.providers.kubernetesCRD.namespaces).toEqual(["ingress"]);
    expect(config.providers.kubernetesCRD.disableClusterScopeResources).toBe(true);
  });

  it("pins the image to a release", () => {
    expect(traefikContainer().image).toMatch(/^docker\.io\/library\/traefik:v3\.\d+\.\d+$/);
  });

  it("reads the TSIG secret from a Secret and the other RFC2136 settings from plain variables", () => {
    expect(envNamed("RFC2136_TSIG_SECRET")?.valueFrom?.secretKeyRef).toEqual({ name: "traefik-rfc2136-tsig", key: "secret" });
    expect(envNamed("RFC2136_TSIG_SECRET")?.value).toBeUndefined();
    expect(envNamed("RFC2136_NAMESERVER")?.value).toBe("ns1.example.org:53");
    expect(envNamed("RFC2136_TSIG_KEY")?.value).toBe("acme-key");
    expect(envNamed("RFC2136_TSIG_ALGORITHM")?.value).toBe("hmac-sha512.");
  });

  it("stores the TSIG secret as a secret", () => {
    const tsig = declared.find((resource) => resource.name === "ingress-tsig");
    expect(tsig?.hasSecretInput).toBe(true);
  });

  it("runs as a non-root user without privilege escalation, capabilities or a writable root file system", () => {
    expect(deployment().spec?.template.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(traefikContainer().securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("probes /ping for readiness and liveness and sets requests and limits", () => {
    expect(traefikContainer().readinessProbe?.httpGet).toEqual({ path: "/ping", port: "traefik" });
    expect(traefikContainer().livenessProbe?.httpGet).toEqual({ path: "/ping", port: "traefik" });
    expect(traefikContainer().resources?.requests).toBeDefined();
    expect(traefikContainer().resources?.limits).toBeDefined();
  });

  it("keeps acme.json on a ReadWriteOnce disk and restores mode 600 before traefik starts", () => {
    const claim = objectOf<IPersistentVolumeClaim>(declared, "kubernetes:core/v1:PersistentVolumeClaim", "traefik-acme");
    expect(claim.spec?.accessModes).toEqual(["ReadWriteOnce"]);
    expect(claim.spec?.storageClassName).toBe("managed-csi");
    const init = deployment().spec?.template.spec?.initContainers?.[0];
    expect(init?.command?.join(" ")).toContain("chmod 600 /data/acme.json");
  });

  it("pins the LoadBalancer to the ingress static IP and keeps client addresses", () => {
    const service = objectOf<IService>(declared, "kubernetes:core/v1:Service", "traefik");
    expect(service.spec?.type).toBe("LoadBalancer");
    expect(service.spec?.externalTrafficPolicy).toBe("Local");
    expect(service.metadata?.annotations).toEqual({
      "service.beta.kubernetes.io/azure-pip-name": "mp-dev-ingress-ip",
      "service.beta.kubernetes.io/azure-load-balancer-resource-group": "mp-dev-rg",
    });
    expect(service.spec?.ports?.map((port) => [port.port, port.targetPort])).toEqual([
      [80, "web"],
      [443, "websecure"],
    ]);
  });

  it("declares the TLS option: TLS 1.2 minimum, ECDHE AEAD suites, X25519/P-521/P-384, strict SNI", () => {
    const option = objectOf<ITLSOption>(declared, "kubernetes:traefik.io/v1alpha1:TLSOption", "default");
    expect(option.spec.minVersion).toBe("VersionTLS12");
    expect(option.spec.curvePreferences).toEqual(["X25519", "CurveP521", "CurveP384"]);
    expect(option.spec.sniStrict).toBe(true);
    for (const suite of option.spec.cipherSuites ?? []) expect(suite).toMatch(/^TLS_ECDHE_.*(GCM|CHACHA20_POLY1305)/);
  });

  it("names its TLS option `default`, the key traefik's routers fall back to, and routes name no other", () => {
    const option = findObject(declared, "kubernetes:traefik.io/v1alpha1:TLSOption", "default");
    expect(tlsOptionKey("ingress", (option.inputs["metadata"] as { name: string }).name)).toBe("default");
    const routes = declared.filter((resource) => resource.type === "kubernetes:traefik.io/v1alpha1:IngressRoute").map((resource) => resource.inputs as unknown as IIngressRoute);
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(routerTlsOptionKey("ingress", route.spec.tls?.options)).toBe("default");
  });

  it("flags a route naming the namespaced `default` option, which traefik resolves to an option that does not exist", () => {
    const option = { kind: "TLSOption", metadata: { name: "default", namespace: "ingress" } };
    const route = { kind: "IngressRoute", metadata: { name: "r", namespace: "ingress" }, spec: { tls: { options: { name: "default", namespace: "ingress" } } } };
    expect(tlsOptionProblems([option, route])).toEqual(["IngressRoute r: TLS options resolve to ingress-default, which no TLSOption declares"]);
  });

  it("declares the security headers and the admin allow-list as middlewares", () => {
    const headers = objectOf<IMiddleware>(declared, "kubernetes:traefik.io/v1alpha1:Middleware", "security-headers");
    expect(headers.spec.headers).toMatchObject({ stsSeconds: 31_536_000, stsIncludeSubdomains: true, frameDeny: true, contentTypeNosniff: true });
    expect(headers.spec.headers?.customResponseHeaders?.["X-Robots-Tag"]).toContain("noindex");
    const allowList = objectOf<IMiddleware>(declared, "kubernetes:traefik.io/v1alpha1:Middleware", "admin-allow-list");
    expect(allowList.spec.ipAllowList?.sourceRange).toEqual(["203.0.113.0/24"]);
  });

  it("puts the dashboard behind the admin allow-list", () => {
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "traefik-dashboard");
    expect(route.spec.routes[0]?.services?.[0]).toMatchObject({ name: "api@internal", kind: "TraefikService" });
    expect(route.spec.routes[0]?.middlewares?.map((middleware) => middleware.name)).toContain("admin-allow-list");
  });

  it("makes every route wait for the CRDs and the shared middlewares and TLS option", () => {
    const kinds = dependencyUrns.map((urn) => urn.split("::")[2]?.split("$").pop());
    expect(kinds).toEqual([
      "kubernetes:yaml/v2:ConfigFile",
      "kubernetes:traefik.io/v1alpha1:Middleware",
      "kubernetes:traefik.io/v1alpha1:Middleware",
      "kubernetes:traefik.io/v1alpha1:TLSOption",
    ]);
  });

  it("applies the CRD manifest of exactly the traefik release it runs", () => {
    const release = /:(v\d+\.\d+\.\d+)$/.exec(traefikContainer().image ?? "")?.[1];
    expect(release).toBeDefined();
    expect(traefikCrdManifest).toContain(`/traefik/${release}/`);
  });

  it("registers every Kubernetes object with the cluster's provider", () => {
    // The CRD manifest is a provider-side component; everything else is a Kubernetes object.
    const objects = declared.filter((resource) => resource.type.startsWith("kubernetes:") && resource.type !== "kubernetes:yaml/v2:ConfigFile");
    for (const object of objects) expect(object.providerUrn, object.name).toMatch(/pulumi:providers:kubernetes::cluster$/);
  });

  it("reaches DNS, and HTTPS and DNS of public addresses: API server, ACME directory, name servers; no pod but CoreDNS", () => {
    const egress = egressOf(networkPolicy(declared, "traefik"));
    expect(egress).toEqual([
      clusterDnsRule,
      {
        to: [publicAddresses],
        ports: [
          { port: 443, protocol: "TCP" },
          { port: 53, protocol: "UDP" },
          { port: 53, protocol: "TCP" },
        ],
      },
    ]);
    expect(podPeersOf(egress)).toEqual(clusterDnsRule.to);
  });

  it("declares no egress for the dashboard, which traefik serves itself", () => {
    const policies = declared.filter((resource) => resource.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(policies.map((resource) => (resource.inputs["metadata"] as { name: string }).name)).toEqual(["traefik"]);
  });
});
