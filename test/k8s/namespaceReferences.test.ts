import { describe, expect, it } from "vitest";
import { podReferenceProblems, routeReferenceProblems, unknownPeerNamespaces } from "./support/namespaceReferences.js";

// The checkers the stack manifest tests use must themselves find what would leave a pod pending or a route dead.
const object = (kind: string, namespace: string, name: string, rest: Record<string, unknown> = {}) => ({ kind, metadata: { name, namespace }, ...rest });
const workload = (namespace: string, podSpec: Record<string, unknown>) =>
  object("Deployment", namespace, "app", { spec: { template: { spec: { containers: [{ name: "app" }], ...podSpec } } } });
const route = (namespace: string, entry: Record<string, unknown>) => object("IngressRoute", namespace, "web", { spec: { routes: [{ match: "Host(`a`)", ...entry }] } });

describe("the namespace reference checker", () => {
  it("finds a pod mounting a claim that exists only in another namespace", () => {
    const manifests = [object("PersistentVolumeClaim", "platform", "recordings"), workload("media", { volumes: [{ name: "r", persistentVolumeClaim: { claimName: "recordings" } }] })];
    expect(podReferenceProblems(manifests)).toEqual(["Deployment media/app: PersistentVolumeClaim recordings is not in media"]);
  });

  it("finds a Secret named by an env variable, and passes one marked optional", () => {
    const env = (optional: boolean) => [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "token", key: "t", optional } } }];
    expect(podReferenceProblems([workload("media", { containers: [{ name: "app", env: env(false) }] })])).toEqual(["Deployment media/app: Secret token is not in media"]);
    expect(podReferenceProblems([workload("media", { containers: [{ name: "app", env: env(true) }] })])).toEqual([]);
  });

  it("counts the Secret a Certificate has cert-manager create in the Certificate's namespace", () => {
    const mounting = workload("platform", { volumes: [{ name: "tls", secret: { secretName: "turn-tls" } }] });
    expect(podReferenceProblems([object("Certificate", "platform", "turn", { spec: { secretName: "turn-tls" } }), mounting])).toEqual([]);
    expect(podReferenceProblems([object("Certificate", "media", "turn", { spec: { secretName: "turn-tls" } }), mounting])).toHaveLength(1);
  });

  it("finds a route naming a Middleware of another namespace, which traefik refuses", () => {
    const manifests = [object("Middleware", "platform", "headers"), object("Service", "media", "web"), route("media", { services: [{ name: "web", port: 80 }], middlewares: [{ name: "headers", namespace: "platform" }] })];
    expect(routeReferenceProblems(manifests)).toEqual(["IngressRoute media/web: Middleware platform/headers is in another namespace, which traefik refuses"]);
  });

  it("finds a route naming a Service its namespace lacks, and leaves traefik's internal services alone", () => {
    const manifests = [route("media", { services: [{ name: "web", port: 80 }, { kind: "TraefikService", name: "api@internal" }] })];
    expect(routeReferenceProblems(manifests)).toEqual(["IngressRoute media/web: no Service web in media"]);
  });

  it("finds a NetworkPolicy peer selected in a namespace nobody declares", () => {
    const peer = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
    const policy = object("NetworkPolicy", "platform", "p", { spec: { podSelector: {}, egress: [{ to: [peer("media"), peer("kube-system")] }], ingress: [{ from: [peer("typo")] }] } });
    expect(unknownPeerNamespaces([object("Namespace", "", "media"), policy], ["kube-system"])).toEqual(["typo"]);
  });
});
