import type { INetworkPolicy, INetworkPolicyEgressRule, INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1";
import { objectOf, type DeclaredResource } from "./declared.js";

/** What an egress rule admits, written out as the specifications expect it. */

/** CoreDNS in kube-system, UDP and TCP 53: the rule every policed pod starts with. */
export const clusterDnsRule: INetworkPolicyEgressRule = {
  to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
  ports: [
    { port: 53, protocol: "UDP" },
    { port: 53, protocol: "TCP" },
  ],
};

/** Public IPv4 addresses: everything but private, shared, link-local space (the pod range lies inside 10/8). */
export const publicAddresses: INetworkPolicyPeer = {
  ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"] },
};

/** Pods with these labels in a namespace. */
export function podsIn(namespace: string, labels: Record<string, string>): INetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } }, podSelector: { matchLabels: labels } };
}

export function networkPolicy(declared: readonly DeclaredResource[], name: string): INetworkPolicy {
  return objectOf<INetworkPolicy>(declared, "kubernetes:networking.k8s.io/v1:NetworkPolicy", name);
}

/** The egress rules of a policy that restricts egress (throws if it does not). */
export function egressOf(policy: INetworkPolicy): INetworkPolicyEgressRule[] {
  if (!(policy.spec?.policyTypes ?? []).includes("Egress")) throw new Error(`${policy.metadata?.name}: egress is not restricted`);
  return policy.spec?.egress ?? [];
}

/** Every peer any egress rule names that is a pod selector: the pods a policy lets its pods reach. */
export function podPeersOf(rules: readonly INetworkPolicyEgressRule[]): INetworkPolicyPeer[] {
  return rules.flatMap((rule) => (rule.to ?? []).filter((peer) => peer.podSelector !== undefined));
}
