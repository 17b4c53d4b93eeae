import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "@mediaplane/balancer/config";
import { parseStackConfig, stackConfigKeys, type StackConfig } from "./stackConfig.js";
import { readStackSecrets, type StackSecrets } from "./secrets.js";

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

/** The only place that reads Pulumi config: every top-level key once, then one parse. */
export function loadStackConfig(config: pulumi.Config = new pulumi.Config()): LoadedStackConfig {
  const raw = Object.fromEntries(stackConfigKeys.map((key) => [key, readObject(config, key)]));
  const settings = parseStackConfig(raw, config.name);
  return { settings, secrets: readStackSecrets(config, settings) };
}
