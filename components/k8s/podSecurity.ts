import type { StackConfig } from "../../config/index.js";

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

/**
 * The media namespace takes the level of its loosest pod: Pod Security Admission cannot exempt single pods (only
 * users, runtime classes and whole namespaces, in the API server's own configuration), which is why the media
 * servers live apart from the platform.
 * - Janus on host networking, and bridges on host ports, are allowed only by `privileged` (baseline forbids host
 *   namespaces and host ports);
 * - the docker-jitsi-meet images start as root and add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID, KILL for their
 *   init: `baseline` (restricted requires non-root and adds nothing but NET_BIND_SERVICE).
 * Undefined when the stack runs neither Jitsi nor Janus: there is no media namespace.
 */
export function mediaPodSecurity(settings: Pick<StackConfig, "jitsi" | "janus">): NamespacePodSecurity | undefined {
  if (!settings.jitsi.enabled && !settings.janus.enabled) return undefined;
  const hostNetworked = settings.janus.enabled ? ["Janus: hostNetwork, media on the node's public IP"] : [];
  const hostPorts =
    settings.jitsi.enabled && settings.jitsi.jvb.exposure === "hostPort" ? [`Jitsi bridges: hostPort ${settings.jitsi.jvb.udpPort}/UDP on the media nodes`] : [];
  const rootInit = settings.jitsi.enabled ? ["Jitsi web, prosody, jicofo, bridges: start as root, add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID, KILL"] : [];
  const exceptions = [...hostNetworked, ...hostPorts, ...rootInit];
  return { level: hostNetworked.length + hostPorts.length > 0 ? "privileged" : "baseline", exceptions };
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
