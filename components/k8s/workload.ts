import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";


/** Requests are what the scheduler reserves; limits are where the kernel throttles (CPU) or kills (memory). */
export interface ResourceSizing {
  /** CPU reserved for the container, e.g. `"250m"`. */
  cpuRequest: string;
  /** Memory reserved for the container, e.g. `"256Mi"`. */
  memoryRequest: string;
  /** CPU ceiling, e.g. `"1"`. */
  cpuLimit: string;
  /** Memory ceiling; the container is OOM-killed above it, e.g. `"512Mi"`. */
  memoryLimit: string;
}

export function resourceRequirements(sizing: ResourceSizing): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: sizing.cpuRequest, memory: sizing.memoryRequest },
    limits: { cpu: sizing.cpuLimit, memory: sizing.memoryLimit },
  };
}

/** The recommended labels; `selectorLabels` is the stable subset a selector may use. */
export function appLabels(name: string, component: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/component": component, "app.kubernetes.io/part-of": "mediaplane" };
}

/**
 * The Kubernetes "restricted" pod security profile for one container: no root, no privilege escalation,
 * no capabilities, read-only root file system (writable paths are mounted explicitly).
 */
export function restrictedContainerSecurity(): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Pod-level identity: every container runs as `uid`:`gid`, and mounted volumes are group-owned by `gid`. */
export function nonRootPodSecurity(uid: number, gid = uid): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: gid,
    // Re-chown a volume only when its root has the wrong owner, not on every start (slow on large shares).
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function httpGetProbe(path: string, port: number | string, periodSeconds = 10, failureThreshold = 3): k8s.types.input.core.v1.Probe {
  return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

export function tcpProbe(port: number | string, periodSeconds = 10, failureThreshold = 3): k8s.types.input.core.v1.Probe {
  return { tcpSocket: { port }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

/** An environment variable read from a key of a Secret: secret values never appear in a pod spec. */
export function secretEnv(name: string, secretName: pulumi.Input<string>, key: string): k8s.types.input.core.v1.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

/** Plain environment variables, in the order given. */
export function plainEnv(values: Record<string, pulumi.Input<string>>): k8s.types.input.core.v1.EnvVar[] {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

/** A PodDisruptionBudget keeping all but one replica up during drains, only when there is more than one replica. */
export function disruptionBudgetFor(
  name: string,
  args: { namespace: pulumi.Input<string>; selector: Record<string, string>; replicas: number },
  opts: pulumi.CustomResourceOptions,
): k8s.policy.v1.PodDisruptionBudget | undefined {
  if (args.replicas < 2) return undefined;
  return new k8s.policy.v1.PodDisruptionBudget(
    name,
    {
      metadata: { name, namespace: args.namespace, labels: args.selector },
      spec: { maxUnavailable: 1, selector: { matchLabels: args.selector } },
    },
    opts,
  );
}

/** A short digest of rendered config, put in a pod annotation so the pods roll when their config changes. */
export function contentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * `contentHash` of config that holds secrets. The digest itself is not secret (64 bits of a hash of
 * high-entropy content reveal nothing), and keeping it secret would make the whole pod template secret,
 * hiding it from previews and the written manifests.
 */
export function secretContentHash(text: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.unsecret(pulumi.output(text).apply(contentHash));
}

/** Where media workloads run: the media pool's nodes (public IPs, open host ports), which are tainted for them. */
export interface MediaNodePlacement {
  /** Labels of the media nodes. */
  nodeSelector: Record<string, string>;
  /** Tolerations for the media nodes' taint. */
  tolerations: k8s.types.input.core.v1.Toleration[];
}
