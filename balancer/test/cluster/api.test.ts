import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BalancerConfigInput } from "../../src/config/schema.js";
import { keys } from "../../src/store/keys.js";
import { primaries, type RedisClient } from "../../src/store/redisClient.js";
import { field, get, hostOf, redisState, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "../api/harness.js";
import { itPlacesCreates } from "../api/placementSpecs.js";
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
  await resetFleet(fleet);
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

  itPlacesCreates(() => fleet);

  it("refuses a create over the tenant's limit without leaving a mapping, a load or a voice bridge behind", async () => {
    await create({ name: "First", meetingID: "first" }, 0, tenants.globex);
    const before = await redisState(fleet.balancers[0]!);
    const refused = await create({ name: "Second", meetingID: "second", voiceBridge: "70999" }, 1, tenants.globex);
    expect(field(refused.body, "returncode")).toBe("FAILED");
    expect(field(refused.body, "messageKey")).toBe("maxMeetingsReached");
    expect(await redisState(fleet.balancers[0]!)).toEqual(before);
  });
});
