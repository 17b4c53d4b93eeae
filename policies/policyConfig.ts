import type { PolicyConfigSchema } from "@pulumi/policy";

/**
 * A policy's settings: the defaults of its config schema, overridden by what the engine was configured with. The
 * engine may hand a policy no config at all (no `--policy-pack-config`), so a policy never relies on it alone.
 */
export function settingsOf<T extends object>(schema: PolicyConfigSchema, args: { getConfig<C extends object>(): C }): T {
  const defaults = Object.fromEntries(
    Object.entries(schema.properties).flatMap(([key, property]) => (property.default === undefined ? [] : [[key, property.default]])),
  );
  return { ...defaults, ...args.getConfig<object>() } as T;
}
