import type { PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { imagePinProblem, imageRepository } from "./imagePins.js";
import {
  containersOf,
  describeContainer,
  describeWorkload,
  podWorkloadOf,
  workloadKey,
  type ContainerLifetime,
  type EnvVarView,
  type PodContainer,
  type PodSpecView,
  type PodWorkload,
} from "./podWorkloads.js";
import {
  apiClientExemptions,
  capabilityAllowances,
  exemptionFor,
  exemptionsSchema,
  hostNetworkExemptions,
  rootExemptions,
  workloadMatches,
  type CapabilityAllowance,
  type WorkloadExemption,
} from "./workloadExemptions.js";
import { settingsOf } from "../policyConfig.js";

type ContainerCheck = (container: PodContainer, workload: PodWorkload, args: ResourceValidationArgs) => string[];

/**
 * Runs `check` on every container of a pod-running resource (of the given lifetimes) and reports each problem
 * prefixed with where the container is. Resources that run no pods are not applicable.
 */
function validateContainers(lifetimes: readonly ContainerLifetime[], check: ContainerCheck) {
  return (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
    const workload = podWorkloadOf(args.type, args.props);
    if (workload === undefined) args.notApplicable("runs no pods");
    for (const podContainer of containersOf(workload)) {
      if (!lifetimes.includes(podContainer.lifetime)) continue;
      for (const problem of check(podContainer, workload, args)) {
        reportViolation(`${describeContainer(workload, podContainer, args.name)}: ${problem}`);
      }
    }
  };
}

function imageProblems({ container }: PodContainer): string[] {
  if (container.image === undefined || container.image === "") return ["has no image"];
  const problem = imagePinProblem(container.image);
  return problem === undefined ? [] : [`image ${problem}`];
}

const requiredResources = ["cpu", "memory"] as const;

function resourceProblems({ container }: PodContainer): string[] {
  const problems: string[] = [];
  for (const bound of ["requests", "limits"] as const) {
    const declared = container.resources?.[bound] ?? {};
    const missing = requiredResources.filter((resource) => declared[resource] === undefined);
    if (missing.length > 0) problems.push(`sets no ${missing.join("/")} ${bound}`);
  }
  return problems;
}

function probeProblems({ container }: PodContainer): string[] {
  const problems: string[] = [];
  if (container.readinessProbe === undefined) problems.push("has no readinessProbe");
  if (container.livenessProbe === undefined) problems.push("has no livenessProbe");
  return problems;
}

interface ExemptionConfig {
  exemptions: WorkloadExemption[];
}

/** A pod-level rule: `violates` a pod spec is reported unless the config's exemptions (`schema`) name the workload. */
function validatePodUnlessExempted(
  schema: PolicyConfigSchema,
  violates: (spec: PodSpecView) => boolean,
  describeViolation: (workload: string, key: string) => string,
) {
  return (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
    const workload = podWorkloadOf(args.type, args.props);
    if (workload === undefined) args.notApplicable("runs no pods");
    if (!violates(workload.spec)) return;
    const key = workloadKey(workload, args.name);
    if (exemptionFor(settingsOf<ExemptionConfig>(schema, args).exemptions, key) === undefined) {
      reportViolation(describeViolation(describeWorkload(workload, args.name), key));
    }
  };
}

const rootExemptionsSchema = exemptionsSchema(rootExemptions);
const hostNetworkSchema = exemptionsSchema(hostNetworkExemptions);
const apiClientsSchema = exemptionsSchema(apiClientExemptions);
const capabilitiesSchema: PolicyConfigSchema = {
  properties: {
    allowances: {
      type: "array",
      items: {
        type: "object",
        properties: {
          workload: { type: "string", minLength: 1 },
          reason: { type: "string", minLength: 1 },
          capabilities: { type: "array", items: { type: "string" } },
        },
        required: ["workload", "reason", "capabilities"],
      },
      default: capabilityAllowances,
    },
  },
};
const registriesSchema: PolicyConfigSchema = {
  properties: {
    registries: {
      type: "array",
      items: { type: "string", minLength: 1 },
      default: [
        "docker.io/library/",
        "docker.io/coturn/",
        "docker.io/jitsi/",
        // The Redis metrics sidecar of stacks with monitoring: that one repository, not its owner's whole namespace.
        "docker.io/oliver006/redis_exporter",
        "*.azurecr.io/mediaplane/",
        "localhost/mediaplane/",
      ],
    },
  },
};
const secretEnvSchema: PolicyConfigSchema = {
  properties: {
    nonSecretNames: {
      type: "array",
      items: { type: "string" },
      // RFC2136_TSIG_KEY names the TSIG key; its secret travels in RFC2136_TSIG_SECRET.
      default: ["RFC2136_TSIG_KEY"],
    },
  },
};

/** Privilege escalation and privileged mode are never exempted; running as root is, for workloads the config names. */
function privilegeProblems({ container }: PodContainer, workload: PodWorkload, args: ResourceValidationArgs): string[] {
  const security = container.securityContext ?? {};
  const problems: string[] = [];
  if (security.privileged === true) problems.push("runs privileged");
  if (security.allowPrivilegeEscalation !== false) problems.push("does not set allowPrivilegeEscalation: false");
  const runAsNonRoot = security.runAsNonRoot ?? workload.spec.securityContext?.runAsNonRoot;
  const mayRunAsRoot = exemptionFor(settingsOf<ExemptionConfig>(rootExemptionsSchema, args).exemptions, workloadKey(workload, args.name)) !== undefined;
  if (runAsNonRoot !== true && !mayRunAsRoot) {
    problems.push("does not set runAsNonRoot: true (on the container or the pod) and the pack's config exempts no such workload");
  }
  return problems.length === 0 ? [] : [problems.join(", ")];
}

/** Capabilities added beyond what the config allows this workload. */
function capabilityProblems({ container }: PodContainer, workload: PodWorkload, args: ResourceValidationArgs): string[] {
  const key = workloadKey(workload, args.name);
  const allowed = new Set(
    settingsOf<{ allowances: CapabilityAllowance[] }>(capabilitiesSchema, args)
      .allowances.filter((allowance) => allowance.reason.trim() !== "" && workloadMatches(allowance.workload, key))
      .flatMap((allowance) => allowance.capabilities.map((capability) => capability.toUpperCase())),
  );
  const added = container.securityContext?.capabilities?.add ?? [];
  const excess = added.filter((capability) => !allowed.has(capability.toUpperCase().replace(/^CAP_/, "")));
  return excess.length === 0 ? [] : [`adds capabilities ${excess.join(", ")} that the pack's config does not allow ${key}`];
}

/** The seccomp profile in force: the container's own, else the pod's. */
function seccompProblems({ container }: PodContainer, workload: PodWorkload): string[] {
  const profile = container.securityContext?.seccompProfile?.type ?? workload.spec.securityContext?.seccompProfile?.type;
  return profile === "RuntimeDefault" || profile === "Localhost"
    ? []
    : [`runs with seccomp profile ${profile ?? "unset (Unconfined on most runtimes)"}; set seccompProfile.type: RuntimeDefault on the container or the pod`];
}

interface RegistryConfig {
  /**
   * `registry/path/` prefixes (ending in `/`) or exact repositories (`docker.io/oliver006/redis_exporter`); a
   * leading `*.` matches any subdomain (`*.azurecr.io/mediaplane/`).
   */
  registries: string[];
}

function pathMatches(allowed: string, path: string): boolean {
  return allowed.endsWith("/") ? path.startsWith(allowed) : path === allowed;
}

function registryMatches(allowed: string, repository: string): boolean {
  if (!allowed.startsWith("*.")) return pathMatches(allowed, repository);
  const slash = allowed.indexOf("/");
  const domain = allowed.slice(1, slash === -1 ? undefined : slash);
  const path = slash === -1 ? "/" : allowed.slice(slash);
  const repositorySlash = repository.indexOf("/");
  const host = repository.slice(0, repositorySlash === -1 ? undefined : repositorySlash);
  return host.endsWith(domain) && pathMatches(path, repository.slice(host.length));
}

function registryProblems({ container }: PodContainer, _workload: PodWorkload, args: ResourceValidationArgs): string[] {
  if (container.image === undefined || container.image === "") return [];
  const repository = imageRepository(container.image);
  const { registries } = settingsOf<RegistryConfig>(registriesSchema, args);
  return registries.some((allowed) => registryMatches(allowed, repository))
    ? []
    : [`image ${container.image} comes from ${repository}, which is not an allowed registry (${registries.join(", ")})`];
}

/** Words that mark an environment variable as holding a credential. */
const secretWords = new Set(["PASSWORD", "PASSWD", "PASS", "SECRET", "SECRETS", "TOKEN", "KEY", "APIKEY", "CREDENTIALS"]);
/** Suffixes naming where a credential lives, not the credential itself (the `_FILE` convention of container images). */
const referenceSuffixes = ["_FILE", "_PATH", "_DIR"];

/** True when the variable's name says it holds a credential (`JVB_AUTH_PASSWORD`, `apiKey`, `TURN_SECRET`). */
export function looksLikeSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  if (referenceSuffixes.some((suffix) => upper.endsWith(suffix))) return false;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .split(/[^A-Z0-9]+/);
  return words.some((word) => secretWords.has(word));
}

export interface SecretEnvConfig {
  /** Variables whose names look secret but hold none (e.g. the TSIG key *name*, whose secret is another variable). */
  nonSecretNames: string[];
}

function secretEnvProblem(variable: EnvVarView, config: SecretEnvConfig): string | undefined {
  const name = variable.name ?? "";
  if (!looksLikeSecretName(name) || config.nonSecretNames.includes(name)) return undefined;
  if (variable.valueFrom?.secretKeyRef !== undefined) return undefined;
  // A switch such as ENABLE_TOKEN_AUTH=true holds no credential.
  if (variable.value === undefined ? variable.valueFrom === undefined : ["", "true", "false"].includes(variable.value)) {
    return undefined;
  }
  return `env ${name} looks like a credential but is not read from a Secret (use valueFrom.secretKeyRef)`;
}

function secretEnvProblems({ container }: PodContainer, _workload: PodWorkload, args: ResourceValidationArgs): string[] {
  const config = settingsOf<SecretEnvConfig>(secretEnvSchema, args);
  return (container.env ?? []).flatMap((variable) => secretEnvProblem(variable, config) ?? []);
}

const allLifetimes = ["long-running", "run-to-completion"] as const;

export const pinnedImages: ResourceValidationPolicy = {
  name: "k8s-pinned-images",
  description:
    "Every container image names a fixed version (a release tag or a digest), never latest/stable or no tag: " +
    "a moving tag makes two rollouts of the same stack run different software and makes rollbacks lie.",
  enforcementLevel: "mandatory",
  validateResource: validateContainers(allLifetimes, imageProblems),
};

export const containerResources: ResourceValidationPolicy = {
  name: "k8s-container-resources",
  description:
    "Long-running containers request and limit CPU and memory: requests let the scheduler keep media pods off " +
    "overloaded nodes, limits keep one runaway process from starving the rest of the node.",
  enforcementLevel: "mandatory",
  validateResource: validateContainers(["long-running"], resourceProblems),
};

export const containerProbes: ResourceValidationPolicy = {
  name: "k8s-container-probes",
  description:
    "Long-running containers have readiness and liveness probes: readiness keeps traffic away until the service " +
    "answers (start order of signalling and media components), liveness restarts a hung process.",
  enforcementLevel: "mandatory",
  validateResource: validateContainers(["long-running"], probeProblems),
};

export const runToCompletionResources: ResourceValidationPolicy = {
  name: "k8s-run-to-completion-resources",
  description:
    "Init containers and Job containers should request and limit CPU and memory too; advisory because they run " +
    "briefly, and they are not probed because they are meant to finish.",
  enforcementLevel: "advisory",
  validateResource: validateContainers(["run-to-completion"], resourceProblems),
};

export const nonRootNoEscalation: ResourceValidationPolicy = {
  name: "k8s-non-root-no-privilege-escalation",
  description:
    "Containers run as non-root with allowPrivilegeEscalation: false and are not privileged, so a compromised " +
    "media server cannot take over its node. Only the pack's config exempts a workload from non-root, naming it and why.",
  enforcementLevel: "mandatory",
  configSchema: rootExemptionsSchema,
  validateResource: validateContainers(allLifetimes, privilegeProblems),
};

export const hostNetwork: ResourceValidationPolicy = {
  name: "k8s-host-network",
  description:
    "Pods stay off the node's network namespace (no NetworkPolicy reaches them, and they see every node port); only " +
    "workloads the pack's config names, with a reason, may use hostNetwork.",
  enforcementLevel: "mandatory",
  configSchema: hostNetworkSchema,
  validateResource: validatePodUnlessExempted(
    hostNetworkSchema,
    (spec) => spec.hostNetwork === true,
    (workload, key) => `${workload} uses hostNetwork, which the pack's config does not allow ${key}`,
  ),
};

export const addedCapabilities: ResourceValidationPolicy = {
  name: "k8s-added-capabilities",
  description:
    "Containers add no Linux capabilities beyond the allow-list the pack's config keeps per workload: each added " +
    "capability widens what a compromised process can do to its node.",
  enforcementLevel: "mandatory",
  configSchema: capabilitiesSchema,
  validateResource: validateContainers(allLifetimes, capabilityProblems),
};

export const seccompRuntimeDefault: ResourceValidationPolicy = {
  name: "k8s-seccomp-runtime-default",
  description:
    "Every container runs under the runtime's default seccomp profile (or a node-local one): unconfined, a " +
    "compromised media server could use every system call of the node's kernel.",
  enforcementLevel: "mandatory",
  validateResource: validateContainers(allLifetimes, seccompProblems),
};

export const serviceAccountTokens: ResourceValidationPolicy = {
  name: "k8s-service-account-token-unmounted",
  description:
    "Pods set automountServiceAccountToken: false unless the pack's config names them as clients of the Kubernetes " +
    "API: a mounted token lets anyone inside the pod act on the API as its service account.",
  enforcementLevel: "mandatory",
  configSchema: apiClientsSchema,
  validateResource: validatePodUnlessExempted(
    apiClientsSchema,
    (spec) => spec.automountServiceAccountToken !== false,
    (workload) => `${workload} mounts a service account token; set automountServiceAccountToken: false`,
  ),
};

export const allowedRegistries: ResourceValidationPolicy = {
  name: "k8s-allowed-registries",
  description:
    "Every image comes from a registry (and path) the pack's config allows: the upstream projects' own Docker Hub " +
    "namespaces, the stacks' registries and the local engine, never an arbitrary namespace.",
  enforcementLevel: "mandatory",
  configSchema: registriesSchema,
  validateResource: validateContainers(allLifetimes, registryProblems),
};

export const secretsFromSecretRefs: ResourceValidationPolicy = {
  name: "k8s-secrets-from-secret-refs",
  description:
    "Environment variables named like credentials (*PASSWORD*, *SECRET*, *TOKEN*, *KEY*) are read through " +
    "valueFrom.secretKeyRef: a literal value would sit in plain text in the state, the manifest and `kubectl describe`.",
  enforcementLevel: "mandatory",
  configSchema: secretEnvSchema,
  validateResource: validateContainers(allLifetimes, secretEnvProblems),
};

export const containerPolicies = [
  pinnedImages,
  containerResources,
  containerProbes,
  runToCompletionResources,
  nonRootNoEscalation,
  hostNetwork,
  addedCapabilities,
  seccompRuntimeDefault,
  serviceAccountTokens,
  allowedRegistries,
  secretsFromSecretRefs,
];
