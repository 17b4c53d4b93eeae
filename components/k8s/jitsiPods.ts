import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { dnsEgressRule, podPortsEgressRule, type PodPeer } from "./network.js";
import { disruptionBudgetFor } from "./workload.js";

/** Ports of the docker-jitsi-meet containers. */
export const jitsiPorts = {
  web: 80,
  xmppClient: 5222,
  bosh: 5280,
  component: 5347,
  jicofoRest: 8888,
  jvbRest: 8080,
  jvbColibriWebSocket: 9090,
} as const;

/** The internal XMPP domain every component agrees on; never seen by users (they see `host`). */
export const xmppDomain = "meet.jitsi";

const rolloutStrategies = {
  /** The new pod is ready before an old one goes: no capacity lost. */
  surge: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
  /** Never two at once (the XMPP server; a bridge's own port). */
  replace: { type: "Recreate" },
} as const;

/**
 * The docker-jitsi-meet images start as root: their s6-overlay init prepares files and then drops to per-service
 * users, so `runAsNonRoot` would stop them (the policy pack's config exempts them by name, see
 * `policies/kubernetes/workloadExemptions.ts`). What can still be taken away is: privilege escalation, and every
 * capability beyond the few the init needs to chown files and switch users.
 */

export const jitsiInitCapabilities = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "KILL"] as const;

export function jitsiContainerSecurity(extra: string[] = []): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"], add: [...jitsiInitCapabilities, ...extra] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** One Jitsi component's Deployment (and its PodDisruptionBudget when replicated). */
export function jitsiDeployment(
  name: string,
  component: string,
  spec: {
    namespace: pulumi.Input<string>;
    replicas: number;
    /** How pods are replaced on an update (see `rolloutStrategies`). */
    rollout: keyof typeof rolloutStrategies;
    labels: Record<string, string>;
    container: k8s.types.input.core.v1.Container;
    podSpec?: Partial<k8s.types.input.core.v1.PodSpec>;
    child: pulumi.CustomResourceOptions;
  },
): void {
  new k8s.apps.v1.Deployment(
    `${name}-${component}`,
    {
      metadata: {
        name: `jitsi-${component}`,
        namespace: spec.namespace,
        labels: spec.labels,
      },
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: spec.labels },
        strategy: rolloutStrategies[spec.rollout],
        template: {
          metadata: { labels: spec.labels },
          // No Kubernetes API access: no service account token in the pod.
          spec: { ...spec.podSpec, automountServiceAccountToken: false, containers: [spec.container] },
        },
      },
    },
    // The same rule when the Deployment itself is replaced (moved to another namespace, renamed): the old one goes first.
    spec.rollout === "replace" ? { ...spec.child, deleteBeforeReplace: true } : spec.child,
  );
  disruptionBudgetFor(`${name}-${component}-pdb`, { namespace: spec.namespace, selector: spec.labels, replicas: spec.replicas }, spec.child);
}

/** Who may connect to one Jitsi component (`undefined`: nobody), and what it may connect to. */
export function jitsiNetworkPolicy(
  name: string,
  component: string,
  spec: {
    namespace: pulumi.Input<string>;
    podLabels: Record<string, string>;
    ingress: { from: k8s.types.input.networking.v1.NetworkPolicyPeer[]; ports: number[] } | undefined;
    /** Besides DNS, which every component gets. */
    egress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[];
  },
  child: pulumi.CustomResourceOptions,
): void {
  new k8s.networking.v1.NetworkPolicy(
    `${name}-${component}-netpol`,
    {
      metadata: { name: `jitsi-${component}`, namespace: spec.namespace, labels: spec.podLabels },
      spec: {
        podSelector: { matchLabels: spec.podLabels },
        policyTypes: ["Ingress", "Egress"],
        // No rule at all: nothing may connect (jicofo only connects out).
        ingress:
          spec.ingress === undefined ? [] : [{ from: spec.ingress.from, ports: spec.ingress.ports.map((port) => ({ port, protocol: "TCP" })) }],
        egress: [dnsEgressRule(), ...spec.egress],
      },
    },
    child,
  );
}

/** Prosody's XMPP client port: jicofo and the bridges log in there as clients (focus, jvb). */
export function prosodyClientEgress(prosodyPods: PodPeer): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
  return podPortsEgressRule({ pods: prosodyPods, ports: [{ port: jitsiPorts.xmppClient, protocol: "TCP" }] });
}
