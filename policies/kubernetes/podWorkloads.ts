/**
 * A read-only view of the Kubernetes objects that run pods, as the policies see them: resource inputs are untrusted
 * data, so every field is optional and the policies decide what a missing field means.
 */

export interface ObjectMetaView {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface EnvVarView {
  name?: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name?: string; key?: string } } & Record<string, unknown>;
}

export interface ContainerView {
  name?: string;
  image?: string;
  env?: EnvVarView[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type?: string };
  };
  /** `Always` on an init container makes it a sidecar that runs as long as the pod. */
  restartPolicy?: string;
}

export interface PodSpecView {
  containers?: ContainerView[];
  initContainers?: ContainerView[];
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
  /** Pods on the node's network namespace: NetworkPolicies do not apply to them. */
  hostNetwork?: boolean;
  /** Unset means mounted (unless the service account says otherwise). */
  automountServiceAccountToken?: boolean;
}

interface PodTemplateView {
  metadata?: ObjectMetaView;
  spec?: PodSpecView;
}

/** The pod-running object types the policies inspect, by their Pulumi type token. */
export const podWorkloadTypes = {
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  replicaSet: "kubernetes:apps/v1:ReplicaSet",
  job: "kubernetes:batch/v1:Job",
  cronJob: "kubernetes:batch/v1:CronJob",
  pod: "kubernetes:core/v1:Pod",
} as const;

/** One object that runs pods, reduced to what the policies need. */
export interface PodWorkload {
  type: string;
  metadata: ObjectMetaView;
  /** Namespace the pods run in; objects without one land in `default`. */
  namespace: string;
  podLabels: Record<string, string>;
  /** Annotations of the object and of its pod template together: an exemption may sit on either. */
  annotations: Record<string, string>;
  spec: PodSpecView;
  /** Jobs and CronJobs: their pods are meant to finish, so they have no readiness to probe. */
  runsToCompletion: boolean;
  /** Desired replica count as declared (1 when unset); only meaningful for Deployments and StatefulSets. */
  replicas: number;
}

interface WorkloadProps {
  metadata?: ObjectMetaView;
  spec?: {
    replicas?: number;
    template?: PodTemplateView;
    jobTemplate?: { spec?: { template?: PodTemplateView } };
  } & PodSpecView;
}

function podTemplateOf(type: string, props: WorkloadProps): PodTemplateView | undefined {
  switch (type) {
    case podWorkloadTypes.deployment:
    case podWorkloadTypes.statefulSet:
    case podWorkloadTypes.daemonSet:
    case podWorkloadTypes.replicaSet:
    case podWorkloadTypes.job:
      return props.spec?.template ?? {};
    case podWorkloadTypes.cronJob:
      return props.spec?.jobTemplate?.spec?.template ?? {};
    case podWorkloadTypes.pod:
      return { metadata: props.metadata ?? {}, spec: props.spec ?? {} };
    default:
      return undefined;
  }
}

/** The pod workload a resource declares, or undefined when the resource runs no pods. */
export function podWorkloadOf(type: string, props: Record<string, unknown>): PodWorkload | undefined {
  const workload: WorkloadProps = props;
  const template = podTemplateOf(type, workload);
  if (template === undefined) return undefined;
  const metadata = workload.metadata ?? {};
  return {
    type,
    metadata,
    namespace: metadata.namespace ?? "default",
    podLabels: template.metadata?.labels ?? {},
    annotations: { ...template.metadata?.annotations, ...metadata.annotations },
    spec: template.spec ?? {},
    runsToCompletion: type === podWorkloadTypes.job || type === podWorkloadTypes.cronJob,
    replicas: typeof workload.spec?.replicas === "number" ? workload.spec.replicas : 1,
  };
}

/** `mediaplane-media/jitsi-jvb-0`: how the pack's config names a workload. */
export function workloadKey(workload: PodWorkload, fallbackName: string): string {
  return `${workload.namespace}/${workload.metadata.name ?? fallbackName}`;
}

/** `Deployment mediaplane-media/jitsi-jvb`: the workload as an operator names it. */
export function describeWorkload(workload: PodWorkload, fallbackName: string): string {
  return `${workload.type.slice(workload.type.lastIndexOf(":") + 1)} ${workload.namespace}/${workload.metadata.name ?? fallbackName}`;
}

/** How long a container lives decides which rules apply to it. */
export type ContainerLifetime = "long-running" | "run-to-completion";

export interface PodContainer {
  container: ContainerView;
  /** `initContainers[0]`, `containers[1]`: where to look in the manifest. */
  path: string;
  lifetime: ContainerLifetime;
}

/** Every container of the pod, init containers included, with how long it runs. */
export function containersOf(workload: PodWorkload): PodContainer[] {
  const mainLifetime: ContainerLifetime = workload.runsToCompletion ? "run-to-completion" : "long-running";
  const initContainers = (workload.spec.initContainers ?? []).map((container, index) => ({
    container,
    path: `initContainers[${index}]`,
    lifetime: container.restartPolicy === "Always" ? mainLifetime : ("run-to-completion" as const),
  }));
  const containers = (workload.spec.containers ?? []).map((container, index) => ({
    container,
    path: `containers[${index}]`,
    lifetime: mainLifetime,
  }));
  return [...initContainers, ...containers];
}

/** `Deployment media/jvb containers[0] (jvb)`: enough for an operator to find the container. */
export function describeContainer(workload: PodWorkload, { container, path }: PodContainer, fallbackName: string): string {
  return `${describeWorkload(workload, fallbackName)} ${path}${container.name === undefined ? "" : ` (${container.name})`}`;
}
