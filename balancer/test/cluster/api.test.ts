import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BalancerConfigInput } from "../../src/config/schema.js";
import { keys } from "../../src/store/keys.js";
import { primaries, type RedisClient } from "../../src/store/redisClient.js";
import { field, get, hostOf, nodeMeetings, poolLoads, redisState, signedUrl, startFleet, tenants, type Fleet } from "../api/harness.js";
import { startRedisCluster, type RedisCluster } from "../support/redisCluster.js";

/** The BBB API with three replicas on a real three-master Redis Cluster, as a clustered managed cache runs it. */
let cluster: RedisCluster;
let fleet: Fleet<RedisCluster>;
let redis: RedisClient;

beforeAll(async () => {
  cluster = await startRedisCluster();
  // globex may run one meeting at a time: its limit is checked in the claim script, on the tenant's slot.
  const limitGlobex = (config: BalancerConfigInput): BalancerConfigInput => ({
    ...config,
    tenants: (config.tenants ?? []).map((tenant) => (tenant.slug === "globex" ? { ...tenant, limits: { maxMeetings: 1 } } : tenant)),
  });
  fleet = await startFleet({ replicas: 3, redis: cluster, configure: limitGlobex });
  redis = fleet.balancers[0]!.redis;
}, 60_000);

afterAll(async () => {
  await fleet?.close();
  await cluster?.close();
});

afterEach(async () => {
  for (const node of fleet.simulator.nodes.values()) {
    node.setFailure("none");
    node.forgetAllMeetings();
  }
  // FLUSHALL through a cluster client reaches one master only.
  await Promise.all((await primaries(redis)).map((master) => master.flushall()));
  await redis.zadd(keys.pool("default"), 0, "n1", 0, "n2", 0, "n3");
});

const create = (params: Record<string, string>, replica = 0, tenant: { slug: string; secret: string } = tenants.acme) =>
  get(signedUrl(fleet.balancers[replica]!, tenant, "create", params));

/** Which master holds a key, by the port it listens on (the others answer MOVED). */
async function masterOf(key: string): Promise<number | undefined> {
  const holds = (master: Redis): Promise<boolean> => master.exists(key).then((count) => count === 1, () => false);
  const holders = await Promise.all((await primaries(redis)).map(async (master) => ((await holds(master)) ? master.options.port : undefined)));
  return holders.find((port) => port !== undefined);
}

describe("the BBB API on a Redis Cluster", () => {
  it("is client by client a Cluster client", () => {
    expect(fleet.balancers.map((balancer) => balancer.redis.isCluster)).toEqual([true, true, true]);
  });

  it("spreads one meeting's keys over several masters, so each step really crosses slots", async () => {
    await create({ name: "Spread", meetingID: "spread", voiceBridge: "70123" });
    const holders = await Promise.all([keys.meetings("acme"), keys.pool("default"), keys.voiceBridges(), keys.nodeMeetings("default", hostOf(fleet, "acme~spread") ?? "")].map(masterOf));
    expect(holders.every((port) => port !== undefined)).toBe(true);
    expect(new Set(holders).size).toBeGreaterThan(1);
  });

  it("creates, joins, lists and ends a meeting", async () => {
    const created = await create({ name: "Daily", meetingID: "daily" });
    expect(field(created.body, "returncode")).toBe("SUCCESS");
    const host = hostOf(fleet, "acme~daily");
    expect(host).toBeDefined();

    const join = await get(signedUrl(fleet.balancers[1]!, tenants.acme, "join", { fullName: "Ada", meetingID: "daily", role: "MODERATOR" }));
    expect(join.status).toBe(302);
    expect(join.location?.startsWith(`${fleet.simulator.node(host!).apiUrl}join?`)).toBe(true);

    const listed = await get(signedUrl(fleet.balancers[2]!, tenants.acme, "getMeetings", {}));
    expect(field(listed.body, "meetingID")).toBe("daily");
    const otherTenant = await get(signedUrl(fleet.balancers[2]!, tenants.globex, "getMeetings", {}));
    expect(otherTenant.body).not.toContain("daily");

    const ended = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "end", { meetingID: "daily" }));
    expect(field(ended.body, "returncode")).toBe("SUCCESS");
    expect(await redis.hget(keys.meetings("acme"), "daily")).toBeNull();
    expect(await redis.smembers(keys.nodeMeetings("default", host!))).toEqual([]);
    const afterEnd = await get(signedUrl(fleet.balancers[1]!, tenants.acme, "getMeetings", {}));
    expect(afterEnd.body).not.toContain("<meeting>");
  });

  it("lands concurrent creates of one meeting ID from three replicas on exactly one node, and gives the losers' placements back", async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => create({ name: "Race", meetingID: "race" }, i % 3)));
    expect(answers.map((answer) => field(answer.body, "returncode"))).toEqual(Array(12).fill("SUCCESS"));
    const hosts = Object.entries(nodeMeetings(fleet)).filter(([, meetings]) => meetings.includes("acme~race"));
    expect(hosts).toHaveLength(1);
    expect(await redis.hget(keys.meetings("acme"), "race")).toBe(hosts[0]![0]);
    expect(Object.values(await poolLoads(fleet.balancers[0]!)).reduce((sum, load) => sum + load, 0)).toBe(30);
  });

  it("spreads a burst of creates over the fleet and places a new meeting on the least-loaded node", async () => {
    await Promise.all(Array.from({ length: 6 }, (_, i) => create({ name: "Burst", meetingID: `burst-${i}` }, i % 3)));
    expect(Object.values(nodeMeetings(fleet)).map((meetings) => meetings.length)).toEqual([2, 2, 2]);
    await redis.zadd(keys.pool("default"), 500, "n1", 10, "n2", 200, "n3");
    await create({ name: "Quiet", meetingID: "quiet" });
    expect(hostOf(fleet, "acme~quiet")).toBe("n2");
  });

  it("refuses a create over the tenant's limit without leaving a mapping, a load or a voice bridge behind", async () => {
    await create({ name: "First", meetingID: "first" }, 0, tenants.globex);
    const before = await redisState(fleet.balancers[0]!);
    const refused = await create({ name: "Second", meetingID: "second", voiceBridge: "70999" }, 1, tenants.globex);
    expect(field(refused.body, "returncode")).toBe("FAILED");
    expect(field(refused.body, "messageKey")).toBe("maxMeetingsReached");
    expect(await redisState(fleet.balancers[0]!)).toEqual(before);
  });
});
