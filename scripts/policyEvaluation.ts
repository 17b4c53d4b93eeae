import type {
  EnforcementLevel,
  Policies,
  Policy,
  PolicyPackConfig,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { UnknownValueError as untypedUnknownValueError, unknownCheckingProxy as untypedUnknownCheckingProxy } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import { dependsOnApply, revealSecrets, type ProgramRun } from "./mockRuntime.js";
import { defaultEnforcementLevel, mediaplanePolicies } from "../policies/policies.js";

/**
 * Evaluates the policy pack without the Pulumi engine, on the resources a program declared under the mock runtime:
 * the offline plan and the tests use it, so "every stack must pass" is checked on every commit, not only on a
 * machine with the Pulumi CLI. It hands the policies the same argument shapes the engine's analyzer does.
 */

/** One declared resource, as the mock runtime records it (`RecordedResource` of `scripts/mockRuntime.ts`). */
export interface PlannedResource {
  readonly urn: string;
  /** Type token, e.g. `kubernetes:apps/v1:Deployment`. */
  readonly type: string;
  readonly name: string;
  /** The resource's inputs, resolved (secrets may still carry Pulumi's secret wrapper). */
  readonly inputs: Record<string, unknown>;
  /** URN of the parent resource; undefined for children of the stack itself. */
  readonly parentUrn?: string | undefined;
}

/**
 * What the engine lets policies see of a run: every resource, and the stack itself with its outputs as its
 * properties (stack policies judge those).
 */
export function plannedResources(run: ProgramRun): PlannedResource[] {
  const stackName = run.stackUrn.slice(run.stackUrn.lastIndexOf("::") + 2);
  return [{ urn: run.stackUrn, type: "pulumi:pulumi:Stack", name: stackName, inputs: run.outputs }, ...run.resources];
}

export interface Violation {
  policy: string;
  enforcementLevel: EnforcementLevel;
  message: string;
  /** The offending resource; absent when a stack policy blames the stack as a whole. */
  urn?: string;
}

export interface EvaluationOptions {
  /** Defaults to the mediaplane pack. */
  policies?: Policies;
  /** Per-policy enforcement level and settings, as in `pulumi preview --policy-pack-config`. */
  config?: PolicyPackConfig;
  stackTags?: ReadonlyMap<string, string>;
}

/** Thrown by `notApplicable()`: the policy has nothing to say about this resource or stack. */
class NotApplicable extends Error {}

function notApplicable(reason?: string): never {
  throw new NotApplicable(reason);
}

function isResourcePolicy(policy: Policy): policy is ResourceValidationPolicy {
  return "validateResource" in policy && policy.validateResource !== undefined;
}

function isStackPolicy(policy: Policy): policy is StackValidationPolicy {
  return "validateStack" in policy && typeof policy.validateStack === "function";
}

/** The enforcement level the configuration gives the policy, else its own, else the pack's. */
function enforcementLevelOf(policy: Policy, config: PolicyPackConfig): EnforcementLevel {
  const configured = config[policy.name];
  if (typeof configured === "string") return configured;
  return configured?.enforcementLevel ?? policy.enforcementLevel ?? defaultEnforcementLevel;
}

/** A policy's settings, as `getConfig()` returns them. */
type Settings = Record<string, unknown>;

/** The policy's settings: its schema's defaults overridden by the configuration. */
function settingsOf(policy: Policy, config: PolicyPackConfig): Settings {
  const defaults = Object.fromEntries(
    Object.entries(policy.configSchema?.properties ?? {}).flatMap(([key, schema]) =>
      schema.default === undefined ? [] : [[key, schema.default]],
    ),
  );
  const configured = config[policy.name];
  if (typeof configured !== "object") return defaults;
  const { enforcementLevel: _level, ...overrides } = configured;
  return { ...defaults, ...overrides };
}

const noOptions: PolicyResourceOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

/** `Class.__pulumiType`, which every generated resource class carries (internal in the SDKs' typings). */
function pulumiTypeOf(resourceClass: object): string | undefined {
  const token: unknown = (resourceClass as { __pulumiType?: unknown }).__pulumiType;
  return typeof token === "string" ? token : undefined;
}

// The engine's own unknown-value guard: exported by @pulumi/policy at runtime, but missing from its typings.
const unknownCheckingProxy = untypedUnknownCheckingProxy as <T extends object>(inputs: T) => T;
const UnknownValueError = untypedUnknownValueError as new (...args: never[]) => Error;

/** Marks values the mock runtime could only show as placeholders as unknown, the way the engine sends them. */
function markUnknowns(value: unknown): unknown {
  if (typeof value === "string") return dependsOnApply(value) ? pulumi.runtime.unknownValue : value;
  if (Array.isArray(value)) return value.map(markUnknowns);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, markUnknowns(entry)]));
}

/**
 * The resource's inputs as the engine hands them to a policy: secrets as plain values, and reading a value known
 * only after apply throws `UnknownValueError` (the policy cannot judge it before then).
 */
function engineView(inputs: Record<string, unknown>): Record<string, unknown> {
  return unknownCheckingProxy(markUnknowns(revealSecrets(inputs)) as Record<string, unknown>);
}

/** The argument bag the engine passes to `validateResource`, for one planned resource. */
export function resourceValidationArgs(
  resource: PlannedResource,
  settings: Settings = {},
  stackTags: ReadonlyMap<string, string> = new Map(),
): ResourceValidationArgs {
  const props = engineView(resource.inputs);
  const isType = (resourceClass: object): boolean => pulumiTypeOf(resourceClass) === resource.type;
  return {
    type: resource.type,
    props,
    urn: resource.urn,
    name: resource.name,
    opts: { ...noOptions, ...(resource.parentUrn === undefined ? {} : { parent: resource.parentUrn }) },
    stackTags,
    isType,
    // The engine returns the props typed as the class's args; the cast is the engine's too.
    asType: ((resourceClass: object) => (isType(resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => settings as T,
    notApplicable,
  };
}

/** The argument bag the engine passes to `validateStack`, for all planned resources. */
export function stackValidationArgs(
  resources: readonly PlannedResource[],
  settings: Settings = {},
  stackTags: ReadonlyMap<string, string> = new Map(),
): StackValidationArgs {
  const byUrn = new Map<string, PolicyResource>();
  const policyResources = resources.map((resource): PolicyResource => {
    const args = resourceValidationArgs(resource, settings, stackTags);
    const policyResource: PolicyResource = {
      type: args.type,
      props: args.props,
      urn: args.urn,
      name: args.name,
      opts: args.opts,
      dependencies: [],
      propertyDependencies: {},
      isType: args.isType,
      asType: args.asType as PolicyResource["asType"],
    };
    byUrn.set(resource.urn, policyResource);
    return policyResource;
  });
  resources.forEach((resource, index) => {
    const parent = resource.parentUrn === undefined ? undefined : byUrn.get(resource.parentUrn);
    const policyResource = policyResources[index];
    if (parent !== undefined && policyResource !== undefined) policyResource.parent = parent;
  });
  return { resources: policyResources, stackTags, getConfig: <T extends object>() => settings as T, notApplicable };
}

/**
 * Runs a validation: `notApplicable()` means nothing to report; a value known only after apply means the policy
 * cannot judge yet, which is reported as advisory, as the engine does during a preview.
 */
async function runValidation(validation: () => Promise<void> | void, reportUndecided: (message: string) => void): Promise<void> {
  try {
    await validation();
  } catch (error) {
    if (error instanceof UnknownValueError) reportUndecided(`can't run before apply: ${error.message}`);
    else if (!(error instanceof NotApplicable)) throw error;
  }
}

function validationsOf(policy: ResourceValidationPolicy): ResourceValidation[] {
  const validations = policy.validateResource;
  if (validations === undefined) return [];
  return Array.isArray(validations) ? validations : [validations];
}

/** Every violation the policies report on these resources, resource policies first, in declaration order. */
export async function evaluatePolicies(
  resources: readonly PlannedResource[],
  options: EvaluationOptions = {},
): Promise<Violation[]> {
  const { policies = mediaplanePolicies, config = {}, stackTags = new Map<string, string>() } = options;
  const violations: Violation[] = [];
  const active = policies
    .map((policy) => ({ policy, enforcementLevel: enforcementLevelOf(policy, config), settings: settingsOf(policy, config) }))
    .filter(({ enforcementLevel }) => enforcementLevel !== "disabled");

  for (const { policy, enforcementLevel, settings } of active) {
    if (!isResourcePolicy(policy)) continue;
    for (const resource of resources) {
      const args = resourceValidationArgs(resource, settings, stackTags);
      const reportAs = (level: EnforcementLevel) => (message: string) =>
        violations.push({ policy: policy.name, enforcementLevel: level, message, urn: resource.urn });
      for (const validation of validationsOf(policy)) {
        // Typed validations announce their resource type, so the engine (and we) skip the others without a call.
        const typeFilter = pulumiTypeOf(validation);
        if (typeFilter !== undefined && typeFilter !== resource.type) continue;
        await runValidation(() => validation(args, reportAs(enforcementLevel)), reportAs("advisory"));
      }
    }
  }
  for (const { policy, enforcementLevel, settings } of active) {
    if (!isStackPolicy(policy)) continue;
    const args = stackValidationArgs(resources, settings, stackTags);
    const reportAs = (level: EnforcementLevel) => (message: string, urn?: string) =>
      violations.push({ policy: policy.name, enforcementLevel: level, message, ...(urn === undefined ? {} : { urn }) });
    await runValidation(() => policy.validateStack(args, reportAs(enforcementLevel)), reportAs("advisory"));
  }
  return violations;
}

/** Whether any violation blocks a deployment (remediation policies block too when they cannot fix the resource). */
export function blocksDeployment(violations: readonly Violation[]): boolean {
  return violations.some(({ enforcementLevel }) => enforcementLevel === "mandatory" || enforcementLevel === "remediate");
}

/** The plan's policy section: a headline with the count per enforcement level, then each violation's policy, resource and message. */
export function formatPolicyReport(violations: readonly Violation[], policyCount = mediaplanePolicies.length): string {
  const headline = `Policies (${policyCount} evaluated):`;
  if (violations.length === 0) return `${headline} no violations`;
  const counts = new Map<EnforcementLevel, number>();
  for (const { enforcementLevel } of violations) counts.set(enforcementLevel, (counts.get(enforcementLevel) ?? 0) + 1);
  const tally = [...counts].map(([level, count]) => `${count} ${level}`).join(", ");
  const lines = violations.map(
    ({ enforcementLevel, policy, urn, message }) => `  [${enforcementLevel}] ${policy}  ${urn ?? "(the stack)"}\n      ${message}`,
  );
  return [`${headline} ${tally} violation${violations.length === 1 ? "" : "s"}`, ...lines].join("\n");
}
