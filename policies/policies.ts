import type { EnforcementLevel, Policies } from "@pulumi/policy";
import { azurePolicies } from "./azurePolicies.js";
import { containerPolicies } from "./kubernetes/containerPolicies.js";
import { stackPolicies } from "./kubernetes/stackPolicies.js";
import { noPlainSecretOutputs } from "./stackOutputs.js";

/** Name of the pack as `pulumi preview --policy-pack policies` reports it. */
export const policyPackName = "mediaplane";

/** A policy that does not say otherwise blocks the deployment. */
export const defaultEnforcementLevel: EnforcementLevel = "mandatory";

/** Every policy a mediaplane stack must pass; `index.ts` serves them to the Pulumi engine, the offline plan evaluates them itself. */
export const mediaplanePolicies: Policies = [...containerPolicies, ...stackPolicies, ...azurePolicies, noPlainSecretOutputs];
