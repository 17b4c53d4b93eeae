import { afterEach, describe, expect, it } from "vitest";
import { registry } from "../../src/observability/metrics.js";
import { keys } from "../../src/store/keys.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { meetingReleased, nodeHash, pollOnce, poolMembers, startFleet, waitFor, type Fleet } from "./harness.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe("the poller", () => {
  it("records each node's meetings, attendees, CPU and load", async () => {
    fleet = await startFleet({ nodes: 2, withLoadUrl: true });
    await fleet.createMeeting("acme", "standup", "bbb1");
    fleet.simulator.node("bbb1").addAttendees(nodeMeetingId("acme", "standup"), 4);
    fleet.simulator.node("bbb1").setCpu(5_000);
    fleet.startPoller();
    const hash = await waitFor(async () => {
      const record = await nodeHash(fleet!, "bbb1");
      return record["attendees"] === "4" ? record : undefined;
    }, "bbb1 polled");
    expect(hash).toMatchObject({ meetings: "1", cpu: "5000", health: "healthy" });
    // 1*4 attendees + 30*1 meeting + 5000/6 * sum_{n=1..6} 0.5^n
    expect(Number(hash["load"])).toBeCloseTo(4 + 30 + (5000 / 6) * (1 - 0.5 ** 6), 6);
    expect(JSON.parse(hash["tenants"] ?? "{}")).toEqual({ acme: { meetings: 1, attendees: 4 } });
    expect(await fleet.redis.zscore(keys.pool("default"), "bbb1")).toBe(hash["load"]);
  });

  it("stores the tenant's view of each mapped meeting for getMeetings", async () => {
    fleet = await startFleet({ nodes: 1 });
    await fleet.createMeeting("acme", "standup", "bbb1");
    fleet.simulator.node("bbb1").addAttendees(nodeMeetingId("acme", "standup"), 2);
    fleet.startPoller();
    const summary = await waitFor(async () => {
      const stored = await fleet!.redis.hget(keys.summaries("acme"), "standup");
      return stored?.includes("<participantCount>2</participantCount>") ? stored : undefined;
    }, "summary refreshed");
    expect(summary).toContain("<meetingID>standup</meetingID>");
    expect(summary).not.toContain("acme~");
    expect(Number(await fleet.redis.get(keys.revision("acme")))).toBeGreaterThan(0);
  });

  it("releases the mapping of a meeting the node no longer has", async () => {
    fleet = await startFleet({ nodes: 1 });
    await fleet.createMeeting("acme", "gone", "bbb1");
    await fleet.createMeeting("acme", "stays", "bbb1");
    fleet.startPoller();
    await waitFor(async () => (await nodeHash(fleet!, "bbb1"))["meetings"] === "2", "first poll");
    await fleet.simulator.node("bbb1").endMeeting(nodeMeetingId("acme", "gone"));
    await waitFor(() => meetingReleased(fleet!, "acme", "gone", "bbb1"), "gone released");
    expect(await fleet.redis.hget(keys.meetings("acme"), "stays")).toBe("bbb1");
    expect(await fleet.redis.hget(keys.summaries("acme"), "gone")).toBeNull();
    expect(await fleet.redis.smembers(keys.nodeMeetings("default", "bbb1"))).toEqual(["acme\nstays"]);
  });

  it("keeps a meeting created while a poll was under way", async () => {
    fleet = await startFleet({ nodes: 1 });
    await pollOnce(fleet, "bbb1");
    // The mapping exists before the node has the meeting: the poll in between must not release it.
    const node = fleet.node("bbb1");
    await fleet.redis.hset(keys.meetings("acme"), "racing", "bbb1");
    await fleet.redis.sadd(keys.nodeMeetings(node.cluster, node.id), "acme\nracing");
    await pollOnce(fleet, "bbb1");
    expect((await nodeHash(fleet, "bbb1"))["missing"]).toContain("racing");
    await fleet.clients.call(node, "create", new URLSearchParams({ meetingID: nodeMeetingId("acme", "racing"), name: "racing" }).toString());
    await pollOnce(fleet, "bbb1");
    expect((await nodeHash(fleet, "bbb1"))["missing"]).toBe("[]");
    expect(await fleet.redis.hget(keys.meetings("acme"), "racing")).toBe("bbb1");
  });
});

describe("node health", () => {
  it("takes a node that stops answering out of the pool and releases its meetings", async () => {
    fleet = await startFleet({ nodes: 2 });
    await fleet.createMeeting("acme", "running", "bbb1");
    fleet.startPoller();
    await waitFor(async () => (await poolMembers(fleet!)).length === 2, "both nodes in the pool");
    fleet.simulator.node("bbb1").setFailure("down");
    await waitFor(async () => (await nodeHash(fleet!, "bbb1"))["health"] === "unhealthy", "bbb1 unhealthy");
    expect(await poolMembers(fleet)).toEqual(["bbb2"]);
    await waitFor(() => meetingReleased(fleet!, "acme", "running", "bbb1"), "running released");
    expect(await fleet.redis.scard(keys.nodeMeetings("default", "bbb1"))).toBe(0);
    await waitFor(
      async () => /\{cluster="default",node="bbb1",why="unhealthy"\} [1-9]/.test(await registry.getSingleMetricAsString("mediaplane_meetings_released_total")),
      "the release counted",
    );
  });

  it("releases a meeting mapped to a node after it went unhealthy (a create that raced the release)", async () => {
    fleet = await startFleet({ nodes: 1 });
    fleet.startPoller();
    fleet.simulator.node("bbb1").setFailure("down");
    await waitFor(async () => (await nodeHash(fleet!, "bbb1"))["health"] === "unhealthy", "bbb1 unhealthy");
    await fleet.redis.hset(keys.meetings("acme"), "late", "bbb1");
    await fleet.redis.sadd(keys.nodeMeetings("default", "bbb1"), "acme\nlate");
    await waitFor(() => meetingReleased(fleet!, "acme", "late", "bbb1"), "late released");
    expect(await fleet.redis.scard(keys.nodeMeetings("default", "bbb1"))).toBe(0);
  });

  it("keeps a node and its meetings until unhealthyAfter polls in a row have failed", async () => {
    fleet = await startFleet({ nodes: 1, config: { poller: { unhealthyAfter: 3 } } });
    await fleet.createMeeting("acme", "running", "bbb1");
    fleet.startPoller();
    await waitFor(async () => (await nodeHash(fleet!, "bbb1"))["health"] === "healthy", "healthy");
    fleet.simulator.node("bbb1").setFailure("error500");
    await waitFor(async () => (await nodeHash(fleet!, "bbb1"))["failStreak"] === "2", "two failed polls");
    expect(await poolMembers(fleet)).toEqual(["bbb1"]);
    expect(await fleet.redis.hget(keys.meetings("acme"), "running")).toBe("bbb1");
  });

  it("counts a hanging node's timed-out polls as failures", async () => {
    fleet = await startFleet({ nodes: 1 });
    fleet.simulator.node("bbb1").setFailure("hang");
    fleet.startPoller();
    const hash = await waitFor(async () => {
      const record = await nodeHash(fleet!, "bbb1");
      return record["health"] === "unhealthy" ? record : undefined;
    }, "unhealthy");
    expect(hash["lastError"]).toMatch(/^unavailable/);
    expect(await registry.getSingleMetricAsString("mediaplane_poll_failures_total")).toMatch(/\{cluster="default",node="bbb1",reason="unavailable"\} [1-9]/);
  });

  it("returns a recovered node to the pool after healthyAfter good polls", async () => {
    fleet = await startFleet({ nodes: 1, config: { poller: { healthyAfter: 2 } } });
    fleet.simulator.node("bbb1").setFailure("garbage");
    fleet.startPoller();
    await waitFor(async () => (await nodeHash(fleet!, "bbb1"))["health"] === "unhealthy", "unhealthy");
    expect(await poolMembers(fleet)).toEqual([]);
    fleet.simulator.node("bbb1").setFailure("none");
    await waitFor(async () => (await nodeHash(fleet!, "bbb1"))["okStreak"] === "1", "one good poll");
    expect(await poolMembers(fleet)).toEqual([]);
    await waitFor(async () => (await poolMembers(fleet!)).includes("bbb1"), "back in the pool");
  });
});
