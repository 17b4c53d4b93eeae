import * as pulumi from "@pulumi/pulumi";

/** One resource the program declared, with its inputs as the engine would receive them (secrets unwrapped). */
export interface DeclaredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Provider reference (`urn::id`) the resource was registered with, if any. */
  provider: string | undefined;
  /** Whether any input arrived marked secret. */
  hasSecretInput: boolean;
}

const secretSignature = "4dabf18193072939515e22adb298388d";

function unwrap(value: unknown, found: { secret: boolean }): unknown {
  if (Array.isArray(value)) return value.map((item) => unwrap(item, found));
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[secretSignature] === "1b47061264138c4ac30d75fd1eb44270") {
      found.secret = true;
      return unwrap(record["value"], found);
    }
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, unwrap(item, found)]));
  }
  return value;
}

/** Outputs that resources the components read from others would have after creation. */
function computedOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type === "random:index/randomPassword:RandomPassword") return { result: `mock-secret-${name}-0123456789abcdef` };
  if (type === "docker-build:index:Image") return { digest: `sha256:${"ab".repeat(32)}`, ref: `${String((inputs["tags"] as string[] | undefined)?.[0])}@sha256:${"ab".repeat(32)}` };
  if (type.startsWith("kubernetes:") && type !== "kubernetes:yaml/v2:ConfigFile") {
    const metadata = (inputs["metadata"] ?? {}) as Record<string, unknown>;
    return { metadata: { ...metadata, name: metadata["name"] ?? `${name}-generated` } };
  }
  return {};
}

/**
 * Installs Pulumi's mock runtime for one test file (the runtime is global per process) and returns the list that
 * fills as the program declares resources. Call before importing any component module.
 */
export async function startMockRuntime(): Promise<DeclaredResource[]> {
  const declared: DeclaredResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const found = { secret: false };
        const inputs = unwrap(args.inputs, found) as Record<string, unknown>;
        declared.push({ type: args.type, name: args.name, inputs, provider: args.provider, hasSecretInput: found.secret });
        return { id: `${args.name}-id`, state: { ...inputs, ...computedOutputs(args.type, args.name, inputs) } };
      },
      call(args) {
        return args.inputs;
      },
    },
    "mediaplane",
    "test",
    false,
  );
  return declared;
}

/** Resolves when an output is known (the mock engine resolves everything). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** Waits until the program stops declaring resources (registrations are asynchronous). */
export async function settled(declared: readonly DeclaredResource[]): Promise<void> {
  let last = -1;
  while (last !== declared.length) {
    last = declared.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The one declared resource of a type whose Kubernetes object name (or, failing that, resource name) matches. */
export function findObject(declared: readonly DeclaredResource[], type: string, objectName: string): DeclaredResource {
  const matches = declared.filter(
    (resource) => resource.type === type && ((resource.inputs["metadata"] as { name?: string } | undefined)?.name ?? resource.name) === objectName,
  );
  if (matches.length !== 1) {
    const names = declared.filter((resource) => resource.type === type).map((resource) => (resource.inputs["metadata"] as { name?: string } | undefined)?.name ?? resource.name);
    throw new Error(`expected one ${type} named ${objectName}, found ${matches.length} (declared: ${names.join(", ") || "none"})`);
  }
  return matches[0] as DeclaredResource;
}

/** The Kubernetes object a declared resource stands for, typed by the caller (e.g. `IDeployment`). */
export function objectOf<T>(declared: readonly DeclaredResource[], type: string, objectName: string): T {
  return findObject(declared, type, objectName).inputs as T;
}
