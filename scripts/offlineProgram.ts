import { runProgramWithMocks, type ProgramRun } from "./mockRuntime.js";
import type { OfflineStack } from "./stackFile.js";

/** Runs the real program (`index.ts`) on a stack file's config under the mock runtime: the plan and the stack tests. */
export function runProgramOnStack(stack: OfflineStack): Promise<ProgramRun> {
  return runProgramWithMocks({
    project: stack.project,
    stack: stack.stack,
    config: stack.config,
    secretKeys: stack.secretKeys,
    loadProgram: () => import("../index.js"),
  });
}
