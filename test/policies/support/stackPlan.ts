import { runProgramWithMocks, type RecordedResource } from "../../../scripts/mockRuntime.js";
import { loadOfflineStack } from "../../../scripts/stackFile.js";

/** Every resource the real program declares for a stack, exactly as the offline plan sees them (one stack per process). */
export async function resourcesOfStack(stackName: string): Promise<readonly RecordedResource[]> {
  const stack = loadOfflineStack(stackName);
  const run = await runProgramWithMocks({
    project: stack.project,
    stack: stack.stack,
    config: stack.config,
    secretKeys: stack.secretKeys,
    loadProgram: () => import("../../../index.js"),
  });
  return run.resources;
}
