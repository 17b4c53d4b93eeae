import { parseStackConfig } from "../../../config/index.js";
import { stackSettings } from "../../../scripts/stackFile.js";

/** The dev stack's settings as the stack file holds them, with some top-level keys replaced. */
export function devWith(overrides: Record<string, unknown>): Record<string, unknown> {
  return { ...stackSettings("dev"), ...overrides };
}

/** The one-line error a stack config gets; fails the test when the config is accepted. */
export function configErrorOf(raw: Record<string, unknown>): string {
  try {
    parseStackConfig(raw, "mediaplane");
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the config was accepted");
}
