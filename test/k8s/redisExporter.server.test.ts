import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { redisExporterContainer, redisExporterPort } from "../../components/k8s/Redis.js";
import { freePort, startRedis, type RedisServer } from "../../balancer/test/support/redis.js";

/**
 * The Redis exporter sidecar as its container runs it: Debian's build of redis_exporter 1.45.0 (the release the
 * image pins) started with no arguments and exactly the container's environment (redis_exporter's main.go reads
 * REDIS_ADDR, REDIS_PASSWORD and REDIS_EXPORTER_WEB_LISTEN_ADDRESS), the Secret's value in place of its reference.
 * Only the ports differ: a free loopback port for Redis and for the exporter instead of the pod's 6379 and 9121.
 */
const password = "exporter-test-password";
let redis: RedisServer | undefined;
let exporter: ChildProcess | undefined;

afterEach(async () => {
  if (exporter !== undefined && exporter.exitCode === null) {
    exporter.kill("SIGTERM");
    await once(exporter, "exit");
  }
  await redis?.close();
  exporter = undefined;
  redis = undefined;
});

/** The container's environment, resolved as the kubelet would, with the test's ports. */
function containerEnvironment(secretValue: string, redisPort: number, listenPort: number): Record<string, string> {
  const container = redisExporterContainer("docker.io/oliver006/redis_exporter:v1.45.0", "redis-auth");
  const env: Record<string, string> = {};
  for (const variable of container.env as Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>) {
    if (variable.valueFrom?.secretKeyRef !== undefined) {
      expect(variable.valueFrom.secretKeyRef).toEqual({ name: "redis-auth", key: "password" });
      env[variable.name] = secretValue;
    } else {
      env[variable.name] = String(variable.value);
    }
  }
  expect(env["REDIS_ADDR"]).toBe("redis://127.0.0.1:6379");
  expect(env["REDIS_EXPORTER_WEB_LISTEN_ADDRESS"]).toBe(`:${redisExporterPort}`);
  return { ...env, REDIS_ADDR: `redis://127.0.0.1:${redisPort}`, REDIS_EXPORTER_WEB_LISTEN_ADDRESS: `127.0.0.1:${listenPort}` };
}

async function startExporter(secretValue: string): Promise<string> {
  redis = await startRedis(["--requirepass", password]);
  const listenPort = await freePort();
  exporter = spawn("prometheus-redis-exporter", [], { env: { PATH: process.env["PATH"] ?? "", ...containerEnvironment(secretValue, redis.port, listenPort) }, stdio: "ignore" });
  const base = `http://127.0.0.1:${listenPort}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    // The container's readiness probe path.
    const healthy = await fetch(`${base}/health`).then((answer) => answer.status === 200, () => false);
    if (healthy) return base;
    if (exporter.exitCode !== null || Date.now() > deadline) throw new Error("the exporter never answered /health");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the Redis exporter sidecar", () => {
  it("reports Redis up, with its figures, when it has the password from the Secret", async () => {
    const base = await startExporter(password);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^redis_up 1$/m);
    expect(metrics).toMatch(/^redis_connected_clients \d+$/m);
    expect(metrics).toMatch(/^redis_commands_duration_seconds_total\{cmd="/m);
  });

  it("reports Redis down when the password is wrong: the password really comes from the environment", async () => {
    const base = await startExporter("not-the-password");
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^redis_up 0$/m);
  });
});
