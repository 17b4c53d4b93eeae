import * as pulumi from "@pulumi/pulumi";

/**
 * Runs the real Pulumi program under Pulumi's mock runtime, with no engine, CLI, plugins or cloud, and records
 * every resource it declares. Shared by the offline plan (`scripts/plan.ts`) and the stack tests.
 * The runtime state is global per process: one run per process.
 */

const unknownMarker = "<unknown until apply: ";

/** What the cloud would only know after `pulumi up`: shown as this marker wherever such a value flows. */
export function unknownUntilApply(what: string): string {
  return `${unknownMarker}${what}>`;
}

/** Whether a value embeds something known only after apply: the engine would hold the whole value unknown. */
export function dependsOnApply(value: string): boolean {
  return value.includes(unknownMarker);
}

/** One declared resource, as the engine would receive it. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** Custom (provider-managed) resource, as opposed to a component. */
  readonly custom: boolean;
  /** Resolved inputs; secret values are wrapped as `{ [secretSignatureKey]: secretSignature, value }`. */
  readonly inputs: Record<string, unknown>;
  /** URN of the parent; undefined for children of the stack itself. */
  readonly parentUrn: string | undefined;
  /** URN of the provider resource that manages it (custom resources only). */
  readonly providerUrn: string | undefined;
  /** What the engine is told besides the inputs: ordering and lifecycle options. */
  readonly engine: EngineOptions;
}

/** The options of a resource registration the engine acts on, as the program sent them. */
export interface EngineOptions {
  /** URNs the resource waits for on create and outlives on delete (explicit `dependsOn` and inputs' sources). */
  readonly dependencies: readonly string[];
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly ignoreChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  /** Replaced by deleting the old resource first (its delete step runs before the replacement is created). */
  readonly deleteBeforeReplace: boolean;
  /** URN of the resource whose deletion takes this one with it: its own delete step never runs. */
  readonly deletedWith: string | undefined;
}

export const noEngineOptions: EngineOptions = {
  dependencies: [],
  protect: false,
  retainOnDelete: false,
  ignoreChanges: [],
  additionalSecretOutputs: [],
  deleteBeforeReplace: false,
  deletedWith: undefined,
};

/** The part of the registration request (the engine's protocol) the recording reads. */
interface RegistrationRequest {
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(visit: (dependencies: { getUrnsList(): string[] }) => void): void };
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getDeletebeforereplace(): boolean | undefined;
  getDeletedwith(): string | undefined;
}

type RegistrationCallback = (error: Error | null, response: { getUrn(): string } | undefined) => void;

/** Records, by URN, the options of every registration the mock monitor receives. */
function recordEngineOptions(into: Map<string, EngineOptions>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(request: RegistrationRequest, callback: RegistrationCallback): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) =>
    register(request, (error, response) => {
      if (response !== undefined) {
        const dependencies = new Set(request.getDependenciesList());
        request.getPropertydependenciesMap().forEach((property) => property.getUrnsList().forEach((urn) => dependencies.add(urn)));
        into.set(response.getUrn(), {
          dependencies: [...dependencies],
          protect: request.getProtect() ?? false,
          retainOnDelete: request.getRetainondelete() ?? false,
          ignoreChanges: request.getIgnorechangesList(),
          additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
          deleteBeforeReplace: request.getDeletebeforereplace() ?? false,
          deletedWith: request.getDeletedwith() || undefined,
        });
      }
      callback(error, response);
    });
}

export interface ProgramRun {
  /** URN of the stack resource, the root of every resource and the holder of the outputs. */
  readonly stackUrn: string;
  readonly resources: readonly RecordedResource[];
  /** The stack outputs, with secret values wrapped as in `inputs`. */
  readonly outputs: Record<string, unknown>;
  /** Provider functions the mocks had no answer for (they returned nothing). */
  readonly unmockedCalls: readonly string[];
  /** Every provider function the program called, with its inputs, in order. */
  readonly calls: readonly { readonly token: string; readonly inputs: Record<string, unknown> }[];
}

export const secretSignatureKey = "4dabf18193072939515e22adb298388d";
const secretSignature = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[secretSignatureKey] === secretSignature;
}

/** Replaces every secret leaf with `replacement` (keeping the shape of secret objects), for printing or writing. */
export function redactSecrets(value: unknown, replacement: unknown, insideSecret = false): unknown {
  if (isSecretValue(value)) return redactSecrets(value.value, replacement, true);
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, replacement, insideSecret));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactSecrets(item, replacement, insideSecret)]));
  }
  return insideSecret ? replacement : value;
}

/** Unwraps every secret, for assertions on the values themselves. */
export function revealSecrets(value: unknown): unknown {
  if (isSecretValue(value)) return revealSecrets(value.value);
  if (Array.isArray(value)) return value.map(revealSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, revealSecrets(item)]));
  }
  return value;
}

type Inputs = Record<string, unknown>;
const text = (value: unknown): string => (typeof value === "string" ? value : String(value));

/**
 * Outputs the cloud computes. Values Azure derives deterministically from inputs are derived the same way;
 * everything else is an explicit unknown marker.
 */
function computedOutputs(type: string, name: string, inputs: Inputs): Inputs {
  switch (type) {
    case "azure-native:resources:ResourceGroup":
      return { name: inputs["resourceGroupName"] ?? name };
    case "azure-native:containerservice:ManagedCluster": {
      const clusterName = text(inputs["resourceName"] ?? name);
      return {
        name: clusterName,
        nodeResourceGroup:
          inputs["nodeResourceGroup"] ?? `MC_${text(inputs["resourceGroupName"])}_${clusterName}_${text(inputs["location"])}`,
        fqdn: unknownUntilApply(`API server FQDN of ${clusterName}`),
        identity: { type: "SystemAssigned", principalId: unknownUntilApply(`principal id of ${clusterName}`) },
        identityProfile: { kubeletidentity: { objectId: unknownUntilApply(`kubelet identity of ${clusterName}`) } },
      };
    }
    case "azure-native:network:PublicIPAddress":
      return {
        name: inputs["publicIpAddressName"] ?? name,
        ipAddress: unknownUntilApply(`address of ${text(inputs["publicIpAddressName"] ?? name)}`),
      };
    case "azure-native:network:VirtualNetwork":
      return { name: inputs["virtualNetworkName"] ?? name };
    case "azure-native:storage:StorageAccount":
      return { name: inputs["accountName"] ?? name };
    case "azure-native:storage:FileShare":
      return { name: inputs["shareName"] ?? name };
    case "azure-native:containerregistry:Registry":
      return { name: inputs["registryName"] ?? name, loginServer: `${text(inputs["registryName"] ?? name)}.azurecr.io` };
    case "random:index/randomPassword:RandomPassword":
    case "random:index/randomString:RandomString":
      // Long enough for every secret check; marked so nobody mistakes it for the real generated value.
      return { result: unknownUntilApply(`random value of ${name}`) };
    case "azure-native:managedidentity:UserAssignedIdentity":
      return { name: inputs["resourceName"] ?? name, principalId: unknownUntilApply(`principal id of ${text(inputs["resourceName"] ?? name)}`) };
    case "command:local:Command":
      return { stdout: "", stderr: "" };
    case "docker-build:index:Image": {
      const tag = text((inputs["tags"] as unknown[] | undefined)?.[0] ?? name);
      return { digest: unknownUntilApply(`digest of ${tag}`), ref: `${tag}@${unknownUntilApply("digest")}` };
    }
    case "command:local:Command":
    case "command:remote:Command":
      return { stdout: unknownUntilApply(`output of ${name}`), stderr: "" };
    case "azure-native:redis:Redis":
      return { name: inputs["name"] ?? name, hostName: `${text(inputs["name"] ?? name)}.redis.cache.windows.net`, sslPort: 6380 };
    default:
      if (type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm.sh") && !type.startsWith("kubernetes:yaml")) {
        // Kubernetes auto-names objects without a name; the mock keeps the logical name so references resolve.
        const metadata = (inputs["metadata"] ?? {}) as Inputs;
        return { metadata: { ...metadata, name: metadata["name"] ?? name } };
      }
      return {};
  }
}

/** An ARM resource id of the shape Azure returns, the subscription being unknown offline. */
function azureId(type: string, name: string, state: Inputs): string {
  const subscription = `/subscriptions/${unknownUntilApply("subscription")}`;
  const resourceName = text(state["name"] ?? name);
  if (type === "azure-native:resources:ResourceGroup") return `${subscription}/resourceGroups/${resourceName}`;
  const [, module = "unknown", kind = "unknown"] = type.split(":");
  const group = state["resourceGroupName"] === undefined ? "" : `/resourceGroups/${text(state["resourceGroupName"])}`;
  return `${subscription}${group}/providers/Microsoft.${module}/${kind}/${resourceName}`;
}

function mockCall(token: string, inputs: Inputs): Inputs | undefined {
  switch (token) {
    case "azure-native:containerservice:listManagedClusterUserCredentials": {
      // The exec format of an Entra ID cluster: no credential inside, kubelogin fetches a token per call.
      const cluster = text(inputs["resourceName"]);
      const kubeconfig = [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{ name: ${cluster}, cluster: { server: "https://${unknownUntilApply(`API server of ${cluster}`)}" } }]`,
        "users:",
        "  - name: clusterUser",
        "    user:",
        "      exec:",
        "        apiVersion: client.authentication.k8s.io/v1beta1",
        "        command: kubelogin",
        "        args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --login, devicecode]",
        `contexts: [{ name: ${cluster}, context: { cluster: ${cluster}, user: clusterUser } }]`,
        `current-context: ${cluster}`,
      ].join("\n");
      return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(kubeconfig).toString("base64") }] };
    }
    case "command:local:run":
      return { stdout: `${unknownUntilApply(`output of: ${text(inputs["command"])}`)}\n`, stderr: "" };
    case "azure-native:storage:listStorageAccountKeys":
      return { keys: [{ keyName: "key1", value: unknownUntilApply(`key of ${text(inputs["accountName"])}`), permissions: "FULL" }] };
    case "azure-native:redis:listRedisKeys":
      return {
        primaryKey: unknownUntilApply(`primary key of ${text(inputs["name"])}`),
        secondaryKey: unknownUntilApply(`secondary key of ${text(inputs["name"])}`),
      };
    case "azure-native:authorization:getClientConfig":
      return {
        subscriptionId: unknownUntilApply("subscription id"),
        tenantId: unknownUntilApply("tenant id"),
        clientId: unknownUntilApply("client id"),
        objectId: unknownUntilApply("object id"),
      };
    default:
      return undefined;
  }
}

export interface ProgramRunOptions {
  readonly project: string;
  readonly stack: string;
  /** Full config map, `<project>:<key>` to the value as Pulumi stores it (structured values as JSON). */
  readonly config: Readonly<Record<string, string>>;
  /** Keys of `config` that are secrets. */
  readonly secretKeys: readonly string[];
  /**
   * Imports the program; called after the mocks are in place. Returns the module (its default export, or else its
   * named exports, are the stack outputs, as the engine reads them) or the outputs themselves.
   */
  readonly loadProgram: () => Promise<Record<string, unknown>>;
}

interface Declared {
  readonly resource: pulumi.Resource;
  readonly parent: pulumi.Resource | undefined;
}

/**
 * The engine's rule for an ES module program: its default export if it has one (called if it is a function), else
 * its named exports.
 */
async function stackOutputsOf(programModule: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (!Object.hasOwn(programModule, "default")) return programModule;
  if (Object.keys(programModule).length !== 1) throw new Error("a program has either a default export or named exports, not both");
  const exported: unknown = programModule["default"];
  const outputs: unknown = typeof exported === "function" ? await (exported as () => unknown)() : exported;
  return (outputs ?? {}) as Record<string, unknown>;
}

/** Runs the program once under the mocks and returns every resource it declared and the stack outputs. */
export async function runProgramWithMocks(options: ProgramRunOptions): Promise<ProgramRun> {
  const registered = new Map<string, { type: string; name: string; inputs: Inputs; custom: boolean; provider: string | undefined }>();
  const unmockedCalls = new Set<string>();
  const calls: { token: string; inputs: Inputs }[] = [];
  const engineOptions = new Map<string, EngineOptions>();
  const declared: Declared[] = [];

  pulumi.runtime.setAllConfig({ ...options.config }, [...options.secretKeys]);
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs, custom, provider }) => {
        const state = { ...inputs, ...computedOutputs(type, name, inputs) };
        const baseId = type.startsWith("azure-native:") ? azureId(type, name, state) : `${type}/${name}`;
        let id = baseId;
        for (let n = 2; registered.has(id); n += 1) id = `${baseId}#${n}`;
        registered.set(id, { type, name, inputs, custom: custom ?? false, provider });
        return { id, state };
      },
      call: ({ token, inputs }) => {
        calls.push({ token, inputs });
        const result = mockCall(token, inputs);
        if (result === undefined) unmockedCalls.add(token);
        return result ?? {};
      },
    },
    options.project,
    options.stack,
    false,
  );
  recordEngineOptions(engineOptions);

  let programExports: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      declared.push({ resource: args.resource, parent: args.opts.parent });
      return undefined;
    });
    programExports = await stackOutputsOf(await options.loadProgram());
    return programExports;
  });
  await pulumi.runtime.disconnect();

  const stackResource = pulumi.runtime.getStackResource();
  if (stackResource === undefined) throw new Error("the program ran without a stack resource");
  const resources = await Promise.all(
    declared.map(async ({ resource, parent }): Promise<RecordedResource> => {
      const urn = await valueOf(resource.urn);
      const parentUrn = parent === undefined || parent === stackResource ? undefined : await valueOf(parent.urn);
      const id = pulumi.CustomResource.isInstance(resource) ? await valueOf(resource.id) : undefined;
      const record = id === undefined ? undefined : registered.get(id);
      const [, , typeChain = "", ...nameParts] = urn.split("::");
      return {
        type: typeChain.slice(typeChain.lastIndexOf("$") + 1),
        name: nameParts.join("::"),
        urn,
        custom: record?.custom ?? false,
        inputs: record?.inputs ?? {},
        parentUrn,
        providerUrn: record?.provider ? record.provider.slice(0, record.provider.lastIndexOf("::")) : undefined,
        engine: engineOptions.get(urn) ?? noEngineOptions,
      };
    }),
  );
  return {
    stackUrn: await valueOf(stackResource.urn),
    resources,
    outputs: await resolveOutputs(programExports),
    unmockedCalls: [...unmockedCalls],
    calls,
  };
}

/** The value an output settles on (the mocks make every value known). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** Stack outputs resolved, with the secret ones wrapped, so callers can see which outputs are secret. */
async function resolveOutputs(exports: Record<string, unknown>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(exports).map(async ([key, exported]) => {
      if (!pulumi.Output.isInstance(exported)) return [key, exported] as const;
      const output = exported as pulumi.Output<unknown>;
      const [value, secret] = await Promise.all([valueOf(output), pulumi.isSecret(output)]);
      return [key, secret ? { [secretSignatureKey]: secretSignature, value } : value] as const;
    }),
  );
  return Object.fromEntries(entries);
}
