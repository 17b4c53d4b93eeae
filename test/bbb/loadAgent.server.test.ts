import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchCpuFigure } from "../../balancer/src/poller/loadUrl.js";
import { freePort } from "../../balancer/test/support/redis.js";
import { makeLocalhostCertificates, type LocalhostCertificates } from "../../balancer/test/support/certificates.js";
import { loadAgentNginxLocation, loadAgentPath, loadAgentProgram } from "../../components/bbb/loadAgentFiles.js";
import { eventually, startProcess, type StartedProcess } from "../k8s/support/processes.js";

/**
 * The agent as a node runs it (the transpiled file the install command writes, under plain `node`), behind
 * Debian's nginx with the location the install command renders, inside an HTTPS server block as bbb-install's
 * site has one (bbb-install.sh, v3.0.x-release: `include /etc/bigbluebutton/nginx/*.nginx;` in the server block).
 * The balancer's own poller code reads it. Windows are 2 s and 4 s instead of 10 s and 60 s so the test stays short.
 */

const token = "load-agent-test-token-0123456789";
const windows = { shortSeconds: 2, longSeconds: 4 };
// The poller's undici (the balancer's own dependency), so its requests trust the test CA.
const balancerUndici = createRequire(new URL("../../balancer/package.json", import.meta.url))("undici") as typeof import("undici");

let dir: string;
let certificates: LocalhostCertificates;
let agent: { child: ChildProcess; output: () => string };
let nginx: StartedProcess;
let httpsPort: number;

const url = (query: string): string => `https://localhost:${httpsPort}${loadAgentPath}${query}`;

async function startAgent(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [join(dir, "load-agent.mjs")], { env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

function nginxConf(): string {
  return [
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "error.log")} warn;`,
    "worker_processes 1;",
    "events { worker_connections 64; }",
    "http {",
    `  access_log ${join(dir, "access.log")};`,
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `  ${kind}_temp_path ${join(dir, `${kind}-temp`)};`),
    "  server {",
    `    listen 127.0.0.1:${httpsPort} ssl;`,
    "    server_name localhost;",
    `    ssl_certificate ${certificates.cert};`,
    `    ssl_certificate_key ${certificates.key};`,
    `    include ${join(dir, "bigbluebutton-nginx")}/*.nginx;`,
    "  }",
    "}",
    "",
  ].join("\n");
}

async function status(query: string): Promise<number> {
  const { statusCode, body } = await balancerUndici.request(url(query));
  await body.text();
  return statusCode;
}

/** CPU busy/total jiffies from /proc/stat, to compare the agent's figure with the machine's own reading. */
async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/** Every core spinning for `ms` (each child stops itself; the test kills them too if they outlive it). */
async function busyEveryCore(ms: number): Promise<void> {
  const children = Array.from({ length: availableParallelism() }, () =>
    spawn(process.execPath, ["-e", `const end = Date.now() + ${ms}; while (Date.now() < end) {}`], { stdio: "ignore" }),
  );
  const guard = setTimeout(() => children.forEach((child) => child.kill("SIGKILL")), ms + 2_000);
  await Promise.all(children.map((child) => once(child, "exit")));
  clearTimeout(guard);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mediaplane-load-agent-"));
  // nginx's worker may run as another user than its master: it must reach the temp paths.
  await chmod(dir, 0o755);
  certificates = await makeLocalhostCertificates();
  await writeFile(join(dir, "load-agent.mjs"), loadAgentProgram());
  const agentPort = await freePort();
  httpsPort = await freePort();
  const started = await startAgent({
    LOAD_AGENT_TOKEN: token,
    LOAD_AGENT_LISTEN: `127.0.0.1:${agentPort}`,
    LOAD_AGENT_SHORT_SECONDS: String(windows.shortSeconds),
    LOAD_AGENT_LONG_SECONDS: String(windows.longSeconds),
    LOAD_AGENT_SAMPLE_MS: "250",
  });
  agent = started;
  await mkdir(join(dir, "bigbluebutton-nginx"));
  await writeFile(join(dir, "bigbluebutton-nginx", "mediaplane-load-agent.nginx"), loadAgentNginxLocation(agentPort));
  await writeFile(join(dir, "nginx.conf"), nginxConf());
  nginx = startProcess("nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"]);
  balancerUndici.setGlobalDispatcher(new balancerUndici.Agent({ connect: { ca: await readFile(certificates.ca, "utf8") } }));
  await eventually(async () => {
    if ((await status(`?token=${token}`)) !== 200) throw new Error(`agent not ready: ${agent.output()} ${nginx.output()}`);
  });
});

afterAll(async () => {
  await nginx?.stop();
  if (agent !== undefined && agent.child.exitCode === null) {
    agent.child.kill("SIGTERM");
    await once(agent.child, "exit");
  }
  await certificates?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("the CPU-load agent behind the node's nginx", () => {
  it("is read over HTTPS by the balancer's poller as a figure from 0 to 10000", async () => {
    const figure = await fetchCpuFigure(url(`?token=${token}`), 2_000);
    expect(figure).toBeGreaterThanOrEqual(0);
    expect(figure).toBeLessThanOrEqual(10_000);
    expect(Number.isInteger(figure)).toBe(true);
  });

  it("refuses a request without the token or with a wrong one, and the poller reports it", async () => {
    expect(await status("")).toBe(403);
    expect(await status("?token=wrong-token-0123456789abcdef")).toBe(403);
    expect(await status(`?token=${token}x`)).toBe(403);
    await expect(fetchCpuFigure(url("?token=nope"), 2_000)).rejects.toThrow("HTTP 403");
  });

  it("is not served at any other path", async () => {
    const { statusCode, body } = await balancerUndici.request(`https://localhost:${httpsPort}${loadAgentPath}/x?token=${token}`);
    await body.text();
    expect(statusCode).toBe(404);
  });

  it("rises to the top under a busy loop on every core", async () => {
    await busyEveryCore(3_000);
    expect(await fetchCpuFigure(url(`?token=${token}`), 2_000)).toBeGreaterThanOrEqual(8_000);
  });

  it("comes back down to what the machine does once the loop stops (others share this machine)", async () => {
    await busyEveryCore(3_000);
    const before = await cpuTimes();
    await sleep(windows.longSeconds * 1000 + 500);
    const after = await cpuTimes();
    const idle = await fetchCpuFigure(url(`?token=${token}`), 2_000);
    const machine = Math.round((10_000 * (after.busy - before.busy)) / (after.total - before.total));
    expect(Math.abs(idle - machine)).toBeLessThanOrEqual(1_500);
  });

  it("refuses to start without a token of at least 16 characters", async () => {
    const started = await startAgent({ LOAD_AGENT_TOKEN: "short", LOAD_AGENT_LISTEN: `127.0.0.1:${await freePort()}` });
    const [code] = (await once(started.child, "exit")) as [number];
    expect(code).toBe(2);
    expect(started.output()).toContain("LOAD_AGENT_TOKEN must be set to at least 16 characters");
  });
});
