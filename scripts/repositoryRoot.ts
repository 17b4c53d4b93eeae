import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The checkout this script runs from. Its own module, free of workspace imports, so a script that needs only the
 * root (largeStack.ts) runs under plain `npx tsx`, which does not use the `source` export condition.
 */
export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
