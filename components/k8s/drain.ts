import type * as k8s from "@pulumi/kubernetes";

/**
 * How long a media server being replaced (rollout, node drain) may keep serving the calls it has. Kubernetes counts
 * the preStop hook against the grace period, so the hook gives up a little earlier than the kill would come.
 */
export const callDrainSeconds = 3 * 3600;

/** The pod settings that let a media server finish its calls: a preStop hook running `script`, and the time for it. */
export function callDrain(script: string): {
  lifecycle: k8s.types.input.core.v1.Lifecycle;
  terminationGracePeriodSeconds: number;
} {
  return {
    lifecycle: { preStop: { exec: { command: ["sh", "-c", script] } } },
    // The hook's own deadline plus time for the server to stop after SIGTERM.
    terminationGracePeriodSeconds: callDrainSeconds + 60,
  };
}
