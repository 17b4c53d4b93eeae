import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/store/keys.js";
import { placeInCluster } from "../../src/store/meetings.js";
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
    picked.push(await placeInCluster(redis, "default", meeting, { cost: 1, random, skipped }));
  }
  return picked;
}

describe("placement in a cluster's pool", () => {
  it("takes the least-loaded node and counts the meeting's cost on it and in its meeting set", async () => {
    await redis.zadd(pool, 5, "busy", 2, "idle");
    expect(await placeInCluster(redis, "default", meeting, { cost: 3, random: 0.5, skipped: [] })).toBe("idle");
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
