import { redactSecrets, type RecordedResource } from "./mockRuntime.js";

/** A Kubernetes object as `kubectl apply` takes it, or undefined for resources that are not one. */
export function kubernetesManifest(resource: RecordedResource): Record<string, unknown> | undefined {
  const match = /^kubernetes:([^:]+)\/([^:/]+):([A-Za-z0-9]+)$/.exec(resource.type);
  if (!resource.custom || match === null) return undefined;
  const [, group = "", version = "", kind = ""] = match;
  if (group === "helm.sh" || group === "yaml" || group === "kustomize") return undefined;
  const { apiVersion, kind: inputKind, ...body } = resource.inputs;
  return {
    apiVersion: apiVersion ?? (group === "core" ? version : `${group}/${version}`),
    kind: inputKind ?? kind,
    // Secret values never reach the disk; "REDACTED" is also valid base64, so Secret.data stays well-formed.
    ...(redactSecrets(body, "REDACTED") as Record<string, unknown>),
  };
}
