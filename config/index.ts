import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "@mediaplane/balancer/config";
import { parseStackConfig, stackConfigKeys, type StackConfig } from "./stackConfig.js";
import { acmeTsigSecretKey, bbbNodeSecretKey, readStackSecrets, type StackSecrets } from "./secrets.js";

export * from "./stackConfig.js";
export * from "./secrets.js";
export * from "./balancerConfig.js";

/** What the program knows about its stack: typed settings and secret outputs. */
export interface LoadedStackConfig {
  readonly settings: StackConfig;
  readonly secrets: StackSecrets;
}

function readObject(config: pulumi.Config, key: string): unknown {
  try {
    return config.getObject<unknown>(key);
  } catch {
    throw new ConfigError(`${config.name}:${key}: must be a YAML object or list, not a plain string`);
  }
}

/** A misspelt top-level key would otherwise be silently ignored and its section left at defaults. */
function rejectUnknownKeys(project: string): void {
  const isKnown = (key: string) =>
    (stackConfigKeys as string[]).includes(key) || key === acmeTsigSecretKey || key.startsWith(bbbNodeSecretKey(""));
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(`${project}:`)) continue;
    const key = fullKey.slice(project.length + 1);
    if (!isKnown(key)) {
      throw new ConfigError(`${fullKey}: unknown key (keys: ${stackConfigKeys.join(", ")}, ${acmeTsigSecretKey}, ${bbbNodeSecretKey("<node id>")})`);
    }
  }
}

/** The only place that reads Pulumi config: every top-level key once, then one parse. */
export function loadStackConfig(config: pulumi.Config = new pulumi.Config()): LoadedStackConfig {
  rejectUnknownKeys(config.name);
  const raw = Object.fromEntries(stackConfigKeys.map((key) => [key, readObject(config, key)]));
  const settings = parseStackConfig(raw, config.name);
  return { settings, secrets: readStackSecrets(config, settings) };
}
