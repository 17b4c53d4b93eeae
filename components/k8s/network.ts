import { isIP } from "node:net";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type NetworkPolicyPort = k8s.types.input.networking.v1.NetworkPolicyPort;
type NetworkPolicyEgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;

export type TransportProtocol = "TCP" | "UDP";

/** A set of pods in some namespace, the way a NetworkPolicy names who may connect. */
export interface PodPeer {
  /** Namespace of the peer pods. */
  namespace: pulumi.Input<string>;
  /** Labels that select the peer pods in that namespace. */
  podLabels: Record<string, string>;
}

export function networkPolicyPeer(peer: PodPeer): NetworkPolicyPeer {
  return {
    // Set on every namespace by the API server since Kubernetes 1.22, so it is safe to select on.
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
    podSelector: { matchLabels: peer.podLabels },
  };
}

/** Pods and the ports on them another pod may connect to: one egress rule. */
export interface PodPorts {
  pods: PodPeer;
  ports: NetworkPolicyPort[];
}

export function podPortsEgressRule(target: PodPorts): NetworkPolicyEgressRule {
  return { to: [networkPolicyPeer(target.pods)], ports: target.ports };
}

/** The cluster DNS: CoreDNS carries this label in kube-system on AKS, kind and k3s alike. */
export const clusterDnsPods: PodPeer = { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } };

/**
 * Name resolution, which every policed pod needs before it can reach anything by name. Pods send to the DNS
 * Service's address, but policies see the CoreDNS pod it is translated to, so the rule names the pods.
 */
export function dnsEgressRule(): NetworkPolicyEgressRule {
  return {
    to: [networkPolicyPeer(clusterDnsPods)],
    ports: [
      { port: 53, protocol: "UDP" },
      { port: 53, protocol: "TCP" },
    ],
  };
}

/**
 * IPv4 ranges that are never the public internet: private (RFC 1918), shared address space (RFC 6598) and
 * link-local (the cloud's instance metadata service). Nodes, Services and pods of the clusters this program
 * targets live in them: the AKS service range and virtual network are not set by the program (AKS picks its
 * defaults, all RFC 1918), so "outside the cluster" is "outside these ranges and the pod ranges".
 */
export const nonPublicIpv4Ranges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"] as const;

/** The RFC 1918 ranges: where nodes (and with them host-network pods) have their addresses. */
const privateIpv4Ranges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

interface Ipv4Block {
  first: number;
  last: number;
}

/** The addresses of an IPv4 CIDR; `undefined` for anything else (IPv6 ranges play no part in IPv4 blocks). */
function ipv4Block(cidr: string): Ipv4Block | undefined {
  const [address, prefixText] = cidr.split("/");
  if (address === undefined || prefixText === undefined || isIP(address) !== 4) return undefined;
  const prefix = Number(prefixText);
  const value = address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix);
  const first = value - (value % size);
  return { first, last: first + size - 1 };
}

function within(inner: Ipv4Block, outer: Ipv4Block): boolean {
  return inner.first >= outer.first && inner.last <= outer.last;
}

/** The IPv4 ranges among `cidrs` that no other of them contains (an `except` list without redundant entries). */
function outermostIpv4(cidrs: readonly string[]): string[] {
  const blocks = [...new Set(cidrs)].flatMap((cidr) => {
    const block = ipv4Block(cidr);
    return block === undefined ? [] : [{ cidr, block }];
  });
  return blocks
    .filter(({ cidr, block }) => !blocks.some((other) => other.cidr !== cidr && within(block, other.block)))
    .map(({ cidr }) => cidr);
}

/** Every IPv4 address but those in `ranges`. */
function everywhereExcept(ranges: readonly string[]): NetworkPolicyPeer {
  return { ipBlock: { cidr: "0.0.0.0/0", except: outermostIpv4(ranges) } };
}

/** Public IPv4 addresses: nothing in the cluster, its nodes, its virtual network or the metadata service. */
export function internetPeer(podCidrs: readonly string[]): NetworkPolicyPeer {
  return everywhereExcept([...nonPublicIpv4Ranges, ...podCidrs]);
}

/** Any IPv4 address outside the pod network: media peers may sit on private networks too (VPNs, peered networks). */
export function outsidePodNetworkPeer(podCidrs: readonly string[]): NetworkPolicyPeer {
  return everywhereExcept(podCidrs);
}

/**
 * Where nodes, and so host-network pods and a laptop cluster's API server, have their addresses: the private
 * ranges without the pod ranges. The node subnet itself is AKS's choice (or the laptop's container network).
 */
export function nodeAddressPeers(podCidrs: readonly string[]): NetworkPolicyPeer[] {
  return privateIpv4Ranges.flatMap((range) => {
    const block = ipv4Block(range) as Ipv4Block;
    const podBlocks = podCidrs.flatMap((cidr) => {
      const pods = ipv4Block(cidr);
      return pods === undefined ? [] : [{ cidr, pods }];
    });
    if (podBlocks.some(({ pods }) => within(block, pods))) return [];
    const except = outermostIpv4(podBlocks.filter(({ pods }) => within(pods, block)).map(({ cidr }) => cidr));
    return [{ ipBlock: except.length === 0 ? { cidr: range } : { cidr: range, except } }];
  });
}

/** A service outside the cluster a pod connects to; `host: undefined` stands for any public address. */
export interface OutsideEndpoint {
  host: string | undefined;
  port: number;
  protocol: TransportProtocol;
}

const defaultUrlPorts: Record<string, number> = { "https:": 443, "http:": 80 };

/** Host and port an `http(s)://` URL connects to (the scheme's port unless the URL names one). */
export function urlEndpoint(url: string, protocol: TransportProtocol = "TCP"): OutsideEndpoint {
  const parsed = new URL(url);
  const port = parsed.port === "" ? defaultUrlPorts[parsed.protocol] : Number(parsed.port);
  if (port === undefined) throw new Error(`${url}: no default port for ${parsed.protocol}`);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port, protocol };
}

/**
 * Egress rules for services outside the cluster. An address given as an IP literal gets a rule of its own, so
 * a private one (a BBB node in a peered network, a hidden primary name server) keeps working; a host name is
 * resolved only at run time, so the rule admits its ports on every public address.
 */
export function outsideEgressRules(podCidrs: readonly string[], endpoints: readonly OutsideEndpoint[]): NetworkPolicyEgressRule[] {
  const portsByPeer = new Map<string, Map<string, NetworkPolicyPort>>();
  for (const endpoint of endpoints) {
    const family = endpoint.host === undefined ? 0 : isIP(endpoint.host);
    const peerKey = family === 0 ? "" : `${endpoint.host}/${family === 4 ? 32 : 128}`;
    const ports = portsByPeer.get(peerKey) ?? new Map<string, NetworkPolicyPort>();
    ports.set(`${endpoint.protocol}/${endpoint.port}`, { port: endpoint.port, protocol: endpoint.protocol });
    portsByPeer.set(peerKey, ports);
  }
  return [...portsByPeer].map(([peerKey, ports]) => ({
    to: [peerKey === "" ? internetPeer(podCidrs) : { ipBlock: { cidr: peerKey } }],
    ports: [...ports.values()],
  }));
}

/** A static public IP a LoadBalancer Service is pinned to (the `StaticIp` of the Azure `StaticIps` component fits). */
export interface PinnedPublicIp {
  /** The address: what clients reach, and what media servers advertise in their candidates. */
  address: pulumi.Input<string>;
  /** Annotations that make the cloud provider attach exactly this address (`azure-pip-name`, its resource group). */
  serviceAnnotations: pulumi.Input<Record<string, string>>;
}
