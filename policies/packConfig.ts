import type { EnforcementLevel, PolicyPackConfig } from "@pulumi/policy";
import { mediaplanePolicies } from "./policies.js";

/**
 * Reads a policy pack config file in the engine's format (`pulumi preview --policy-pack-config <file>`): per policy
 * an enforcement level, or an object with an optional `enforcementLevel` and the policy's settings. The offline plan
 * takes the same file, so raising a policy to mandatory fails the plan exactly as it fails a preview.
 */

const enforcementLevels: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

function isEnforcementLevel(value: unknown): value is EnforcementLevel {
  return enforcementLevels.includes(value as EnforcementLevel);
}

/** The parsed config; throws one message naming the file and the offending policy or value. */
export function parsePolicyPackConfig(text: string, source: string, policyNames = mediaplanePolicies.map(({ name }) => name)): PolicyPackConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`${source}: must be an object of policy names`);
  }
  const allowedLevels = enforcementLevels.join(", ");
  for (const [policy, entry] of Object.entries(parsed)) {
    if (!policyNames.includes(policy)) throw new Error(`${source}: ${policy}: no such policy in the pack`);
    const hasSettings = typeof entry === "object" && entry !== null && !Array.isArray(entry);
    const level: unknown = hasSettings ? (entry as Record<string, unknown>)["enforcementLevel"] : entry;
    if (hasSettings && level === undefined) continue;
    if (!isEnforcementLevel(level)) throw new Error(`${source}: ${policy}: enforcement level must be one of ${allowedLevels}`);
  }
  return parsed as PolicyPackConfig;
}
