import { afterEach, describe, expect, it } from "vitest";
import { parseBalancerConfig } from "../../src/config/schema.js";
import { startPoller, type Poller } from "../../src/poller/poller.js";
import { keys } from "../../src/store/keys.js";
import { pollIntervalMs, poolMembers, startFleet, waitFor, type Fleet } from "../fleet/harness.js";
import { useRedisCluster, type RedisCluster } from "../support/redisCluster.js";

/** Retiring a node removed from the config when its record, the tenants and the registry live on different masters. */
const emptiedCluster = useRedisCluster();
let fleet: Fleet<RedisCluster> | undefined;
let poller: Poller | undefined;

afterEach(async () => {
  await poller?.stop();
  await fleet?.close();
  poller = undefined;
  fleet = undefined;
});

describe("a node removed from the config, on a Redis Cluster", () => {
  it("is retired: its meetings of two tenants released, its record, pool entry and registry entry gone", async () => {
    const started = await startFleet({ nodes: 3, redisServer: await emptiedCluster() });
    fleet = started;
    await started.createMeeting("acme", "standup", "bbb3");
    await started.createMeeting("globex", "board", "bbb3");
    await started.createMeeting("acme", "kept", "bbb1");
    const config = parseBalancerConfig({ ...started.configInput, nodes: (started.configInput.nodes ?? []).filter((node) => node.id !== "bbb3") });
    poller = startPoller({ redis: started.redis, config, logger: started.logger, intervalMs: pollIntervalMs });
    await waitFor(async () => (await started.redis.exists(keys.node("default", "bbb3"))) === 0, "bbb3 retired");
    await waitFor(async () => (await started.redis.zrange(keys.nodeRegistry(), "0", "-1")).join() === "default/bbb1,default/bbb2", "bbb3 out of the registry");
    expect(await started.redis.hgetall(keys.meetings("acme"))).toEqual({ kept: "bbb1" });
    expect(await started.redis.hgetall(keys.meetings("globex"))).toEqual({});
    expect(await poolMembers(started)).not.toContain("bbb3");
  });
});
