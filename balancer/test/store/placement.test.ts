import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/store/keys.js";
import { placeAmong, placeInCluster } from "../../src/store/meetings.js";
import { startRedis, type RedisServer } from "../support/redis.js";

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.close();
});
beforeEach(async () => {
  await redis.flushall();
});

const pool = keys.pool("default");
const meeting = { tenant: "acme", meetingId: "standup" };
const drawsAcross = [0, 0.2, 0.4, 0.6, 0.8, 0.999];

/** The node each draw picks from a fresh copy of `members` (id -> load), skipping `skipped`. */
async function picks(members: Record<string, number>, skipped: string[]): Promise<Array<string | null>> {
  const picked: Array<string | null> = [];
  for (const random of drawsAcross) {
    await redis.del(pool);
    await redis.zadd(pool, ...Object.entries(members).flatMap(([id, load]) => [load, id]));
    picked.push((await placeInCluster(redis, "default", meeting, { cost: 1, random, skipped }))?.nodeId ?? null);
  }
  return picked;
}

describe("placement in a cluster's pool", () => {
  it("takes the least-loaded node and counts the meeting's cost on it and in its meeting set", async () => {
    await redis.zadd(pool, 5, "busy", 2, "idle");
    expect(await placeInCluster(redis, "default", meeting, { cost: 3, random: 0.5, skipped: [] })).toEqual({ nodeId: "idle", cost: 3 });
    expect(await redis.zscore(pool, "idle")).toBe("5");
    expect(await redis.smembers(keys.nodeMeetings("default", "idle"))).toEqual(["acme\nstandup"]);
  });

  it("spreads draws over every node tied at the lowest load", async () => {
    expect(new Set(await picks({ a: 0, b: 0, c: 0, d: 7 }, []))).toEqual(new Set(["a", "b", "c"]));
  });

  it("never takes a skipped node, even when it is the least loaded", async () => {
    expect(new Set(await picks({ gone: 0, a: 4, b: 4, c: 9 }, ["gone"]))).toEqual(new Set(["a", "b"]));
  });

  it("spreads draws over the tied nodes that are not skipped", async () => {
    expect(new Set(await picks({ a: 0, gone: 0, b: 0, other: 0, c: 1 }, ["gone", "other"]))).toEqual(new Set(["a", "b"]));
  });

  it("leaves skipped nodes' load and meeting sets untouched", async () => {
    await picks({ gone: 0, a: 4 }, ["gone"]);
    expect(await redis.zscore(pool, "gone")).toBe("0");
    expect(await redis.exists(keys.nodeMeetings("default", "gone"))).toBe(0);
  });

  it("finds no node when the pool holds only skipped nodes", async () => {
    expect(await picks({ gone: 0, other: 3 }, ["gone", "other"])).toEqual(drawsAcross.map(() => null));
  });
});

describe("a node's load multiplier", () => {
  it("scales what a meeting placed on the node adds to its load, and says so", async () => {
    await redis.zadd(pool, 0, "big");
    await redis.hset(keys.node("default", "big"), "loadMultiplier", "0.5");
    expect(await placeInCluster(redis, "default", meeting, { cost: 30, random: 0, skipped: [] })).toEqual({ nodeId: "big", cost: 15 });
    expect(await redis.zscore(pool, "big")).toBe("15");
  });

  it("counts a node without a record at the meeting's plain cost", async () => {
    await redis.zadd(pool, 0, "fresh");
    expect(await placeInCluster(redis, "default", meeting, { cost: 30, random: 0, skipped: [] })).toEqual({ nodeId: "fresh", cost: 30 });
  });
});

describe("placement among candidates (a server tag's nodes)", () => {
  it("takes the least-loaded candidate even when a node outside them is lower", async () => {
    await redis.zadd(pool, 0, "other", 7, "gpu-1", 3, "gpu-2");
    expect(await placeAmong(redis, "default", meeting, { cost: 1, random: 0, candidates: ["gpu-1", "gpu-2"] })).toEqual({ nodeId: "gpu-2", cost: 1 });
    expect(await redis.zscore(pool, "gpu-2")).toBe("4");
    expect(await redis.zscore(pool, "other")).toBe("0");
    expect(await redis.smembers(keys.nodeMeetings("default", "gpu-2"))).toEqual(["acme\nstandup"]);
  });

  it("spreads draws over the candidates tied at the lowest load", async () => {
    const picked = new Set<string | undefined>();
    for (const random of drawsAcross) {
      await redis.del(pool);
      await redis.zadd(pool, 0, "a", 0, "b", 0, "c", 5, "d");
      picked.add((await placeAmong(redis, "default", meeting, { cost: 1, random, candidates: ["a", "b", "d"] }))?.nodeId);
    }
    expect(picked).toEqual(new Set(["a", "b"]));
  });

  it("finds nothing when no candidate is in the pool or every one is held out", async () => {
    await redis.zadd(pool, 0, "a", 0, "b");
    expect(await placeAmong(redis, "default", meeting, { cost: 1, random: 0, candidates: ["gone"] })).toBeNull();
    await redis.zadd(keys.holdOut("default"), Date.now() + 60_000, "a");
    expect(await placeAmong(redis, "default", meeting, { cost: 1, random: 0, candidates: ["a"] })).toBeNull();
    expect(await placeAmong(redis, "default", meeting, { cost: 1, random: 0, candidates: [] })).toBeNull();
  });
});
