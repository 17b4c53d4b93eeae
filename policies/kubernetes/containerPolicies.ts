import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { imagePinProblem } from "../../components/k8s/versions.js";
import { privilegedReasonAnnotation } from "./annotations.js";
import {
  containersOf,
  describeContainer,
  describeWorkload,
  podWorkloadOf,
  type ContainerLifetime,
  type EnvVarView,
  type PodContainer,
  type PodWorkload,
} from "./podWorkloads.js";

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

/** The reason a workload gives for needing root, or "" when it gives none (an empty reason does not count). */
function privilegeExemptionReason(workload: PodWorkload): string {
  return (workload.annotations[privilegedReasonAnnotation] ?? "").trim();
}

function privilegeProblems({ container }: PodContainer, workload: PodWorkload): string[] {
  if (privilegeExemptionReason(workload) !== "") return [];
  const security = container.securityContext ?? {};
  const problems: string[] = [];
  if (security.privileged === true) problems.push("runs privileged");
  if (security.allowPrivilegeEscalation !== false) problems.push("does not set allowPrivilegeEscalation: false");
  const runAsNonRoot = security.runAsNonRoot ?? workload.spec.securityContext?.runAsNonRoot;
  if (runAsNonRoot !== true) problems.push("does not set runAsNonRoot: true (on the container or the pod)");
  if (problems.length === 0) return [];
  return [`${problems.join(", ")}; fix it or annotate the workload with ${privilegedReasonAnnotation}: <why>`];
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
  const config = args.getConfig<SecretEnvConfig>();
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
    `media server cannot take over its node; a workload whose software cannot must say why in ${privilegedReasonAnnotation}.`,
  enforcementLevel: "mandatory",
  validateResource: validateContainers(allLifetimes, privilegeProblems),
};

export const privilegeExemptions: ResourceValidationPolicy = {
  name: "k8s-privilege-exemptions",
  description:
    `Lists every workload exempted from the non-root rule through ${privilegedReasonAnnotation}, with its reason, ` +
    "so each exemption stays visible in every plan and review instead of being granted once and forgotten.",
  enforcementLevel: "advisory",
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const workload = podWorkloadOf(args.type, args.props);
    if (workload === undefined) args.notApplicable("runs no pods");
    const reason = privilegeExemptionReason(workload);
    if (reason === "") args.notApplicable("not exempted");
    reportViolation(`${describeWorkload(workload, args.name)} may run as root: ${reason}`);
  },
};

export const secretsFromSecretRefs: ResourceValidationPolicy = {
  name: "k8s-secrets-from-secret-refs",
  description:
    "Environment variables named like credentials (*PASSWORD*, *SECRET*, *TOKEN*, *KEY*) are read through " +
    "valueFrom.secretKeyRef: a literal value would sit in plain text in the state, the manifest and `kubectl describe`.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      nonSecretNames: {
        type: "array",
        items: { type: "string" },
        // RFC2136_TSIG_KEY names the TSIG key; its secret travels in RFC2136_TSIG_SECRET.
        default: ["RFC2136_TSIG_KEY"],
      },
    },
  },
  validateResource: validateContainers(allLifetimes, secretEnvProblems),
};

export const containerPolicies = [
  pinnedImages,
  containerResources,
  containerProbes,
  runToCompletionResources,
  nonRootNoEscalation,
  privilegeExemptions,
  secretsFromSecretRefs,
];
