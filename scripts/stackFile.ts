import { readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "@mediaplane/balancer/config";
import { parseStackConfig, requiredSecrets, stackConfigKeys } from "../config/index.js";

/**
 * A stack file turned into what Pulumi's runtime would be handed: the config map (structured values as JSON) and
 * its secret keys. Secrets cannot be read offline (encrypted, or not set at all): each one needed gets a
 * clearly marked placeholder instead.
 */

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface OfflineStack {
  readonly project: string;
  readonly stack: string;
  readonly file: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  /** Secret keys that hold a placeholder, without the project prefix. */
  readonly placeholders: string[];
}

export function placeholderSecret(key: string): string {
  return `PLACEHOLDER-${key}-not-available-offline`;
}

export function projectName(root = repositoryRoot): string {
  const project = parseYaml(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as { name?: unknown };
  if (typeof project.name !== "string") throw new ConfigError("Pulumi.yaml: name: is required");
  return project.name;
}

/** `dev` means `stacks/Pulumi.dev.yaml`; a path to a `Pulumi.<stack>.yaml` file is taken as it is. */
export function stackFilePath(stackOrFile: string, root = repositoryRoot): { stack: string; file: string } {
  if (stackOrFile.endsWith(".yaml")) {
    const stack = basename(stackOrFile).replace(/^Pulumi\./, "").replace(/\.yaml$/, "");
    return { stack, file: resolve(stackOrFile) };
  }
  return { stack: stackOrFile, file: join(root, "stacks", `Pulumi.${stackOrFile}.yaml`) };
}

function readStackYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new ConfigError(`${file}: no such stack file (stacks live in stacks/Pulumi.<stack>.yaml)`);
  }
  const document = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
  return document.config ?? {};
}

const isEncrypted = (value: unknown): boolean => typeof value === "object" && value !== null && "secure" in value;

/** Reads a stack file for an offline run. `overrides` replace top-level keys (tests use them for wrong inputs). */
export function loadOfflineStack(
  stackOrFile: string,
  overrides: Readonly<Record<string, unknown>> = {},
  root = repositoryRoot,
): OfflineStack {
  const project = projectName(root);
  const { stack, file } = stackFilePath(stackOrFile, root);
  const prefix = `${project}:`;
  const values: Record<string, unknown> = { ...readStackYaml(file) };
  for (const [key, value] of Object.entries(overrides)) values[`${prefix}${key}`] = value;

  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  for (const [fullKey, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (isEncrypted(value)) {
      config[fullKey] = placeholderSecret(fullKey.slice(prefix.length));
      secretKeys.push(fullKey);
      placeholders.push(fullKey.slice(prefix.length));
    } else {
      config[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }

  // Secrets the settings need but the file does not hold: stand in placeholders. A config error is left for the
  // program to report, with the same message `pulumi preview` would print.
  const raw = Object.fromEntries(
    Object.entries(values)
      .map(([key, value]) => [key.slice(prefix.length), value] as const)
      .filter(([key]) => (stackConfigKeys as string[]).includes(key)),
  );
  try {
    for (const { key } of requiredSecrets(parseStackConfig(raw, project))) {
      const fullKey = `${prefix}${key}`;
      if (fullKey in config) continue;
      config[fullKey] = placeholderSecret(key);
      secretKeys.push(fullKey);
      placeholders.push(key);
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
  }
  return { project, stack, file, config, secretKeys, placeholders };
}
