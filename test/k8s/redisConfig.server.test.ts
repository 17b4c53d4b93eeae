import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRedisConfig, renderRedisPasswordFile } from "../../components/k8s/render/redis.js";
import { freePort } from "../../balancer/test/support/redis.js";

// The rendered file and the password file it includes, started by a real redis-server as the container starts it.
// The password carries what the config syntax must quote (quotes, a backslash, spaces, a '#').
const password = 'p"w \\ d #1';
let server: ChildProcess;
let client: Redis;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mediaplane-redis-config-"));
  const file = join(dir, "redis.conf");
  const passwordFile = join(dir, "requirepass.conf");
  // The cluster binds all interfaces inside the pod; here only loopback may be used.
  const rendered = renderRedisConfig({ maxMemoryMb: 16, dataDir: dir, appendFsync: "everysec", passwordFile }).replace("bind 0.0.0.0", "bind 127.0.0.1");
  await writeFile(file, rendered);
  await writeFile(passwordFile, renderRedisPasswordFile(password));
  const port = await freePort();
  server = spawn("redis-server", [file, "--port", String(port)], { stdio: "ignore" });
  client = new Redis({ port, host: "127.0.0.1", password, retryStrategy: (times) => (times > 100 ? null : 50) });
  // Connection attempts fail until the server listens: the client retries, so an error is only kept to explain
  // a wait that ends without a connection (server dead, or retries used up).
  let lastError: Error | undefined;
  client.on("error", (error: Error) => (lastError = error));
  await new Promise((resolve, reject) => {
    client.once("ready", resolve);
    client.once("end", () => reject(new Error(`redis-server never accepted a connection: ${lastError?.message ?? "no error reported"}`)));
    server.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: the rendered config was refused`)));
  });
});

afterAll(async () => {
  client.disconnect();
  server.kill("SIGTERM");
  await new Promise((resolve) => server.once("exit", resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("the rendered redis.conf on a real redis-server", () => {
  it("takes the password, quoted, from the included file", async () => {
    expect(await client.config("GET", "requirepass")).toEqual(["requirepass", password]);
  });

  it("is accepted, with noeviction and the append-only file on", async () => {
    expect(await client.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
    expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
  });

  it("answers OOM instead of evicting keys once maxmemory is reached", async () => {
    const value = "x".repeat(64 * 1024);
    let refused: Error | undefined;
    for (let i = 0; i < 1000 && refused === undefined; i++) {
      await client.set(`meeting:${i}`, value).catch((error: Error) => {
        refused = error;
      });
    }
    expect(refused?.message).toMatch(/OOM/);
    expect(await client.exists("meeting:0")).toBe(1);
  });
});
