import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { looksLikeSecretName } from "./kubernetes/containerPolicies.js";
import { settingsOf } from "./policyConfig.js";

/** The stack itself, whose properties the engine hands to stack policies are the stack's outputs. */
export const stackType = "pulumi:pulumi:Stack";

/** Where inside an output a value named like a credential sits (`tenants.demo.secrets`), or undefined. */
function credentialPath(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = credentialPath(item, `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === "string") return /client-key-data|client-certificate-data|^\s*(token|password):/m.test(value) ? `${path} (a kubeconfig with a credential)` : undefined;
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (looksLikeSecretName(key)) return `${path}.${key}`;
    const found = credentialPath(item, `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

const secretOutputsSchema: PolicyConfigSchema = {
  properties: { secretOutputs: { type: "array", items: { type: "string" }, default: ["tenants", "operatorSecrets"] } },
};

export const noPlainSecretOutputs: StackValidationPolicy = {
  name: "stack-no-plain-secret-outputs",
  description:
    "No stack output carries a credential in plain text: outputs holding secrets are exported as Pulumi secrets and " +
    "named in the pack's config (secretOutputs); a kubeconfig with an embedded credential is never an output. The " +
    "engine hands policies secret values unwrapped, so the names in the config are what the pack can hold the stack to; " +
    "the program's tests prove those outputs are secret.",
  enforcementLevel: "mandatory",
  configSchema: secretOutputsSchema,
  validateStack: (args, reportViolation) => {
    const { secretOutputs } = settingsOf<{ secretOutputs: string[] }>(secretOutputsSchema, args);
    // An output known only after apply cannot be judged yet; the others still are, and then the policy says so.
    let undecided: unknown;
    for (const stack of args.resources.filter((resource) => resource.type === stackType)) {
      for (const [key, value] of Object.entries(stack.props)) {
        let path: string | undefined;
        try {
          path = credentialPath(value, key);
        } catch (unknownValue) {
          undecided ??= unknownValue;
          continue;
        }
        if (path === undefined) continue;
        const kubeconfig = path.endsWith("(a kubeconfig with a credential)");
        if (kubeconfig || !secretOutputs.includes(key)) {
          reportViolation(`stack output ${path} holds a credential${kubeconfig ? "" : "; export it as a secret and name it in secretOutputs"}`, stack.urn);
        }
      }
    }
    if (undecided !== undefined) throw undecided;
  },
};
