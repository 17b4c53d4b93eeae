/**
 * Validates a manifest against the published schema of its kind: the Kubernetes OpenAPI schemas
 * (`kubernetes-models`), the traefik CRD schemas (`@kubernetes-models/traefik`, `traefik.io/v1alpha1`) and the
 * Prometheus Operator's (`@kubernetes-models/prometheus-operator`, `monitoring.coreos.com/v1`) and cert-manager's
 * (`@kubernetes-models/cert-manager`, `cert-manager.io/v1`).
 */
interface Validatable {
  validate(): void;
}
type ModelClass = new (data: Record<string, unknown>) => Validatable;

function modelModule(apiVersion: string): string {
  if (apiVersion.startsWith("traefik.io/")) return `@kubernetes-models/traefik/${apiVersion}`;
  if (apiVersion.startsWith("monitoring.coreos.com/")) return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  if (apiVersion.startsWith("cert-manager.io/")) return `@kubernetes-models/cert-manager/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`;
}

/** Throws naming the object and the schema violation; throws too when no schema is known for the kind. */
export async function validateAgainstSchema(manifest: Record<string, unknown>): Promise<void> {
  const apiVersion = String(manifest["apiVersion"]);
  const kind = String(manifest["kind"]);
  const name = (manifest["metadata"] as { name?: string } | undefined)?.name ?? "(unnamed)";
  const module = (await import(modelModule(apiVersion))) as Record<string, ModelClass | undefined>;
  const Model = module[kind];
  if (Model === undefined) throw new Error(`no schema for ${apiVersion} ${kind}`);
  try {
    new Model(manifest).validate();
  } catch (error) {
    throw new Error(`${kind} ${name}: ${(error as Error).message}`);
  }
}
