import * as pulumi from "@pulumi/pulumi";
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

/** All referenced nodes' secrets in one secret map (node id to secret): one entry per node instead of one key each. */
export const bbbNodeSecretsKey = "bbbNodeSecrets";

/** Private half of `bbb.fleet.sshPublicKey`: the remote commands log in to the stack's own BBB nodes with it. */
export const bbbSshPrivateKeyKey = "bbbSshPrivateKey";

/** Every secret the given settings need: the TSIG key when ACME is on, the API secret of every BBB node. */
export function requiredSecrets(config: Pick<StackConfig, "acme" | "bbb">): SecretRequirement[] {
  return [
    ...(config.acme
      ? [{ key: acmeTsigSecretKey, description: `TSIG secret (base64) of key ${config.acme.tsigKeyName} for RFC2136 DNS-01` }]
      : []),
    ...(config.bbb.fleet
      ? [{ key: bbbSshPrivateKeyKey, description: "OpenSSH private key whose public half is bbb.fleet.sshPublicKey" }]
      : []),
    ...config.bbb.nodes.map((node) => ({
      key: bbbNodeSecretKey(node.id),
      description: `API secret of BBB node ${node.id} (bbb-conf --secret on the node)`,
    })),
  ];
}

const isNodeSecretKey = (key: string): boolean => key.startsWith(bbbNodeSecretKey(""));

/**
 * The `bbbNodeSecrets` map as stored: an object of strings naming only referenced nodes. Read raw, because
 * `getSecretObject` hides the entries inside one output and the program must know which nodes are covered.
 */
function readNodeSecretMap(config: pulumi.Config, nodeIds: readonly string[]): { secrets: Map<string, string>; problems: string[] } {
  const key = `${config.name}:${bbbNodeSecretsKey}`;
  const raw = pulumi.runtime.getConfig(key);
  if (raw === undefined) return { secrets: new Map(), problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { secrets: new Map(), problems: [`${key}: must be a map of node id to API secret`] };
  }
  const secrets = new Map<string, string>();
  const problems: string[] = [];
  for (const [id, value] of Object.entries(parsed)) {
    if (!nodeIds.includes(id)) problems.push(`${key}["${id}"]: not a node of bbb.nodes (nodes: ${nodeIds.join(", ") || "none"})`);
    else if (typeof value !== "string" || value === "") problems.push(`${key}["${id}"]: must be the node's API secret as a string`);
    else secrets.set(id, value);
  }
  return { secrets, problems };
}

/**
 * Each referenced node's API secret, from the `bbbNodeSecrets` map or its own `bbbNodeSecret-<id>` key (the map
 * wins). Nodes with neither are named together on one line: 200 nodes are one problem, not 200.
 */
function readNodeSecrets(
  config: pulumi.Config,
  settings: StackConfig,
): { secrets: Record<string, pulumi.Output<string>>; problems: string[] } {
  const nodeIds = settings.bbb.nodes.map((node) => node.id);
  const fromMap = readNodeSecretMap(config, nodeIds);
  const secrets: Record<string, pulumi.Output<string>> = {};
  const missing: string[] = [];
  for (const id of nodeIds) {
    const value = fromMap.secrets.get(id);
    const own = value === undefined ? config.getSecret(bbbNodeSecretKey(id)) : pulumi.secret(value);
    if (own === undefined) missing.push(id);
    else secrets[id] = own;
  }
  const problems = [...fromMap.problems];
  if (missing.length > 0) {
    problems.push(
      `${config.name}:${bbbNodeSecretsKey}: no API secret for BBB node${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ` +
        `(bbb-conf --secret on each); set them with: pulumi config set --secret --path '${bbbNodeSecretsKey}["<node id>"]' <value>`,
    );
  }
  return { secrets, problems };
}

/** The stack's secrets as Pulumi secret outputs: their values never leave the secret wrapper. */
export interface StackSecrets {
  readonly acmeTsigSecret: pulumi.Output<string> | undefined;
  /** Set whenever `bbb.fleet` is. */
  readonly bbbSshPrivateKey: pulumi.Output<string> | undefined;
  /** By node id. */
  readonly bbbNodeSecrets: Readonly<Record<string, pulumi.Output<string>>>;
}

/** Reads every required secret; the missing ones are listed, each with the command that sets it. */
export function readStackSecrets(config: pulumi.Config, settings: StackConfig): StackSecrets | { problems: string[] } {
  const values = new Map<string, pulumi.Output<string>>();
  const problems: string[] = [];
  for (const requirement of requiredSecrets(settings).filter(({ key }) => !isNodeSecretKey(key))) {
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
  const nodeSecrets = readNodeSecrets(config, settings);
  problems.push(...nodeSecrets.problems);
  if (problems.length > 0) return { problems };
  return {
    acmeTsigSecret: values.get(acmeTsigSecretKey),
    bbbSshPrivateKey: values.get(bbbSshPrivateKeyKey),
    bbbNodeSecrets: nodeSecrets.secrets,
  };
}
