import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "@mediaplane/balancer/config";
import { stackConfigKeys, stackConfigProblems, type StackConfig } from "./stackConfig.js";
import { acmeTsigSecretKey, bbbNodeSecretKey, bbbNodeSecretsKey, bbbSshPrivateKeyKey, readStackSecrets, type StackSecrets } from "./secrets.js";

export * from "./stackConfig.js";
export * from "./secrets.js";
export * from "./balancerConfig.js";
export * from "./bbbFleet.js";

/** What the program knows about its stack: typed settings and secret outputs. */
export interface LoadedStackConfig {
  readonly settings: StackConfig;
  readonly secrets: StackSecrets;
}

/** The key's value, or the problem with it (a structured key holding a plain string). */
function readObject(config: pulumi.Config, key: string): { value: unknown } | { problem: string } {
  try {
    return { value: config.getObject<unknown>(key) };
  } catch {
    return { problem: `${config.name}:${key}: must be a YAML object or list, not a plain string` };
  }
}

/** A misspelt top-level key would otherwise be silently ignored and its section left at defaults. */
function unknownKeyProblems(project: string): string[] {
  const isKnown = (key: string) =>
    (stackConfigKeys as string[]).includes(key) ||
    [acmeTsigSecretKey, bbbNodeSecretsKey, bbbSshPrivateKeyKey].includes(key) ||
    key.startsWith(bbbNodeSecretKey(""));
  return Object.keys(pulumi.runtime.allConfig())
    .filter((fullKey) => fullKey.startsWith(`${project}:`) && !isKnown(fullKey.slice(project.length + 1)))
    .map(
      (fullKey) =>
        `${fullKey}: unknown key (keys: ${stackConfigKeys.join(", ")}, ${acmeTsigSecretKey}, ${bbbNodeSecretsKey}, ${bbbNodeSecretKey("<node id>")}, ${bbbSshPrivateKeyKey})`,
    );
}

/**
 * The only place that reads Pulumi config: every top-level key once, then one parse. Every problem of the stack's
 * config (unknown keys, unreadable values, invalid settings, missing secrets) is reported in one ConfigError, a line each.
 */
export function loadStackConfig(config: pulumi.Config = new pulumi.Config()): LoadedStackConfig {
  const problems = unknownKeyProblems(config.name);
  const raw: Record<string, unknown> = {};
  for (const key of stackConfigKeys) {
    const read = readObject(config, key);
    if ("problem" in read) problems.push(read.problem);
    else raw[key] = read.value;
  }
  const parsed = stackConfigProblems(raw, config.name);
  problems.push(...parsed.problems);
  // Secrets are judged only on valid settings: which ones are needed depends on them.
  const secrets = parsed.settings === undefined ? undefined : readStackSecrets(config, parsed.settings);
  if (secrets !== undefined && "problems" in secrets) problems.push(...secrets.problems);
  if (parsed.settings === undefined || secrets === undefined || "problems" in secrets || problems.length > 0) {
    throw new ConfigError(problems.join("\n"));
  }
  return { settings: parsed.settings, secrets };
}
