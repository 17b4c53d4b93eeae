import { expect, it } from "vitest";
import { keys } from "../../src/store/keys.js";
import type { SharedRedis } from "../support/redis.js";
import { field, get, hostOf, nodeMeetings, poolLoads, signedUrl, tenants, type Fleet } from "./harness.js";

/**
 * How creates land on nodes: idempotent across replicas, spread before any poll, least-loaded first. Specified
 * once, run by `create.test.ts` on a single Redis and by `cluster/api.test.ts` on a Redis Cluster. The fleet
 * has three replicas and nodes n1..n3, reset between tests (`resetFleet`).
 */
export function itPlacesCreates(fleetUnderTest: () => Fleet<SharedRedis>): void {
  const create = (params: Record<string, string>, replica = 0) => get(signedUrl(fleetUnderTest().balancers[replica]!, tenants.acme, "create", params));

  it("lands concurrent creates of one meeting ID from several replicas on exactly one node", async () => {
    const fleet = fleetUnderTest();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => create({ name: "Race", meetingID: "race" }, i % 3)));
    expect(answers.map((answer) => field(answer.body, "returncode"))).toEqual(Array(12).fill("SUCCESS"));
    const hosts = Object.entries(nodeMeetings(fleet)).filter(([, meetings]) => meetings.includes("acme~race"));
    expect(hosts).toHaveLength(1);
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("acme"), "race")).toBe(hosts[0]![0]);
    // The losers gave their placements back: the fleet carries one meeting's cost.
    expect(Object.values(await poolLoads(fleet.balancers[0]!)).reduce((sum, load) => sum + load, 0)).toBe(30);
  });

  it("spreads a burst of creates over the fleet before any poll", async () => {
    const fleet = fleetUnderTest();
    await Promise.all(Array.from({ length: 6 }, (_, i) => create({ name: "Burst", meetingID: `burst-${i}` }, i % 3)));
    expect(Object.values(nodeMeetings(fleet)).map((meetings) => meetings.length)).toEqual([2, 2, 2]);
    expect(await poolLoads(fleet.balancers[0]!)).toEqual({ n1: 60, n2: 60, n3: 60 });
  });

  it("places a new meeting on the least-loaded node", async () => {
    const fleet = fleetUnderTest();
    await fleet.balancers[0]!.redis.zadd(keys.pool("default"), 500, "n1", 10, "n2", 200, "n3");
    await create({ name: "Quiet", meetingID: "quiet" });
    expect(hostOf(fleet, "acme~quiet")).toBe("n2");
  });
}
