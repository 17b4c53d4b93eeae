import { readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "@mediaplane/balancer/config";
import { bbbNodeSecretKey, bbbNodeSecretsKey, parseStackConfig, requiredSecrets, stackConfigKeys } from "../config/index.js";
import { repositoryRoot } from "./repositoryRoot.js";

/**
 * A stack file turned into what Pulumi's runtime would be handed: the config map (structured values as JSON) and
 * its secret keys. Secrets cannot be read offline (encrypted, or not set at all): each one needed gets a
 * clearly marked placeholder instead.
 */

export { repositoryRoot };

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

/**
 * A structured value may hold encrypted leaves (`pulumi config set --secret --path 'map["key"]'`): each leaf gets
 * its placeholder, named by its path, and the whole value is then a secret, as the engine hands it over.
 */
function placeholderLeaves(value: unknown, path: string): { value: unknown; placeholders: string[] } {
  if (isEncrypted(value)) return { value: placeholderSecret(path), placeholders: [path] };
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, i) => [i, item])
    : typeof value === "object" && value !== null
      ? Object.entries(value)
      : [];
  if (entries.length === 0) return { value, placeholders: [] };
  const replaced = entries.map(([key, item]) => [key, placeholderLeaves(item, `${path}[${JSON.stringify(key)}]`)] as const);
  const items = replaced.map(([key, item]) => [key, item.value] as const);
  return {
    value: Array.isArray(value) ? items.map(([, item]) => item) : Object.fromEntries(items),
    placeholders: replaced.flatMap(([, item]) => item.placeholders),
  };
}

function projectKeys(values: Record<string, unknown>, prefix: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

/** The project's keys of a stack file, without the `<project>:` prefix, as the stack file holds them. */
export function stackSettings(stackOrFile: string, root = repositoryRoot): Record<string, unknown> {
  return projectKeys(readStackYaml(stackFilePath(stackOrFile, root).file), `${projectName(root)}:`);
}

/** Reads a stack file for an offline run. */
export function loadOfflineStack(stackOrFile: string, root = repositoryRoot): OfflineStack {
  const project = projectName(root);
  const { stack, file } = stackFilePath(stackOrFile, root);
  const prefix = `${project}:`;
  const shortKey = (fullKey: string) => (fullKey.startsWith(prefix) ? fullKey.slice(prefix.length) : fullKey);

  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  const values = readStackYaml(file);
  for (const [fullKey, value] of Object.entries(values)) {
    const withPlaceholders = placeholderLeaves(value, shortKey(fullKey));
    const stored = withPlaceholders.value;
    config[fullKey] = typeof stored === "string" ? stored : JSON.stringify(stored);
    if (withPlaceholders.placeholders.length > 0) {
      secretKeys.push(fullKey);
      placeholders.push(...withPlaceholders.placeholders);
    }
  }

  // Secrets the settings need but the file does not hold: stand in placeholders. A config error is left for the
  // program to report, with the same message `pulumi preview` would print.
  const settings = projectKeys(values, prefix);
  const raw = Object.fromEntries(stackConfigKeys.map((key) => [key, settings[key]]));
  // A node whose secret is in the file's secret map needs no key of its own.
  const nodeMap = settings[bbbNodeSecretsKey];
  const inNodeMap = (key: string): boolean =>
    typeof nodeMap === "object" && nodeMap !== null && Object.keys(nodeMap).some((id) => key === bbbNodeSecretKey(id));
  try {
    for (const { key } of requiredSecrets(parseStackConfig(raw, project))) {
      const fullKey = `${prefix}${key}`;
      if (fullKey in config || inNodeMap(key)) continue;
      config[fullKey] = placeholderSecret(key);
      secretKeys.push(fullKey);
      placeholders.push(key);
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
  }
  return { project, stack, file, config, secretKeys, placeholders };
}
