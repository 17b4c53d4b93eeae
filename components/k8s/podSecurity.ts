import type { StackConfig } from "../../config/index.js";

/** The Pod Security Standards levels Pod Security Admission enforces per namespace. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** A namespace's enforced level and, when it is below restricted, what in it needs the looser level. */
export interface NamespacePodSecurity {
  level: PodSecurityLevel;
  exceptions: readonly string[];
}

/**
 * The strictest level every pod of the platform namespace meets with these settings. Pod Security Admission cannot
 * exempt single pods (only users, runtime classes and whole namespaces, in the API server's own configuration), so
 * the namespace takes the level of its loosest pod:
 * - Janus on host networking, and bridges on host ports, are allowed only by `privileged` (baseline forbids host
 *   namespaces and host ports);
 * - the docker-jitsi-meet images start as root and add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID, KILL for their
 *   init: `baseline` (restricted requires non-root and adds nothing but NET_BIND_SERVICE);
 * - everything else (traefik, balancer, Redis, coturn with NET_BIND_SERVICE) meets `restricted`.
 */
export function namespacePodSecurity(settings: Pick<StackConfig, "jitsi" | "janus">): NamespacePodSecurity {
  const hostNetworked = settings.janus.enabled ? ["Janus: hostNetwork, media on the node's public IP"] : [];
  const hostPorts =
    settings.jitsi.enabled && settings.jitsi.jvb.exposure === "hostPort" ? [`Jitsi bridges: hostPort ${settings.jitsi.jvb.udpPort}/UDP on the media nodes`] : [];
  const rootInit = settings.jitsi.enabled ? ["Jitsi web, prosody, jicofo, bridges: start as root, add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID, KILL"] : [];
  const exceptions = [...hostNetworked, ...hostPorts, ...rootInit];
  if (hostNetworked.length + hostPorts.length > 0) return { level: "privileged", exceptions };
  return { level: rootInit.length > 0 ? "baseline" : "restricted", exceptions };
}

/**
 * The namespace labels: enforce the level, and warn and audit at `restricted`, so every pod below it shows up in
 * `kubectl` warnings and the audit log instead of passing silently.
 */
export function podSecurityLabels(security: NamespacePodSecurity): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": security.level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/warn-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": "latest",
  };
}
