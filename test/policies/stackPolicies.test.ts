import { describe, expect, it } from "vitest";
import { azurePublicIpNameAnnotation } from "../../policies/kubernetes/annotations.js";
import {
  azureLoadBalancerPinned,
  disruptionBudgets,
  networkPolicyCoverage,
  networkPolicyEgress,
} from "../../policies/kubernetes/stackPolicies.js";
import { selectorMatches } from "../../policies/kubernetes/labelSelector.js";
import { cronJob, deployment, planned, statefulSet, violationsOf } from "./support/resources.js";

const aksCluster = planned("azure-native:containerservice:ManagedCluster", { kubernetesVersion: "1.33" }, "aks");

function loadBalancer(annotations: Record<string, string>, externalTrafficPolicy?: string) {
  return planned(
    "kubernetes:core/v1:Service",
    {
      metadata: { name: "traefik", namespace: "ingress", annotations },
      spec: { type: "LoadBalancer", ports: [{ port: 443 }], ...(externalTrafficPolicy === undefined ? {} : { externalTrafficPolicy }) },
    },
    "traefik",
  );
}

function disruptionBudget(namespace: string, matchLabels: Record<string, string>) {
  return planned("kubernetes:policy/v1:PodDisruptionBudget", { metadata: { namespace }, spec: { maxUnavailable: 1, selector: { matchLabels } } }, "pdb");
}

function networkPolicy(namespace: string, podSelector: Record<string, unknown> = {}) {
  return planned("kubernetes:networking.k8s.io/v1:NetworkPolicy", { metadata: { namespace }, spec: { podSelector } }, `netpol-${namespace}`);
}

describe("k8s-azure-load-balancer-pinned-ip", () => {
  const pinned = { [azurePublicIpNameAnnotation]: "mp-dev-ingress" };

  it("accepts a LoadBalancer pinned to a static IP with externalTrafficPolicy Local", async () => {
    expect(await violationsOf(azureLoadBalancerPinned, aksCluster, loadBalancer(pinned, "Local"))).toEqual([]);
  });

  it("rejects a LoadBalancer without the public IP annotation", async () => {
    expect(await violationsOf(azureLoadBalancerPinned, aksCluster, loadBalancer({}, "Local"))).toEqual([
      expect.stringMatching(/^Service ingress\/traefik is not pinned to a static public IP/),
    ]);
  });

  it("rejects a LoadBalancer that lets traffic hop between nodes", async () => {
    expect(await violationsOf(azureLoadBalancerPinned, aksCluster, loadBalancer(pinned, "Cluster"))).toEqual([
      expect.stringContaining("does not set externalTrafficPolicy: Local"),
    ]);
  });

  it("leaves LoadBalancers alone on stacks without an AKS cluster (a laptop cluster)", async () => {
    expect(await violationsOf(azureLoadBalancerPinned, loadBalancer({}))).toEqual([]);
  });

  it("ignores ClusterIP Services", async () => {
    const internal = planned("kubernetes:core/v1:Service", { metadata: { name: "redis" }, spec: { type: "ClusterIP" } });
    expect(await violationsOf(azureLoadBalancerPinned, aksCluster, internal)).toEqual([]);
  });
});

describe("k8s-pod-disruption-budgets", () => {
  const api = { name: "balancer-api", replicas: 3, labels: { app: "balancer", component: "api" } };

  it("accepts a replicated Deployment whose pods a budget selects", async () => {
    expect(await violationsOf(disruptionBudgets, deployment(api), disruptionBudget("media", { component: "api" }))).toEqual([]);
  });

  it("rejects a replicated Deployment without a budget", async () => {
    expect(await violationsOf(disruptionBudgets, deployment(api))).toEqual([
      "Deployment media/balancer-api runs 3 replicas but no PodDisruptionBudget selects its pods",
    ]);
  });

  it("rejects a budget that selects other pods", async () => {
    expect(await violationsOf(disruptionBudgets, deployment(api), disruptionBudget("media", { component: "poller" }))).toHaveLength(1);
  });

  it("rejects a budget in another namespace", async () => {
    expect(await violationsOf(disruptionBudgets, statefulSet(api), disruptionBudget("other", { component: "api" }))).toHaveLength(1);
  });

  it("does not ask a single replica for a budget", async () => {
    expect(await violationsOf(disruptionBudgets, deployment({ ...api, replicas: 1 }), cronJob())).toEqual([]);
  });

  it("counts the floor of an autoscaler targeting the Deployment", async () => {
    const autoscaler = planned("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", {
      metadata: { namespace: "media" },
      spec: { minReplicas: 2, maxReplicas: 10, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "balancer-api" } },
    });
    expect(await violationsOf(disruptionBudgets, deployment({ ...api, replicas: 1 }), autoscaler)).toEqual([
      expect.stringContaining("runs 2 replicas"),
    ]);
  });
});

describe("k8s-network-policy-coverage", () => {
  it("accepts namespaces whose pods are covered by a NetworkPolicy", async () => {
    const resources = [deployment({ namespace: "media" }), deployment({ namespace: "ingress" }), networkPolicy("media"), networkPolicy("ingress")];
    expect(await violationsOf(networkPolicyCoverage, ...resources)).toEqual([]);
  });

  it("reports each unguarded namespace once", async () => {
    const resources = [deployment({ name: "a", namespace: "media" }), deployment({ name: "b", namespace: "media" }), networkPolicy("ingress")];
    expect(await violationsOf(networkPolicyCoverage, ...resources)).toEqual([
      "namespace media runs pods (e.g. a) but has no NetworkPolicy",
    ]);
  });

  it("rejects a workload no NetworkPolicy of its namespace selects", async () => {
    const resources = [
      deployment({ name: "redis", labels: { app: "redis" } }),
      deployment({ name: "balancer", labels: { app: "balancer" } }),
      networkPolicy("media", { matchLabels: { app: "redis" } }),
    ];
    expect(await violationsOf(networkPolicyCoverage, ...resources)).toEqual(["Deployment media/balancer: no NetworkPolicy selects its pods"]);
  });

  it("does not count host-network pods, which NetworkPolicies cannot confine", async () => {
    const janus = planned(
      "kubernetes:apps/v1:Deployment",
      { metadata: { name: "janus", namespace: "media" }, spec: { template: { metadata: { labels: { app: "janus" } }, spec: { hostNetwork: true, containers: [] } } } },
      "janus",
    );
    expect(await violationsOf(networkPolicyCoverage, janus)).toEqual([]);
  });

  it("treats objects without a namespace as running in default", async () => {
    const pod = planned("kubernetes:core/v1:Pod", { metadata: { name: "debug" }, spec: { containers: [] } }, "debug");
    expect(await violationsOf(networkPolicyCoverage, pod, networkPolicy("media"))).toEqual([
      expect.stringContaining("namespace default"),
    ]);
  });
});

describe("k8s-network-policy-egress", () => {
  const redis = () => deployment({ name: "redis", namespace: "media", labels: { app: "redis" } });
  const policy = (spec: Record<string, unknown>) =>
    planned("kubernetes:networking.k8s.io/v1:NetworkPolicy", { metadata: { namespace: "media" }, spec: { podSelector: {}, ...spec } }, "netpol");

  it("accepts a pod whose policy declares Egress", async () => {
    expect(await violationsOf(networkPolicyEgress, redis(), policy({ policyTypes: ["Ingress", "Egress"], egress: [] }))).toEqual([]);
  });

  it("accepts egress confined by a second policy beside an ingress-only one", async () => {
    const resources = [redis(), policy({ policyTypes: ["Ingress"] }), policy({ policyTypes: ["Egress"], egress: [{ to: [] }] })];
    expect(await violationsOf(networkPolicyEgress, ...resources)).toEqual([]);
  });

  it("rejects a pod whose policies confine only ingress", async () => {
    expect(await violationsOf(networkPolicyEgress, redis(), policy({ policyTypes: ["Ingress"] }))).toEqual([
      "Deployment media/redis: no NetworkPolicy selecting its pods restricts egress",
    ]);
  });

  it("reads a policy without policyTypes as Kubernetes does: egress rules make it an egress policy", async () => {
    expect(await violationsOf(networkPolicyEgress, redis(), policy({ egress: [] }))).toEqual([]);
    expect(await violationsOf(networkPolicyEgress, redis(), policy({ ingress: [] }))).toHaveLength(1);
  });

  it("leaves pods no policy selects to the coverage policy, and host-network pods alone", async () => {
    const janus = planned(
      "kubernetes:apps/v1:Deployment",
      { metadata: { name: "janus", namespace: "media" }, spec: { template: { metadata: { labels: { app: "janus" } }, spec: { hostNetwork: true, containers: [] } } } },
      "janus",
    );
    expect(await violationsOf(networkPolicyEgress, redis(), janus)).toEqual([]);
  });
});

describe("label selectors", () => {
  const labels = { app: "jitsi", component: "jvb" };

  it("select everything when empty", () => {
    expect(selectorMatches({}, labels)).toBe(true);
  });

  it("apply In, NotIn, Exists and DoesNotExist", () => {
    expect(selectorMatches({ matchExpressions: [{ key: "component", operator: "In", values: ["jvb", "jicofo"] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "component", operator: "NotIn", values: ["jvb"] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "Exists" }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels)).toBe(false);
  });

  it("require every matchLabel", () => {
    expect(selectorMatches({ matchLabels: { app: "jitsi", component: "web" } }, labels)).toBe(false);
  });
});
