import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { resourceRequirements } from "./workload.js";

/**
 * Azure's instance metadata, load balancer view. Media nodes have instance-level public IPs of the Standard SKU,
 * for which `instance/network/.../publicIpAddress` is empty; this document lists them under
 * `loadbalancer.publicIpAddresses[].frontendIpAddress` (API version 2020-10-01 and later). Only the node itself may
 * ask (link-local address), which host networking makes the pod.
 */
export const imdsLoadBalancerUrl = "http://169.254.169.254/metadata/loadbalancer?api-version=2021-02-01&format=json";

/**
 * A POSIX shell script (curl, sed, grep: in the Janus and the Jitsi images) that writes the node's public IPv4
 * address to `outputFile`, or says in one log line why it cannot and fails, so the pod never starts advertising a
 * private address. Not STUN: from inside the cluster a STUN server behind our own LoadBalancer answers with a pod
 * address (kube-proxy delivers LoadBalancer traffic directly), and an outside one would be a dependency at start.
 */
export function publicAddressScript(outputFile: string): string {
  return [
    `url='${imdsLoadBalancerUrl}'`,
    // Transient IMDS errors (429, 5xx, not listening yet) are retried; a wrong answer is not.
    `if ! body=$(curl -sS --fail --noproxy '*' --retry 5 --retry-delay 1 --retry-connrefused --max-time 5 -H Metadata:true "$url"); then`,
    `  echo "public address: the instance metadata service did not answer at $url; cannot learn this node's public IP" >&2`,
    "  exit 1",
    "fi",
    // The first IPv4 frontendIpAddress inside publicIpAddresses, wherever the keys stand and however it is spaced.
    `address=$(printf '%s' "$body" | tr -d ' \\t\\r\\n' | sed -n 's/.*"publicIpAddresses":\\[\\([^]]*\\)\\].*/\\1/p' | grep -o '"frontendIpAddress":"[0-9.]*"' | head -n 1 | cut -d '"' -f 4)`,
    `if ! printf '%s' "$address" | grep -Eq '^([0-9]{1,3}[.]){3}[0-9]{1,3}$'; then`,
    `  echo "public address: the instance metadata at $url lists no public IPv4 address for this node (loadbalancer.publicIpAddresses is empty): media nodes need node public IPs (enableNodePublicIP)" >&2`,
    "  exit 1",
    "fi",
    `printf '%s\\n' "$address" > ${outputFile}`,
    `echo "public address: $address (instance metadata, load balancer view)"`,
  ].join("\n");
}

/** The init container that runs `publicAddressScript` in `image`, writing into the volume mounted at `volumeMount`. */
export function publicAddressInitContainer(
  image: pulumi.Input<string>,
  outputFile: string,
  volumeMount: k8s.types.input.core.v1.VolumeMount,
  securityContext: k8s.types.input.core.v1.SecurityContext,
): k8s.types.input.core.v1.Container {
  return {
    name: "public-address",
    image,
    command: ["sh", "-c", publicAddressScript(outputFile)],
    securityContext,
    resources: resourceRequirements({ cpuRequest: "10m", memoryRequest: "16Mi", cpuLimit: "100m", memoryLimit: "64Mi" }),
    volumeMounts: [volumeMount],
  };
}
