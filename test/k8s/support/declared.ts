import type { IDeployment, IStatefulSet } from "kubernetes-models/apps/v1";
import type { IContainer, IEnvVar } from "kubernetes-models/v1";
import { revealSecrets, runProgramWithMocks, secretSignatureKey } from "../../../scripts/mockRuntime.js";

/**
 * Component tests run on the repository's one mock runtime (`scripts/mockRuntime.ts`, shared with the offline plan):
 * `declareWithMocks` builds components inside a mock stack and returns what they declared. One run per test file.
 */

/** One resource a component declared, with its inputs as the engine would receive them (secrets revealed). */
export interface DeclaredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** URN of the provider resource that manages it, if any. */
  providerUrn: string | undefined;
  /** Whether any input arrived marked secret. */
  hasSecretInput: boolean;
}

export interface Declaration {
  declared: DeclaredResource[];
  /** What `build` returned, resolved (secret values revealed). */
  outputs: Record<string, unknown>;
}

/** Runs `build` (which constructs components and returns outputs to inspect) under the mock runtime. */
export async function declareWithMocks(build: () => Promise<Record<string, unknown>>): Promise<Declaration> {
  const run = await runProgramWithMocks({ project: "mediaplane", stack: "test", config: {}, secretKeys: [], loadProgram: build });
  return {
    declared: run.resources.map((resource) => ({
      type: resource.type,
      name: resource.name,
      inputs: revealSecrets(resource.inputs) as Record<string, unknown>,
      providerUrn: resource.providerUrn,
      hasSecretInput: JSON.stringify(resource.inputs).includes(secretSignatureKey),
    })),
    outputs: revealSecrets(run.outputs) as Record<string, unknown>,
  };
}

/** The Kubernetes object name of a declared resource, or, failing that, its resource name. */
const objectNameOf = (resource: DeclaredResource): string => (resource.inputs["metadata"] as { name?: string } | undefined)?.name ?? resource.name;

/** The one declared resource of a type whose Kubernetes object name (or, failing that, resource name) matches. */
export function findObject(declared: readonly DeclaredResource[], type: string, objectName: string): DeclaredResource {
  const matches = declared.filter((resource) => resource.type === type && objectNameOf(resource) === objectName);
  if (matches.length !== 1) {
    const names = declared.filter((resource) => resource.type === type).map(objectNameOf);
    throw new Error(`expected one ${type} named ${objectName}, found ${matches.length} (declared: ${names.join(", ") || "none"})`);
  }
  return matches[0] as DeclaredResource;
}

/** The Kubernetes object a declared resource stands for, typed by the caller (e.g. `IDeployment`). */
export function objectOf<T>(declared: readonly DeclaredResource[], type: string, objectName: string): T {
  return findObject(declared, type, objectName).inputs as T;
}

/** The first container of a declared Deployment's or StatefulSet's pod template. */
export function workloadContainer(declared: readonly DeclaredResource[], workloadName: string): IContainer {
  const kind = declared.some((resource) => resource.type === "kubernetes:apps/v1:StatefulSet" && objectNameOf(resource) === workloadName)
    ? "kubernetes:apps/v1:StatefulSet"
    : "kubernetes:apps/v1:Deployment";
  const container = objectOf<IDeployment | IStatefulSet>(declared, kind, workloadName).spec?.template.spec?.containers[0];
  if (container === undefined) throw new Error(`no container in ${workloadName}`);
  return container;
}

/** A container's environment variable by name. */
export function envVar(container: IContainer, name: string): IEnvVar | undefined {
  return container.env?.find((variable) => variable.name === name);
}
