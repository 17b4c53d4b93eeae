import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { JoinCharges } from "../../src/store/joinCharges.js";
import { keys } from "../../src/store/keys.js";
import { startRedis, type RedisServer } from "../support/redis.js";

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { enableAutoPipelining: true });
});
afterAll(async () => {
  redis.disconnect();
  await server.close();
});
beforeEach(async () => {
  await redis.flushall();
  await redis.zadd(keys.pool("east"), 10, "n1", 20, "n2");
  await redis.zadd(keys.pool("west"), 5, "n1");
  await redis.config("RESETSTAT");
});

const zaddCalls = async (): Promise<number> => Number(/cmdstat_zadd:calls=(\d+)/.exec(await redis.info("commandstats"))?.[1] ?? 0);
const noFailure = (error: unknown): never => {
  throw error;
};

describe("join charges", () => {
  it("add each join's cost to its node's load in its own cluster's pool", async () => {
    const charges = new JoinCharges(redis, noFailure);
    charges.charge({ id: "n1", cluster: "east" }, 1.5);
    charges.charge({ id: "n1", cluster: "west" }, 2);
    await charges.settled();
    expect(await redis.zscore(keys.pool("east"), "n1")).toBe("11.5");
    expect(await redis.zscore(keys.pool("west"), "n1")).toBe("7");
    expect(await redis.zscore(keys.pool("east"), "n2")).toBe("20");
  });

  it("send the joins of one turn as one ZADD per node, summed", async () => {
    const charges = new JoinCharges(redis, noFailure);
    for (let i = 0; i < 50; i++) charges.charge({ id: i % 2 === 0 ? "n1" : "n2", cluster: "east" }, 1);
    await charges.settled();
    expect(await zaddCalls()).toBe(2);
    expect(await redis.zscore(keys.pool("east"), "n1")).toBe("35");
    expect(await redis.zscore(keys.pool("east"), "n2")).toBe("45");
  });

  it("leave a node out of its pool when it is out (cordoned, unhealthy)", async () => {
    const charges = new JoinCharges(redis, noFailure);
    charges.charge({ id: "n3", cluster: "east" }, 1);
    await charges.settled();
    expect(await redis.zscore(keys.pool("east"), "n3")).toBeNull();
  });

  it("send nothing for a join that costs nothing", async () => {
    const charges = new JoinCharges(redis, noFailure);
    charges.charge({ id: "n1", cluster: "east" }, 0);
    await charges.settled();
    expect(await zaddCalls()).toBe(0);
  });

  it("report the charges Redis refused, without throwing into the join that made them", async () => {
    const failures: number[] = [];
    // An object where the pool's sorted set should be: Redis refuses the ZADD with WRONGTYPE.
    await redis.set(keys.pool("broken"), "not a sorted set");
    const charges = new JoinCharges(redis, (_error, count) => failures.push(count));
    expect(() => charges.charge({ id: "n1", cluster: "broken" }, 1)).not.toThrow();
    charges.charge({ id: "n2", cluster: "broken" }, 1);
    await charges.settled();
    expect(failures).toEqual([2]);
  });
});
