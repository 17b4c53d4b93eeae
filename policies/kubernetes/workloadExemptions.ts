import type { PolicyConfigSchema } from "@pulumi/policy";

/**
 * Exemptions from the pod hardening rules live in the pack's configuration and name the workload: a workload
 * cannot exempt itself (an annotation it set on itself could), and every exemption is reviewed in one place.
 */

/** One exempted workload: `<namespace>/<name>`, a trailing `*` matching any rest of the name, and why. */
export interface WorkloadExemption {
  workload: string;
  reason: string;
}

/** Whether `pattern` (`mediaplane-media/jitsi-*` or an exact `mediaplane-media-host/janus`) names this workload. */
export function workloadMatches(pattern: string, workloadKey: string): boolean {
  return pattern.endsWith("*") ? workloadKey.startsWith(pattern.slice(0, -1)) : workloadKey === pattern;
}

/** The first exemption naming the workload with a reason (an empty reason does not count). */
export function exemptionFor<T extends WorkloadExemption>(exemptions: readonly T[], workloadKey: string): T | undefined {
  return exemptions.find((exemption) => exemption.reason.trim() !== "" && workloadMatches(exemption.workload, workloadKey));
}

/** JSON schema of a list of exemptions, with the given extra properties per entry. */
export function exemptionsSchema(defaults: readonly WorkloadExemption[], extra: Record<string, object> = {}): PolicyConfigSchema {
  return {
    properties: {
      exemptions: {
        type: "array",
        items: {
          type: "object",
          properties: { workload: { type: "string", minLength: 1 }, reason: { type: "string", minLength: 1 }, ...extra },
          required: ["workload", "reason", ...Object.keys(extra)],
        },
        default: defaults,
      },
    },
  };
}

const jitsiRootReason = "docker-jitsi-meet images start their s6-overlay init as root and drop to per-service users";

/** Workloads whose software cannot run as a non-root user. */
export const rootExemptions: WorkloadExemption[] = [
  { workload: "mediaplane-media/jitsi-*", reason: jitsiRootReason },
  { workload: "mediaplane-media-host/jitsi-jvb-*", reason: `${jitsiRootReason}; bridges on host ports` },
];

/** Workloads that must share the node's network namespace. */
export const hostNetworkExemptions: WorkloadExemption[] = [
  {
    workload: "mediaplane-media-host/janus",
    reason: "Janus answers ICE on the media node's public IP over a fixed RTP range; behind pod NAT the port remapping breaks ICE",
  },
];

/** Capabilities a workload may add to its containers (all others are dropped). */
export interface CapabilityAllowance extends WorkloadExemption {
  capabilities: string[];
}

/**
 * Written here, not imported from the program's `jitsiPods.ts`: the pack states what it allows on its own, so a
 * program that adds a capability fails the pack instead of widening it.
 */
const jitsiInitCapabilities = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "KILL"];

export const capabilityAllowances: CapabilityAllowance[] = [
  { workload: "mediaplane-media/jitsi-web", reason: `${jitsiRootReason}; nginx binds 80 and 443`, capabilities: [...jitsiInitCapabilities, "NET_BIND_SERVICE"] },
  { workload: "mediaplane-media/jitsi-*", reason: jitsiRootReason, capabilities: jitsiInitCapabilities },
  { workload: "mediaplane-media-host/jitsi-jvb-*", reason: `${jitsiRootReason}; bridges on host ports`, capabilities: jitsiInitCapabilities },
  {
    workload: "mediaplane/coturn",
    reason: "the coturn image gives turnserver the file capability cap_net_bind_service, which a container without it cannot exec",
    capabilities: ["NET_BIND_SERVICE"],
  },
];

/** Workloads that read the Kubernetes API and so need their service account token. */
export const apiClientExemptions: WorkloadExemption[] = [
  { workload: "mediaplane/traefik", reason: "traefik watches IngressRoutes, Services and Secrets through the Kubernetes API" },
];
