import { afterEach, describe, expect, it } from "vitest";
import { setNodeState } from "../../src/fleet/fleetStore.js";
import { collectFleetStats } from "../../src/observability/stats.js";
import { keys } from "../../src/store/keys.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { meetingReleased, nodeHash, poolMembers, startFleet, waitFor, type Fleet } from "../fleet/harness.js";
import { useRedisCluster, type RedisCluster } from "../support/redisCluster.js";

/** Pollers on a real three-master Redis Cluster: node records, tenant mappings and leases live on different masters. */
const emptiedCluster = useRedisCluster();
let fleet: Fleet<RedisCluster> | undefined;

afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/** A fleet on an emptied cluster. */
async function startClusterFleet(nodes: number): Promise<Fleet<RedisCluster>> {
  fleet = await startFleet({ nodes, withLoadUrl: true, redisServer: await emptiedCluster() });
  return fleet;
}

describe("a poll cycle on a Redis Cluster", () => {
  it("records every node, refreshes two tenants' summaries and releases the meeting a node no longer has", async () => {
    const fleet = await startClusterFleet(2);
    await fleet.createMeeting("acme", "stays", "bbb1");
    await fleet.createMeeting("globex", "stays", "bbb1");
    await fleet.createMeeting("acme", "gone", "bbb2");
    fleet.simulator.node("bbb1").addAttendees(nodeMeetingId("globex", "stays"), 3);
    fleet.startPoller();
    const record = await waitFor(async () => {
      const hash = await nodeHash(fleet, "bbb1");
      return hash["attendees"] === "3" ? hash : undefined;
    }, "bbb1 polled");
    expect(JSON.parse(record["tenants"] ?? "{}")).toEqual({ acme: { meetings: 1, attendees: 0 }, globex: { meetings: 1, attendees: 3 } });
    // One script per tenant, side by side (on different masters here): either tenant's can land first.
    await waitFor(async () => (await fleet.redis.hget(keys.summaries("globex"), "stays"))?.includes("<participantCount>3</participantCount>"), "globex summary");
    await waitFor(async () => (await fleet.redis.hget(keys.summaries("acme"), "stays"))?.includes("<meetingID>stays</meetingID>"), "acme summary");

    await fleet.simulator.node("bbb2").endMeeting(nodeMeetingId("acme", "gone"));
    await waitFor(() => meetingReleased(fleet, "acme", "gone", "bbb2"), "gone released");
    expect(await fleet.redis.hget(keys.meetings("acme"), "stays")).toBe("bbb1");
    expect(await fleet.redis.scard(keys.nodeMeetings("default", "bbb2"))).toBe(0);
  });

  it("takes a node that stops answering out of the pool and releases its meetings", async () => {
    const fleet = await startClusterFleet(2);
    await fleet.createMeeting("acme", "running", "bbb1");
    await fleet.createMeeting("globex", "running", "bbb1");
    fleet.startPoller();
    await waitFor(async () => (await poolMembers(fleet)).length === 2, "both nodes in the pool");
    fleet.simulator.node("bbb1").setFailure("down");
    await waitFor(async () => (await nodeHash(fleet, "bbb1"))["health"] === "unhealthy", "bbb1 unhealthy");
    expect(await poolMembers(fleet)).toEqual(["bbb2"]);
    await waitFor(() => meetingReleased(fleet, "acme", "running", "bbb1"), "acme's running released");
    await waitFor(() => meetingReleased(fleet, "globex", "running", "bbb1"), "globex's running released");
  });

  it("polls each node once per interval with two pollers sharing the leases", async () => {
    const fleet = await startClusterFleet(6);
    const polled: string[] = [];
    for (const pollerId of ["left", "right"]) fleet.startPoller({ pollerId }).onCycle((summary) => polled.push(...summary.polled.map((entry) => `${entry.slot}:${entry.node}`)));
    await waitFor(async () => (await Promise.all(fleet.config.nodes.map((node) => nodeHash(fleet, node.id)))).every((hash) => hash["health"] === "healthy"), "every node polled");
    // A cycle reports its polls only once all of them are through, after the last node's record was written.
    await waitFor(() => fleet.config.nodes.every((node) => polled.some((entry) => entry.endsWith(`:${node.id}`))), "the cycles that polled them reported");
    expect(polled.length).toBeGreaterThanOrEqual(6);
    expect(new Set(polled).size).toBe(polled.length);
  });
});

describe("fleet reads and admin changes on a Redis Cluster", () => {
  it("collects the stats of every tenant and node across slots", async () => {
    const fleet = await startClusterFleet(3);
    await fleet.createMeeting("acme", "one", "bbb1");
    await fleet.createMeeting("acme", "two", "bbb2");
    await fleet.createMeeting("globex", "three", "bbb3");
    const stats = await collectFleetStats(fleet.redis, fleet.config);
    expect(stats.tenants).toEqual({ acme: { meetings: 2, attendees: 0 }, globex: { meetings: 1, attendees: 0 } });
    expect(stats.nodes.map((node) => [node.id, node.state, node.takesNewMeetings])).toEqual([
      ["bbb1", "enabled", true],
      ["bbb2", "enabled", true],
      ["bbb3", "enabled", true],
    ]);
  });

  it("releases every tenant's meetings of a node in panic", async () => {
    const fleet = await startClusterFleet(2);
    await fleet.createMeeting("acme", "a", "bbb1");
    await fleet.createMeeting("globex", "g", "bbb1");
    const change = await setNodeState(fleet.redis, fleet.node("bbb1"), "panic");
    expect(change.released.sort()).toEqual(["acme\na", "globex\ng"]);
    expect(await fleet.redis.hlen(keys.meetings("acme"))).toBe(0);
    expect(await fleet.redis.hlen(keys.meetings("globex"))).toBe(0);
    expect(await poolMembers(fleet)).toEqual(["bbb2"]);
  });
});
