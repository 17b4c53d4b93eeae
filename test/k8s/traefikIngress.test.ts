import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IConfigMap, IService } from "kubernetes-models/v1";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1";
import type { IRole, IRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { parse } from "yaml";
import type { IIngressRoute, IMiddleware, ITLSOption, ITLSStore } from "@kubernetes-models/traefik/traefik.io/v1alpha1";
import { beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { declareWithMocks, findObject, objectOf, type DeclaredResource } from "./support/declared.js";
import { routerTlsOptionKey, tlsOptionKey, tlsOptionProblems } from "./support/traefikTlsOptions.js";
import { testPublicIp } from "./support/fixtures.js";
import { clusterDnsRule, egressOf, networkPolicy, podPeersOf, publicAddresses } from "./support/egress.js";
import { certManagerManifest, traefikCrdManifest } from "../../components/k8s/versions.js";
import type { ICertificate, IIssuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1";

let declared: DeclaredResource[];
let dependencyUrns: string[];

beforeAll(async () => {
  let outputs: Record<string, unknown>;
  ({ declared, outputs } = await declareWithMocks(async () => {
    const k8s = await import("@pulumi/kubernetes");
    const { TraefikIngress } = await import("../../components/k8s/TraefikIngress.js");
    const { CertManager } = await import("../../components/k8s/CertManager.js");
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    const certificates = new CertManager("certificates", {
      provider,
      namespace: "ingress",
      acme: {
        email: "ops@example.org",
        server: "https://acme-staging-v02.api.letsencrypt.org/directory",
        nameserver: "ns1.example.org:53",
        tsigKeyName: "acme-key",
        tsigAlgorithm: "hmac-sha512.",
        tsigSecret: "c2VjcmV0LXRzaWcta2V5",
      },
      certificates: [{ name: "ingress", dnsNames: ["api.example.org", "*.api.example.org"] }],
    });
    const issued = certificates.issued["ingress"];
    if (issued === undefined) throw new Error("no ingress certificate");
    const ingress = new TraefikIngress("ingress", {
      provider,
      namespace: "ingress",
      apiBaseDomain: "api.example.org",
      certificate: issued,
      adminSourceRanges: ["203.0.113.0/24"],
      kubernetesApi: { at: "outsideCluster", port: 443 },
      podCidrs: ["10.244.0.0/16"],
      publicIp: testPublicIp("198.51.100.10", "mp-dev-ingress-ip"),
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

describe("TraefikIngress", () => {
  it("runs two traefik replicas spread over nodes and zones, a new pod ready before an old one goes", () => {
    expect(deployment().spec?.replicas).toBe(2);
    expect(deployment().spec?.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const spread = deployment().spec?.template.spec?.topologySpreadConstraints ?? [];
    expect(spread.map((constraint) => constraint.topologyKey)).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    for (const constraint of spread) expect(constraint.labelSelector?.matchLabels).toEqual(deployment().spec?.selector.matchLabels);
  });

  it("keeps all but one traefik pod up while nodes are drained", () => {
    const budget = objectOf<IPodDisruptionBudget>(declared, "kubernetes:policy/v1:PodDisruptionBudget", "ingress-pdb");
    expect(budget.spec?.maxUnavailable).toBe(1);
    expect(budget.spec?.selector?.matchLabels).toEqual(deployment().spec?.selector.matchLabels);
  });

  it("keeps no state in its pods: no volume but config and scratch, no ACME resolver or RFC2136 credentials", () => {
    expect(deployment().spec?.template.spec?.volumes?.map((volume) => Object.keys(volume).filter((key) => key !== "name"))).toEqual([["configMap"], ["emptyDir"]]);
    expect(declared.some((resource) => resource.type === "kubernetes:core/v1:PersistentVolumeClaim")).toBe(false);
    expect(traefikContainer().env ?? []).toEqual([]);
    const config = parse(objectOf<IConfigMap>(declared, "kubernetes:core/v1:ConfigMap", "traefik-config").data?.["traefik.yml"] ?? "");
    expect(config.certificatesResolvers).toBeUndefined();
  });

  it("serves the issued certificate from the default TLSStore, matched by name as strict SNI requires", () => {
    const store = objectOf<ITLSStore>(declared, "kubernetes:traefik.io/v1alpha1:TLSStore", "default");
    expect(store.metadata?.namespace).toBe("ingress");
    // traefik v3.7 pkg/tls/tlsmanager.go `Get`: with sniStrict, a name that matches none of the store's certificates
    // closes the connection; the default certificate is not among them, so the issued one must be listed too.
    expect(store.spec.certificates).toEqual([{ secretName: "ingress-tls" }]);
    expect(store.spec.defaultCertificate).toEqual({ secretName: "ingress-tls" });
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

  it("makes every route wait for the CRDs and the shared middlewares, TLS option and certificate store", () => {
    const kinds = dependencyUrns.map((urn) => urn.split("::")[2]?.split("$").pop());
    expect(kinds).toEqual([
      "kubernetes:yaml/v2:ConfigFile",
      "kubernetes:traefik.io/v1alpha1:Middleware",
      "kubernetes:traefik.io/v1alpha1:Middleware",
      "kubernetes:traefik.io/v1alpha1:TLSOption",
      "kubernetes:traefik.io/v1alpha1:TLSStore",
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

  it("reaches only cluster DNS and the API server: it orders no certificates, so no ACME directory or name server", () => {
    const egress = egressOf(networkPolicy(declared, "traefik"));
    expect(egress).toEqual([clusterDnsRule, { to: [publicAddresses], ports: [{ port: 443, protocol: "TCP" }] }]);
    expect(podPeersOf(egress)).toEqual(clusterDnsRule.to);
  });

  it("declares no egress for the dashboard, which traefik serves itself", () => {
    const policies = declared.filter((resource) => resource.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(policies.map((resource) => (resource.inputs["metadata"] as { name: string }).name)).toEqual(["traefik"]);
  });
});

describe("CertManager", () => {
  it("installs the pinned cert-manager release", () => {
    // A ConfigFile is a component: the mock records it, not its inputs; the URL is the pinned constant.
    expect(declared.filter((resource) => resource.type === "kubernetes:yaml/v2:ConfigFile").map((resource) => resource.name)).toContain("certificates-install");
    expect(certManagerManifest).toMatch(/\/cert-manager\/releases\/download\/v\d+\.\d+\.\d+\/cert-manager\.yaml$/);
  });

  it("solves DNS-01 over RFC2136 with the stack's name server and key, the algorithm in cert-manager's spelling", () => {
    const issuer = objectOf<IIssuer>(declared, "kubernetes:cert-manager.io/v1:Issuer", "acme-dns01");
    expect(issuer.metadata?.namespace).toBe("ingress");
    expect(issuer.spec?.acme?.server).toBe("https://acme-staging-v02.api.letsencrypt.org/directory");
    expect(issuer.spec?.acme?.solvers).toEqual([
      {
        dns01: {
          rfc2136: {
            nameserver: "ns1.example.org:53",
            tsigKeyName: "acme-key",
            tsigAlgorithm: "HMACSHA512",
            tsigSecretSecretRef: { name: "acme-rfc2136-tsig", key: "secret" },
          },
        },
      },
    ]);
  });

  it("keeps the TSIG secret in a Secret beside the Issuer, marked secret", () => {
    const tsig = findObject(declared, "kubernetes:core/v1:Secret", "acme-rfc2136-tsig");
    expect(tsig.hasSecretInput).toBe(true);
    expect((tsig.inputs["metadata"] as { namespace: string }).namespace).toBe("ingress");
    expect((tsig.inputs["stringData"] as Record<string, string>)["secret"]).toBe("c2VjcmV0LXRzaWcta2V5");
  });

  it("issues the base domain and its wildcard into the Secret traefik's certificate store names", () => {
    const certificate = objectOf<ICertificate>(declared, "kubernetes:cert-manager.io/v1:Certificate", "ingress");
    expect(certificate.spec?.dnsNames).toEqual(["api.example.org", "*.api.example.org"]);
    expect(certificate.spec?.secretName).toBe("ingress-tls");
    expect(certificate.spec?.issuerRef).toEqual({ group: "cert-manager.io", kind: "Issuer", name: "acme-dns01" });
  });
});
