import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBalancerConfigFile } from "../../src/config/schema.js";
import { importShare } from "../../src/recordings/importer.js";
import { getRecording } from "../../src/recordings/index.js";
import { formatDirectory } from "../../src/recordings/share.js";
import { callbackSecret } from "../api/harness.js";
import { freePort } from "../support/redis.js";
import { hookProgram, startRecordingFleet, treeOf, type RecordingFleet } from "./harness.js";

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL("../..", import.meta.url));
let rf: RecordingFleet;
let configFile: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  rf = await startRecordingFleet();
  configFile = join(rf.share, "..", "balancer.yaml");
  await writeFile(configFile, renderBalancerConfigFile(rf.fleet.config));
}, 30_000);
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  }
  await rf.close();
});

/** The balancer program in a mode, started as its pod starts it (node, the env the Deployment sets). */
async function startMode(mode: string, extra: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", `${packageDir}src/main.ts`], {
    cwd: packageDir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      MODE: mode,
      CONFIG_FILE: configFile,
      REDIS_URL: rf.fleet.redis.url,
      BASE_DOMAIN: "bbb.test",
      LISTEN_HOST: "127.0.0.1",
      ADMIN_HOST: "127.0.0.1",
      ADMIN_PORT: String(await freePort()),
      CALLBACK_SECRET: callbackSecret,
      ...extra,
    },
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("the recording modes run as their pods run them", () => {
  it("a recording sent to the recording-upload process is indexed by the importer process", async () => {
    const port = await freePort();
    const upload = await startMode("recording-upload", { RECORDINGS_DIR: rf.share, PORT: String(port) });
    const importer = await startMode("importer", { RECORDINGS_DIR: rf.share, IMPORT_INTERVAL_SECONDS: "1" });
    await waitFor(async () => upload.output().includes("recording upload endpoint listening"), `the upload endpoint:\n${upload.output()}`);

    const published = (await rf.record("globex", "modes"))!;
    const onShare = formatDirectory(rf.share, "globex", "published", "presentation", published.recordId);
    // The in-process endpoint of the harness took it first: the processes get it afresh.
    await rm(onShare, { recursive: true });
    const nodeId = published.directory.slice(rf.nodesDir.length + 1).split("/")[0] ?? "";
    const node = rf.fleet.config.nodes.find((entry) => entry.id === nodeId)!;
    const { stdout } = await run(hookProgram, ["-m", published.recordId, "-f", "presentation"], {
      env: {
        PATH: process.env["PATH"] ?? "/usr/bin:/bin",
        MEDIAPLANE_UPLOAD_URL: `http://127.0.0.1:${port}`,
        MEDIAPLANE_NODE_ID: node.id,
        MEDIAPLANE_NODE_SECRET: node.secret,
        BBB_PUBLISHED_DIR: join(rf.nodesDir, node.id, "published"),
        MEDIAPLANE_UPLOAD_CONFIG: "/nonexistent",
      },
    });
    expect(stdout).toContain("published");
    expect(await treeOf(onShare)).toEqual(await treeOf(published.directory));
    await waitFor(async () => (await getRecording(rf.redis, "globex", published.recordId)) !== undefined, `the importer to index it:\n${importer.output()}`);
    expect((await getRecording(rf.redis, "globex", published.recordId))?.meetingId).toBe("modes");
  }, 90_000);

  it("the playback process serves an indexed recording's files on its tenant's host", async () => {
    const published = (await rf.record("acme", "played"))!;
    await importShare(rf.context(), rf.importSettings);
    const port = await freePort();
    const playback = await startMode("playback", { RECORDINGS_DIR: rf.share, PORT: String(port) });
    await waitFor(async () => playback.output().includes("playback listening"), `the playback server:\n${playback.output()}`);
    const answer = await request(`http://127.0.0.1:${port}/presentation/${published.recordId}/metadata.xml`, { headers: { host: "acme.bbb.test" } });
    expect(answer.statusCode).toBe(200);
    expect(await answer.body.text()).toBe(await readFile(join(published.directory, "metadata.xml"), "utf8"));
  }, 90_000);

  it("refuses to start the importer without RECORDINGS_DIR, in one line naming it", async () => {
    const importer = await startMode("importer", {});
    const [code] = (await once(importer.child, "exit")) as [number];
    expect(code).toBe(1);
    expect(importer.output().trim()).toBe("environment variable RECORDINGS_DIR: is required in mode importer (where the recordings share is mounted)");
  }, 60_000);
});
