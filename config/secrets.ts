import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./stackConfig.js";

/** A Pulumi secret the stack needs, with what it is, so errors and the README can say how to set it. */
export interface SecretRequirement {
  /** Config key without the project prefix. */
  readonly key: string;
  readonly description: string;
}

export const acmeTsigSecretKey = "acmeTsigSecret";

/** One key per node, so `pulumi config set --secret` stays a one-liner and a missing one is named exactly. */
export function bbbNodeSecretKey(nodeId: string): string {
  return `bbbNodeSecret-${nodeId}`;
}

/** Every secret the given settings need: the TSIG key when ACME is on, the API secret of every BBB node. */
export function requiredSecrets(config: Pick<StackConfig, "acme" | "bbb">): SecretRequirement[] {
  return [
    ...(config.acme
      ? [{ key: acmeTsigSecretKey, description: `TSIG secret (base64) of key ${config.acme.tsigKeyName} for RFC2136 DNS-01` }]
      : []),
    ...config.bbb.nodes.map((node) => ({
      key: bbbNodeSecretKey(node.id),
      description: `API secret of BBB node ${node.id} (bbb-conf --secret on the node)`,
    })),
  ];
}

/** The stack's secrets as Pulumi secret outputs: their values never leave the secret wrapper. */
export interface StackSecrets {
  readonly acmeTsigSecret: pulumi.Output<string> | undefined;
  /** By node id. */
  readonly bbbNodeSecrets: Readonly<Record<string, pulumi.Output<string>>>;
}

/** Reads every required secret; the missing ones are listed, each with the command that sets it. */
export function readStackSecrets(config: pulumi.Config, settings: StackConfig): StackSecrets | { problems: string[] } {
  const values = new Map<string, pulumi.Output<string>>();
  const problems: string[] = [];
  for (const requirement of requiredSecrets(settings)) {
    const value = config.getSecret(requirement.key);
    if (value === undefined) {
      problems.push(
        `${config.name}:${requirement.key}: is required (${requirement.description}); ` +
          `set it with: pulumi config set --secret ${requirement.key} <value>`,
      );
    } else {
      values.set(requirement.key, value);
    }
  }
  if (problems.length > 0) return { problems };
  const bbbNodeSecrets: Record<string, pulumi.Output<string>> = {};
  for (const node of settings.bbb.nodes) {
    const value = values.get(bbbNodeSecretKey(node.id));
    if (value !== undefined) bbbNodeSecrets[node.id] = value;
  }
  return { acmeTsigSecret: values.get(acmeTsigSecretKey), bbbNodeSecrets };
}
