import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** A set of pods in some namespace, the way a NetworkPolicy names who may connect. */
export interface PodPeer {
  /** Namespace of the peer pods. */
  namespace: pulumi.Input<string>;
  /** Labels that select the peer pods in that namespace. */
  podLabels: Record<string, string>;
}

export function networkPolicyPeer(peer: PodPeer): k8s.types.input.networking.v1.NetworkPolicyPeer {
  return {
    // Set on every namespace by the API server since Kubernetes 1.22, so it is safe to select on.
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
    podSelector: { matchLabels: peer.podLabels },
  };
}

/** A static public IP a LoadBalancer Service is pinned to (the `StaticIp` of the Azure `StaticIps` component fits). */
export interface PinnedPublicIp {
  /** The address: what clients reach, and what media servers advertise in their candidates. */
  address: pulumi.Input<string>;
  /** Annotations that make the cloud provider attach exactly this address (`azure-pip-name`, its resource group). */
  serviceAnnotations: pulumi.Input<Record<string, string>>;
}
