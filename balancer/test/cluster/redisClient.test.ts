import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../src/store/keys.js";
import { connectRedis, parseRedisUrl, primaries, type RedisClient } from "../../src/store/redisClient.js";
import { pipelineBySlot } from "../../src/store/slotPipeline.js";
import { startRedisCluster, type RedisCluster } from "../support/redisCluster.js";

describe("parseRedisUrl", () => {
  it("reads a managed cache URL: TLS, password, no cluster", () => {
    expect(parseRedisUrl("rediss://:p%40ss@cache.example.net:6380")).toEqual({
      cluster: false,
      tls: true,
      host: "cache.example.net",
      port: 6380,
      username: undefined,
      password: "p@ss",
      db: 0,
    });
  });

  it("reads a cluster seed from redis+cluster:// and rediss+cluster://", () => {
    expect(parseRedisUrl("redis+cluster://10.0.0.5:7000")).toMatchObject({ cluster: true, tls: false, host: "10.0.0.5", port: 7000 });
    expect(parseRedisUrl("rediss+cluster://user:secret@cache.example.net")).toMatchObject({ cluster: true, tls: true, port: 6379, username: "user", password: "secret" });
  });

  it("refuses a database number on a cluster, which has only database 0", () => {
    expect(() => parseRedisUrl("redis+cluster://127.0.0.1:7000/2")).toThrow("REDIS_URL: a Redis Cluster has only database 0");
  });

  it("names an unknown scheme without echoing the URL's password", () => {
    let message = "";
    try {
      parseRedisUrl("http://:hunter2@redis:6379");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('unknown scheme "http:"');
    expect(message).not.toContain("hunter2");
  });
});

describe("on a real three-master Redis Cluster", () => {
  let cluster: RedisCluster;
  let redis: RedisClient;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = connectRedis(cluster.url);
  }, 60_000);

  afterAll(async () => {
    await redis?.quit();
    await cluster?.close();
  });

  it("connects as a Cluster client that sees every master", async () => {
    expect(redis).toBeInstanceOf(Cluster);
    expect(await primaries(redis)).toHaveLength(3);
  });

  it("answers a pipeline spanning many tenants' and clusters' slots in the commands' order", async () => {
    const tenants = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
    await Promise.all(tenants.map((tenant, i) => redis.hset(keys.meetings(tenant), ...Array.from({ length: i + 1 }, (_, m) => [`m${m}`, "node"]).flat())));
    await redis.zadd(keys.pool("west"), 3, "w1");
    const replies = await pipelineBySlot(redis, [...tenants.map((tenant) => ["hlen", keys.meetings(tenant)] as const), ["zscore", keys.pool("west"), "w1"]]);
    expect(replies).toEqual([...tenants.map((_, i) => i + 1), "3"]);
  });

  it("is needed: the cluster refuses one plain pipeline across slots", async () => {
    const pipeline = redis.pipeline();
    for (const tenant of ["acme", "globex", "initech", "umbrella"]) pipeline.hlen(keys.meetings(tenant));
    await expect(pipeline.exec()).rejects.toThrow(/same slot/);
  });

  it("fails the call when one command of a pipeline fails", async () => {
    await redis.set(keys.revision("acme"), "7");
    await expect(pipelineBySlot(redis, [["hlen", keys.meetings("globex")], ["hlen", keys.revision("acme")]])).rejects.toThrow(/WRONGTYPE/);
  });

  it("reaches a cluster that requires a password, with the password from the URL on every node", async () => {
    const guarded = await startRedisCluster({ password: "p@ss word" });
    const client = connectRedis(guarded.url);
    try {
      const replies = await pipelineBySlot(client, ["acme", "globex", "initech"].map((tenant) => ["hlen", keys.meetings(tenant)] as const));
      expect(replies).toEqual([0, 0, 0]);
      const withoutPassword = connectRedis(guarded.url.replace(/\/\/[^@]*@/, "//"), { failFast: true });
      withoutPassword.on("error", () => undefined);
      await expect(withoutPassword.get("probe")).rejects.toThrow();
      withoutPassword.disconnect();
    } finally {
      client.disconnect();
      await guarded.close();
    }
  }, 60_000);

  it("gives a single server one plain client", async () => {
    const single = connectRedis(`redis://127.0.0.1:${cluster.masters[0]!.port}`, { failFast: true });
    expect(single).toBeInstanceOf(Redis);
    expect(await primaries(single)).toEqual([single]);
    single.disconnect();
  });
});
