import { afterEach, describe, expect, it } from "vitest";
import type { BalancerConfig } from "../../src/config/schema.js";
import { setNodeState } from "../../src/fleet/fleetStore.js";
import { syncConfiguredNodes } from "../../src/store/nodeSync.js";
import { nodeHash, poolMembers, startFleet, waitFor, type Fleet } from "./harness.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

function withBbb2Cordoned(config: BalancerConfig): BalancerConfig {
  return { ...config, nodes: config.nodes.map((node) => (node.id === "bbb2" ? { ...node, state: "cordoned" as const } : node)) };
}

describe("node states", () => {
  it("start as the config file says", async () => {
    fleet = await startFleet({ nodes: 2 });
    await fleet.redis.flushall();
    await syncConfiguredNodes(fleet.redis, withBbb2Cordoned(fleet.config));
    expect((await nodeHash(fleet, "bbb2"))["state"]).toBe("cordoned");
    expect(await poolMembers(fleet)).toEqual(["bbb1"]);
  });

  it("keep an operator's change across restarts and polls", async () => {
    fleet = await startFleet({ nodes: 2 });
    await fleet.redis.flushall();
    const config = withBbb2Cordoned(fleet.config);
    await syncConfiguredNodes(fleet.redis, config);
    await setNodeState(fleet.redis, fleet.node("bbb2"), "enabled");
    await syncConfiguredNodes(fleet.redis, config); // a process starting again with the same file
    fleet.startPoller();
    await waitFor(async () => (await nodeHash(fleet!, "bbb2"))["health"] === "healthy", "polled");
    expect((await nodeHash(fleet, "bbb2"))["state"]).toBe("enabled");
    expect((await poolMembers(fleet)).sort()).toEqual(["bbb1", "bbb2"]);
  });

  it("take a disabled node out of the pool while it keeps being polled", async () => {
    fleet = await startFleet({ nodes: 2 });
    fleet.startPoller();
    await waitFor(async () => (await poolMembers(fleet!)).length === 2, "both in the pool");
    await setNodeState(fleet.redis, fleet.node("bbb1"), "disabled");
    const disabledAt = Date.now();
    await waitFor(async () => Number((await nodeHash(fleet!, "bbb1"))["lastPollAt"]) > disabledAt, "polled while disabled");
    expect(await poolMembers(fleet)).toEqual(["bbb2"]);
  });
});
