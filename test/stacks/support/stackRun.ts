import { loadOfflineStack } from "../../../scripts/stackFile.js";
import { revealSecrets, type ProgramRun, type RecordedResource } from "../../../scripts/mockRuntime.js";
import { runProgramOnStack } from "../../../scripts/offlineProgram.js";

/** A stack's run under the mock runtime, with lookups that keep the tests about behaviour, not plumbing. */
export interface StackRun extends ProgramRun {
  /** Every resource of a type token. */
  ofType(type: string): RecordedResource[];
  /** The one resource of a type and logical name; throws when absent. */
  get(type: string, name: string): RecordedResource;
  /** Inputs with secrets unwrapped. */
  inputsOf(resource: RecordedResource): Record<string, unknown>;
  parentOf(resource: RecordedResource): RecordedResource | undefined;
}

/** Runs the real program on `stacks/Pulumi.<stack>.yaml`; one per test file (the runtime is global per process). */
export async function runStack(stack: string): Promise<StackRun> {
  const run = await runProgramOnStack(loadOfflineStack(stack));
  const byUrn = new Map(run.resources.map((resource) => [resource.urn, resource]));
  return {
    ...run,
    ofType: (type) => run.resources.filter((resource) => resource.type === type),
    get: (type, name) => {
      const found = run.resources.find((resource) => resource.type === type && resource.name === name);
      if (found === undefined) throw new Error(`no ${type} named ${name}`);
      return found;
    },
    inputsOf: (resource) => revealSecrets(resource.inputs) as Record<string, unknown>,
    parentOf: (resource) => (resource.parentUrn === undefined ? undefined : byUrn.get(resource.parentUrn)),
  };
}
