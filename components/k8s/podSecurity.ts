import type { StackConfig } from "../../config/index.js";
import { jitsiInitCapabilities } from "./jitsiPods.js";

/** The Pod Security Standards levels Pod Security Admission enforces per namespace. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** A namespace's enforced level and, when it is below restricted, what in it needs the looser level. */
export interface NamespacePodSecurity {
  level: PodSecurityLevel;
  exceptions: readonly string[];
}

/**
 * The platform namespace: traefik, the balancer and its modes, Redis and coturn (NET_BIND_SERVICE only) all meet
 * `restricted`, and it holds the secrets that matter most (tenant secrets, the Redis password, the TSIG key).
 */
export const platformPodSecurity: NamespacePodSecurity = { level: "restricted", exceptions: [] };

/** The media servers' namespaces, each at the level of its loosest pod; undefined where no pod needs it. */
export interface MediaPodSecurity {
  /** Jitsi web, prosody, jicofo, and bridges behind load balancers. */
  readonly media: NamespacePodSecurity | undefined;
  /** Janus and host-port bridges. */
  readonly mediaHost: NamespacePodSecurity | undefined;
}

/** Whether Jitsi's bridges hold host ports, and so belong in the privileged media-host namespace. */
export function bridgesInMediaHostNamespace(jitsi: StackConfig["jitsi"]): boolean {
  return jitsi.enabled && jitsi.jvb.exposure === "hostPort";
}

/**
 * Pod Security Admission cannot exempt single pods (only users, runtime classes and whole namespaces, in the API
 * server's own configuration), so each level lives in a namespace of its own, and no pod sits in a namespace looser
 * than it needs:
 * - the docker-jitsi-meet images start as root and add the capabilities of their init (`jitsiInitCapabilities`):
 *   `baseline` (restricted requires non-root and adds nothing but NET_BIND_SERVICE);
 * - Janus on host networking, and bridges on host ports, are allowed only by `privileged` (baseline forbids host
 *   namespaces and host ports).
 */
export function mediaPodSecurity(settings: Pick<StackConfig, "jitsi" | "janus">): MediaPodSecurity {
  const jitsi = settings.jitsi.enabled;
  const hostPortBridges = bridgesInMediaHostNamespace(settings.jitsi);
  const rootInit = (pods: string) => `${pods}: start as root, add ${jitsiInitCapabilities.join(", ")}`;
  const hostExceptions = [
    ...(settings.janus.enabled ? ["Janus: hostNetwork, media on the node's public IP"] : []),
    ...(hostPortBridges ? [`Jitsi bridges: hostPort ${settings.jitsi.jvb.udpPort}/UDP on the media nodes`, rootInit("Jitsi bridges")] : []),
  ];
  return {
    media: jitsi ? { level: "baseline", exceptions: [rootInit(hostPortBridges ? "Jitsi web, prosody, jicofo" : "Jitsi web, prosody, jicofo, bridges")] } : undefined,
    mediaHost: hostExceptions.length === 0 ? undefined : { level: "privileged", exceptions: hostExceptions },
  };
}

/**
 * The namespace's metadata: labels that enforce the level and warn and audit at `restricted`, so every pod below it
 * shows up in `kubectl` warnings and the audit log instead of passing silently; an annotation says why it is looser.
 */
export function podSecurityMetadata(security: NamespacePodSecurity): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: podSecurityLabels(security),
    annotations: security.exceptions.length === 0 ? {} : { "mediaplane/pod-security-exceptions": security.exceptions.join("; ") },
  };
}

function podSecurityLabels(security: NamespacePodSecurity): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": security.level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/warn-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": "latest",
  };
}
