import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { waitFor } from "../fleet/harness.js";
import { freePort, startRedis, type RedisServer } from "../support/redis.js";
import { field, get, computeSigned, tenants } from "./harness.js";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

let redis: RedisServer;
let simulator: Simulator;
let relay: Server;
/** The requests the balancer sent to the node, as they arrive: before the node's latency, which they then wait out. */
const relayed: string[] = [];
let dir: string;
let configFile: string;
let balancer: ChildProcess;
let base: string;

/** Stands between the balancer and a node, passing each request on as it is, to see it arrive. */
async function startRelay(nodeOrigin: string): Promise<Server> {
  const server = createServer((incoming, outgoing) => {
    relayed.push(incoming.url ?? "");
    const passed = request(new URL(incoming.url ?? "/", nodeOrigin), { method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    passed.on("error", () => outgoing.destroy());
    incoming.pipe(passed);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

/** Starts the real program (`src/main.ts`) as operators run it, and waits until it listens. */
async function startProgram(port: number, configFile: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(join(packageDir, "../node_modules/.bin/tsx"), [join(packageDir, "src/main.ts")], {
    env: { ...process.env, CONFIG_FILE: configFile, REDIS_URL: redis.url, PORT: String(port), LISTEN_HOST: "127.0.0.1", BASE_DOMAIN: "bbb.test", MODE: "api", ADMIN_HOST: "127.0.0.1", ADMIN_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`balancer did not start:\n${output}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("BBB API listening")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`balancer exited with ${code}:\n${output}`)));
  });
  return child;
}

beforeAll(async () => {
  redis = await startRedis();
  simulator = await startSimulator({ nodes: [{ id: "n1", secret: "n1-node-secret-0123456789" }] });
  const nodeUrl = new URL(simulator.node("n1").apiUrl);
  relay = await startRelay(nodeUrl.origin);
  dir = await mkdtemp(join(tmpdir(), "mediaplane-shutdown-"));
  configFile = join(dir, "balancer.yaml");
  await writeFile(
    configFile,
    JSON.stringify({
      tenants: [{ slug: "acme", secrets: [tenants.acme.secret] }],
      nodes: [{ id: "n1", url: `http://127.0.0.1:${(relay.address() as AddressInfo).port}${nodeUrl.pathname}`, secret: "n1-node-secret-0123456789" }],
    }),
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}/t/acme/bigbluebutton/api/`;
  balancer = await startProgram(port, configFile);
});
afterAll(async () => {
  if (balancer.exitCode === null) balancer.kill("SIGKILL");
  relay.closeAllConnections();
  relay.close();
  await simulator.close();
  await redis.close();
  await rm(dir, { recursive: true, force: true });
});

describe("SIGTERM", () => {
  it("finishes the request in flight, then exits 0 and accepts no more", async () => {
    const created = await get(`${base}create?${computeSigned(tenants.acme, "create", "name=Long&meetingID=slow-1")}`);
    expect(field(created.body, "returncode")).toBe("SUCCESS");
    simulator.node("n1").setLatency(1_500);
    const inFlight = get(`${base}getMeetingInfo?${computeSigned(tenants.acme, "getMeetingInfo", "meetingID=slow-1")}`);
    // In flight: the balancer has read the request and passed it to the node, which now waits out its latency.
    await waitFor(() => relayed.some((url) => url.includes("/getMeetingInfo?")), "the call on its way to the node");
    const exited = once(balancer, "exit");
    balancer.kill("SIGTERM");
    const answer = await inFlight;
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(field(answer.body, "meetingID")).toBe("slow-1");
    const [code] = await exited;
    expect(code).toBe(0);
    await expect(get(`${base}getMeetings?${computeSigned(tenants.acme, "getMeetings", "x=1")}`)).rejects.toThrow();
  });
});

/** A connection to the balancer that has sent `data` and waits: half a request, or a finished one kept alive. */
async function openConnection(port: number, data: string): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.on("error", () => undefined);
  socket.write(data);
  return socket;
}

describe("SIGTERM with clients that never finish", () => {
  it("exits 0 within its grace period although one client sent half a request and another keeps an idle connection", async () => {
    const port = await freePort();
    const program = await startProgram(port, configFile, { SHUTDOWN_GRACE_SECONDS: "1" });
    const path = `/t/acme/bigbluebutton/api/getMeetings?${computeSigned(tenants.acme, "getMeetings", "x=1")}`;
    const halfOpen = await openConnection(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    const idle = await openConnection(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    await once(idle, "data");
    const exited = once(program, "exit");
    const stoppedAt = performance.now();
    program.kill("SIGTERM");
    const [code] = await exited;
    // A correctness bound (the configured grace plus start-up of the stop), not a performance target.
    expect(performance.now() - stoppedAt).toBeLessThan(8_000);
    expect(code).toBe(0);
    halfOpen.destroy();
    idle.destroy();
  });
});
