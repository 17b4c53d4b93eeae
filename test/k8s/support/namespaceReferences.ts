import type { IPodSpec } from "kubernetes-models/v1";

/*
 * What a namespaced object may name, and where the name is looked up:
 * - a pod's Secret, ConfigMap and claim volumes, its env and envFrom sources and its service account carry no
 *   namespace: the kubelet and the API server look them up in the pod's own namespace, and a pod naming one that is
 *   not there stays in ContainerCreating (Kubernetes API reference, core/v1 Volume, EnvVarSource, PodSpec);
 * - traefik resolves an IngressRoute's Service and Middleware references in the route's namespace unless they name
 *   another, which it refuses while `allowCrossNamespace` is off (traefik v3.7 pkg/provider/kubernetes/crd/kubernetes.go
 *   `resolveReference`, pkg/provider/kubernetes/crd/kubernetes_http.go `makeMiddlewareKeys`);
 * - a NetworkPolicy peer's `kubernetes.io/metadata.name` selector matches a namespace only if it exists.
 * cert-manager creates the Secret a Certificate names (`spec.secretName`) in the Certificate's namespace.
 */

interface ManifestLike {
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

const podTemplateKinds = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

/** `<kind> <namespace>/<name>` for every namespaced object the manifests create, cert-manager's Secrets included. */
function existingObjects(manifests: readonly ManifestLike[]): Set<string> {
  const existing = new Set<string>();
  for (const manifest of manifests) {
    existing.add(`${manifest.kind} ${manifest.metadata.namespace ?? ""}/${manifest.metadata.name}`);
    if (manifest.kind === "Certificate") {
      existing.add(`Secret ${manifest.metadata.namespace ?? ""}/${(manifest["spec"] as { secretName: string }).secretName}`);
    }
  }
  return existing;
}

interface ObjectReference {
  kind: "Secret" | "ConfigMap" | "PersistentVolumeClaim" | "ServiceAccount";
  name: string;
  /** Marked optional in the pod spec: the pod starts without it. */
  optional: boolean;
}

function podReferences(spec: IPodSpec): ObjectReference[] {
  const references: ObjectReference[] = [];
  const add = (kind: ObjectReference["kind"], name: string | undefined, optional: boolean | undefined) => {
    if (name !== undefined) references.push({ kind, name, optional: optional === true });
  };
  for (const volume of spec.volumes ?? []) {
    add("Secret", volume.secret?.secretName, volume.secret?.optional);
    add("ConfigMap", volume.configMap?.name, volume.configMap?.optional);
    add("PersistentVolumeClaim", volume.persistentVolumeClaim?.claimName, false);
    for (const source of volume.projected?.sources ?? []) {
      add("Secret", source.secret?.name, source.secret?.optional);
      add("ConfigMap", source.configMap?.name, source.configMap?.optional);
    }
  }
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const variable of container.env ?? []) {
      add("Secret", variable.valueFrom?.secretKeyRef?.name, variable.valueFrom?.secretKeyRef?.optional);
      add("ConfigMap", variable.valueFrom?.configMapKeyRef?.name, variable.valueFrom?.configMapKeyRef?.optional);
    }
    for (const source of container.envFrom ?? []) {
      add("Secret", source.secretRef?.name, source.secretRef?.optional);
      add("ConfigMap", source.configMapRef?.name, source.configMapRef?.optional);
    }
  }
  // Every namespace has the `default` service account.
  if (spec.serviceAccountName !== undefined && spec.serviceAccountName !== "default") add("ServiceAccount", spec.serviceAccountName, false);
  return references;
}

/** Every Secret, ConfigMap, claim or service account a workload's pods name that is not in the pod's namespace. */
export function podReferenceProblems(manifests: readonly ManifestLike[]): string[] {
  const existing = existingObjects(manifests);
  return manifests
    .filter((manifest) => podTemplateKinds.has(manifest.kind))
    .flatMap((workload) => {
      const namespace = workload.metadata.namespace ?? "";
      const spec = (workload["spec"] as { template: { spec: IPodSpec } }).template.spec;
      return podReferences(spec)
        .filter((reference) => !reference.optional && !existing.has(`${reference.kind} ${namespace}/${reference.name}`))
        .map((reference) => `${workload.kind} ${namespace}/${workload.metadata.name}: ${reference.kind} ${reference.name} is not in ${namespace}`);
    });
}

interface RouteSpec {
  routes: Array<{ services?: Array<{ kind?: string; name: string; namespace?: string }>; middlewares?: Array<{ name: string; namespace?: string }> }>;
}

/** Every Service or Middleware an IngressRoute names that traefik would not find in the route's namespace. */
export function routeReferenceProblems(manifests: readonly ManifestLike[]): string[] {
  const existing = existingObjects(manifests);
  return manifests
    .filter((manifest) => manifest.kind === "IngressRoute")
    .flatMap((route) => {
      const namespace = route.metadata.namespace ?? "";
      const where = `IngressRoute ${namespace}/${route.metadata.name}`;
      return (route["spec"] as RouteSpec).routes.flatMap((entry) => {
        const references = [
          ...(entry.services ?? []).filter((service) => (service.kind ?? "Service") === "Service").map((service) => ({ kind: "Service", ...service })),
          ...(entry.middlewares ?? []).map((middleware) => ({ kind: "Middleware", ...middleware })),
        ];
        return references.flatMap((reference) => {
          if (reference.namespace !== undefined && reference.namespace !== namespace) {
            return [`${where}: ${reference.kind} ${reference.namespace}/${reference.name} is in another namespace, which traefik refuses`];
          }
          return existing.has(`${reference.kind} ${namespace}/${reference.name}`) ? [] : [`${where}: no ${reference.kind} ${reference.name} in ${namespace}`];
        });
      });
    });
}

/** Namespaces NetworkPolicies select peers in by name, other than those the manifests declare and `outside`. */
export function unknownPeerNamespaces(manifests: readonly ManifestLike[], outside: readonly string[]): string[] {
  const declared = new Set([...manifests.filter((manifest) => manifest.kind === "Namespace").map((namespace) => namespace.metadata.name), ...outside]);
  const named = manifests
    .filter((manifest) => manifest.kind === "NetworkPolicy")
    .flatMap((policy) => {
      const spec = policy["spec"] as { ingress?: Array<{ from?: unknown[] }>; egress?: Array<{ to?: unknown[] }> };
      const peers = [...(spec.ingress ?? []).flatMap((rule) => rule.from ?? []), ...(spec.egress ?? []).flatMap((rule) => rule.to ?? [])];
      return peers.flatMap((peer) => {
        const name = (peer as { namespaceSelector?: { matchLabels?: Record<string, string> } }).namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
        return name === undefined ? [] : [name];
      });
    });
  return [...new Set(named)].filter((name) => !declared.has(name)).sort();
}
