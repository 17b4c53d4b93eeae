import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keys } from "../../src/store/keys.js";
import { MeetingNodeLookups } from "../../src/store/meetingNodeLookups.js";
import { startRedis, type RedisServer } from "../support/redis.js";

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  await redis.hset(keys.meetings("acme"), { m1: "n1", m2: "n2", m3: "n1" });
  await redis.hset(keys.meetings("globex"), { m1: "n3" });
});
afterAll(async () => {
  redis.disconnect();
  await server.close();
});
beforeEach(async () => {
  await redis.config("RESETSTAT");
});

async function commandCalls(command: string): Promise<number> {
  const stats = await redis.info("commandstats");
  const line = stats.split("\r\n").find((entry) => entry.startsWith(`cmdstat_${command}:`));
  return Number(/calls=(\d+)/.exec(line ?? "")?.[1] ?? 0);
}

describe("meeting node lookups", () => {
  it("answers each lookup with its own meeting's node, and null for a meeting that is not live", async () => {
    const lookups = new MeetingNodeLookups(redis);
    const answers = await Promise.all([lookups.nodeOf("acme", "m2"), lookups.nodeOf("acme", "m1"), lookups.nodeOf("acme", "gone"), lookups.nodeOf("globex", "m1")]);
    expect(answers).toEqual(["n2", "n1", null, "n3"]);
  });

  it("sends the lookups of one turn of the event loop as one command per tenant", async () => {
    const lookups = new MeetingNodeLookups(redis);
    await Promise.all([lookups.nodeOf("acme", "m1"), lookups.nodeOf("acme", "m2"), lookups.nodeOf("acme", "m3"), lookups.nodeOf("globex", "m1")]);
    expect(await commandCalls("hmget")).toBe(2);
  });

  it("sends lookups of later turns in batches of their own", async () => {
    const lookups = new MeetingNodeLookups(redis);
    expect(await lookups.nodeOf("acme", "m1")).toBe("n1");
    expect(await lookups.nodeOf("acme", "m2")).toBe("n2");
    expect(await commandCalls("hmget")).toBe(2);
  });

  it("gathers the lookups made while a batch is at Redis into the next batch", async () => {
    const lookups = new MeetingNodeLookups(redis);
    const first = lookups.nodeOf("acme", "m1");
    await new Promise((resolve) => setImmediate(resolve)); // the first batch has gone out
    const later = [lookups.nodeOf("acme", "m2"), lookups.nodeOf("acme", "m3")];
    await new Promise((resolve) => setImmediate(resolve)); // a turn later: answered or not, the first batch took none of these
    const followUp = lookups.nodeOf("acme", "gone");
    expect(await Promise.all([first, ...later, followUp])).toEqual(["n1", "n2", "n1", null]);
    expect(await commandCalls("hmget")).toBe(2);
  });

  it("fails the lookups of a tenant whose command Redis refuses, and answers the other tenants'", async () => {
    await redis.set(keys.meetings("broken"), "not a hash");
    const lookups = new MeetingNodeLookups(redis);
    const outcomes = await Promise.allSettled([lookups.nodeOf("broken", "m1"), lookups.nodeOf("broken", "m2"), lookups.nodeOf("acme", "m1")]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected", "fulfilled"]);
  });
});
