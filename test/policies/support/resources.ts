import type { Policy } from "@pulumi/policy";
import { evaluatePolicies, type PlannedResource } from "../../../scripts/policyEvaluation.js";

/** A resource as the offline plan records it, with a URN shaped like the engine's. */
export function planned(type: string, props: Record<string, unknown>, name = "subject"): PlannedResource {
  return { urn: `urn:pulumi:test::mediaplane::${type}::${name}`, type, name, inputs: props };
}

/** The messages one policy reports on these resources. */
export async function violationsOf(policy: Policy, ...resources: PlannedResource[]): Promise<string[]> {
  const violations = await evaluatePolicies(resources, { policies: [policy] });
  return violations.map(({ message }) => message);
}

/** A container that satisfies every container policy; tests spoil one property at a time. */
export function hardenedContainer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "app",
    image: "docker.io/library/redis:8.2.2-alpine",
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
    readinessProbe: { tcpSocket: { port: 6379 } },
    livenessProbe: { tcpSocket: { port: 6379 } },
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    ...overrides,
  };
}

export interface WorkloadShape {
  name?: string;
  namespace?: string;
  replicas?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: Record<string, unknown>[];
  initContainers?: Record<string, unknown>[];
  podSecurityContext?: Record<string, unknown>;
}

function podTemplate(shape: WorkloadShape): Record<string, unknown> {
  return {
    metadata: { labels: shape.labels ?? { app: shape.name ?? "app" } },
    spec: {
      automountServiceAccountToken: false,
      containers: shape.containers ?? [hardenedContainer()],
      ...(shape.initContainers === undefined ? {} : { initContainers: shape.initContainers }),
      ...(shape.podSecurityContext === undefined ? {} : { securityContext: shape.podSecurityContext }),
    },
  };
}

function metadata(shape: WorkloadShape): Record<string, unknown> {
  return {
    name: shape.name ?? "app",
    namespace: shape.namespace ?? "media",
    ...(shape.annotations === undefined ? {} : { annotations: shape.annotations }),
  };
}

export function deployment(shape: WorkloadShape = {}): PlannedResource {
  return planned(
    "kubernetes:apps/v1:Deployment",
    { metadata: metadata(shape), spec: { replicas: shape.replicas ?? 1, template: podTemplate(shape) } },
    shape.name ?? "app",
  );
}

export function statefulSet(shape: WorkloadShape = {}): PlannedResource {
  return planned(
    "kubernetes:apps/v1:StatefulSet",
    { metadata: metadata(shape), spec: { replicas: shape.replicas ?? 1, template: podTemplate(shape) } },
    shape.name ?? "app",
  );
}

export function job(shape: WorkloadShape = {}): PlannedResource {
  return planned("kubernetes:batch/v1:Job", { metadata: metadata(shape), spec: { template: podTemplate(shape) } }, shape.name ?? "job");
}

export function cronJob(shape: WorkloadShape = {}): PlannedResource {
  return planned(
    "kubernetes:batch/v1:CronJob",
    { metadata: metadata(shape), spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: podTemplate(shape) } } } },
    shape.name ?? "cron",
  );
}
