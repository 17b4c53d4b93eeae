import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdminServer, type RunningAdminServer } from "../../src/admin/adminServer.js";
import { runCli } from "../../src/cli/run.js";
import { renderBalancerConfigFile } from "../../src/config/schema.js";
import { keys } from "../../src/store/keys.js";
import { poolMembers, startFleet, type Fleet } from "../fleet/harness.js";
import { startRedisCluster, type RedisCluster } from "../support/redisCluster.js";

/** The operators' tools, each building its own client from a `redis+cluster://` REDIS_URL. */
const adminToken = "admin-token-0123456789";
let cluster: RedisCluster;
let fleet: Fleet<RedisCluster>;
let admin: RunningAdminServer;
let dir: string;
let cliEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  cluster = await startRedisCluster();
  fleet = await startFleet({ nodes: 2, redisServer: cluster });
  admin = await startAdminServer({ config: fleet.config, redisUrl: cluster.url, host: "127.0.0.1", port: 0, token: adminToken, logger: fleet.logger });
  dir = await mkdtemp(join(tmpdir(), "mediaplane-cluster-cli-"));
  const configFile = join(dir, "balancer.yaml");
  await writeFile(configFile, renderBalancerConfigFile(fleet.configInput));
  cliEnv = { CONFIG_FILE: configFile, REDIS_URL: cluster.url, BASE_DOMAIN: "bbb.example.org" };
}, 60_000);

afterAll(async () => {
  await admin?.close();
  await fleet?.close();
  await cluster?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("the admin server on a Redis Cluster", () => {
  it("is ready and reports every tenant and node", async () => {
    expect((await fetch(`${admin.url}/readyz`)).status).toBe(200);
    await fleet.createMeeting("globex", "weekly", "bbb2");
    const response = await fetch(`${admin.url}/admin/stats`, { headers: { authorization: `Bearer ${adminToken}` } });
    const stats = (await response.json()) as { tenants: Record<string, { meetings: number }>; nodes: Array<{ id: string }> };
    expect(stats.tenants["globex"]?.meetings).toBe(1);
    expect(stats.tenants["acme"]?.meetings).toBe(0);
    expect(stats.nodes.map((node) => node.id)).toEqual(["bbb1", "bbb2"]);
  });
});

describe("the admin CLI on a Redis Cluster", () => {
  it("cordons a node: out of the pool, its state kept in Redis", async () => {
    const { code, stderr } = await runCli(["cordon", "bbb1"], cliEnv);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(await poolMembers(fleet)).toEqual(["bbb2"]);
    expect(await fleet.redis.hget(keys.node("default", "bbb1"), "state")).toBe("cordoned");
  });

  it("fails with one line when the cluster seed does not answer", async () => {
    const { code, stderr } = await runCli(["nodes"], { ...cliEnv, REDIS_URL: "redis+cluster://127.0.0.1:1" });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^failed: /);
    expect(stderr.split("\n")).toHaveLength(1);
  });
});
