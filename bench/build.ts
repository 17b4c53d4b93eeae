import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { progress } from "./progress.js";

const run = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL("..", import.meta.url));
const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));

/**
 * The measured servers run as compiled JavaScript, as in a deployment: a TypeScript loader costs about 30 MB of
 * RSS and a thread of its own, which would blur the memory figure and the ratio to the baseline. The balancer is
 * compiled with its own build config (its `dist/` is what the image runs); the reference servers with
 * bench/tsconfig.build.json.
 */
export const builtBalancerMain = fileURLToPath(new URL("../balancer/dist/main.js", import.meta.url));
export const builtBaseline = fileURLToPath(new URL("./dist/servers/baseline.js", import.meta.url));
export const builtJoinFloor = fileURLToPath(new URL("./dist/servers/joinFloor.js", import.meta.url));
export const builtNaiveJoin = fileURLToPath(new URL("./dist/servers/naiveJoin.js", import.meta.url));
export const builtFixedBody = fileURLToPath(new URL("./dist/servers/fixedBody.js", import.meta.url));
export const builtRushFloor = fileURLToPath(new URL("./dist/servers/rushFloor.js", import.meta.url));

async function compile(project: string, output: string): Promise<void> {
  const started = Date.now();
  try {
    await run(process.execPath, [tsc, "-p", project], { cwd: repositoryRoot });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    // tsc still emits on type errors; a stale or missing output is what makes a run meaningless.
    const emitted = await stat(output).then((info) => info.mtimeMs >= started - 1_000, () => false);
    if (!emitted) throw new Error(`${project} does not build:\n${stdout}${stderr}`);
    progress(`warning: ${project} has type errors (output emitted, measuring it anyway):\n${stdout}${stderr}`);
  }
}

export async function buildMeasuredServers(): Promise<void> {
  await compile("balancer/tsconfig.build.json", builtBalancerMain);
  await compile("bench/tsconfig.build.json", builtBaseline);
}
