import { afterEach, describe, expect, it } from "vitest";
import type { FleetStats, NodeStats } from "../../src/observability/stats.js";
import { keys } from "../../src/store/keys.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { adminToken, nodeHash, poolMembers, startFleetWithAdmin, startSecondCopy, waitFor, type FleetWithAdmin } from "./harness.js";

let running: FleetWithAdmin | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function startAdmin(options: { nodes?: number; token?: string | undefined } = {}): Promise<FleetWithAdmin> {
  running = await startFleetWithAdmin(options);
  return running;
}

async function call(path: string, init: { method?: string; token?: string } = {}): Promise<{ status: number; body: unknown; text: string }> {
  const token = "token" in init ? init.token : adminToken;
  const response = await fetch(`${running!.admin.url}${path}`, {
    method: init.method ?? "GET",
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Prometheus text stays text.
  }
  return { status: response.status, body, text };
}

describe("admin API access", () => {
  it("refuses admin calls without the token", async () => {
    await startAdmin();
    for (const path of ["/admin/nodes", "/admin/stats", "/metrics", "/admin/tenants/acme/meetings"]) {
      expect((await call(path, { token: undefined })).status).toBe(401);
    }
    expect((await call("/admin/nodes/bbb1/panic", { method: "POST", token: undefined })).status).toBe(401);
    expect(await running!.fleet.redis.hget(keys.node("default", "bbb1"), "state")).not.toBe("panic");
  });

  it("refuses admin calls with a wrong token", async () => {
    await startAdmin();
    expect((await call("/admin/nodes", { token: `${adminToken}x` })).status).toBe(401);
  });

  it("refuses every admin call when no token is configured", async () => {
    await startAdmin({ token: undefined });
    expect((await call("/admin/nodes")).status).toBe(403);
  });

  it("answers the probes without a token", async () => {
    await startAdmin();
    expect(await call("/livez", { token: undefined })).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await call("/readyz", { token: undefined })).toMatchObject({ status: 200, body: { status: "ready" } });
  });

  it("reports not ready while Redis is down, and ready again once it is back", async () => {
    const { fleet } = await startAdmin();
    await fleet.redisServer.stop();
    expect((await call("/readyz", { token: undefined })).status).toBe(503);
    await fleet.redisServer.restart();
    await waitFor(async () => (await call("/readyz", { token: undefined })).status === 200, "ready again");
  });
});

describe("admin API", () => {
  it("lists nodes with state, health and load", async () => {
    const { fleet } = await startAdmin();
    fleet.startPoller();
    // The nodes of a cycle are polled side by side: bbb2's record can be written before bbb1's.
    await waitFor(async () => (await nodeHash(fleet, "bbb1"))["health"] === "healthy", "bbb1 polled");
    const { status, body } = await call("/admin/nodes");
    expect(status).toBe(200);
    const nodes = body as NodeStats[];
    expect(nodes.map((node) => node.id)).toEqual(["bbb1", "bbb2"]);
    expect(nodes[0]).toMatchObject({ cluster: "default", state: "enabled", health: "healthy", takesNewMeetings: true, load: 0 });
  });

  it("cordons a node: it leaves the pool and its meetings continue", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "class", "bbb1");
    fleet.startPoller();
    await waitFor(async () => (await poolMembers(fleet)).length === 2, "both in the pool");
    const { status, body } = await call("/admin/nodes/bbb1/cordon", { method: "POST" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ node: "bbb1", previous: "enabled", state: "cordoned", released: 0 });
    expect(await poolMembers(fleet)).toEqual(["bbb2"]);
    await waitFor(async () => Number((await nodeHash(fleet, "bbb1"))["lastPollAt"]) > Date.now() - 100, "polled after the cordon");
    expect(await fleet.redis.hget(keys.meetings("acme"), "class")).toBe("bbb1");
    expect(fleet.simulator.node("bbb1").meeting(nodeMeetingId("acme", "class"))).toBeDefined();
  });

  it("drains a cordoned node to disabled once its last meeting ends", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "class", "bbb1");
    fleet.startPoller();
    await call("/admin/nodes/bbb1/cordon", { method: "POST" });
    expect((await call("/admin/nodes/bbb1/drain", { method: "POST" })).body).toMatchObject({ previous: "cordoned", state: "draining" });
    await waitFor(async () => (await nodeHash(fleet, "bbb1"))["meetings"] === "1", "polled while draining");
    expect((await nodeHash(fleet, "bbb1"))["state"]).toBe("draining");
    await fleet.simulator.node("bbb1").endMeeting(nodeMeetingId("acme", "class"));
    await waitFor(async () => (await nodeHash(fleet, "bbb1"))["state"] === "disabled", "disabled");
    expect(await poolMembers(fleet)).toEqual(["bbb2"]);
  });

  it("enables a cordoned node again", async () => {
    const { fleet } = await startAdmin();
    await call("/admin/nodes/bbb1/cordon", { method: "POST" });
    await call("/admin/nodes/bbb1/enable", { method: "POST" });
    expect((await poolMembers(fleet)).sort()).toEqual(["bbb1", "bbb2"]);
  });

  it("on panic releases the node's meetings and ends them on the node", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "one", "bbb1");
    await fleet.createMeeting("globex", "one", "bbb1");
    await fleet.createMeeting("acme", "elsewhere", "bbb2");
    const { body } = await call("/admin/nodes/bbb1/panic", { method: "POST" });
    expect(body).toMatchObject({ state: "panic", released: 2, end: { failed: [] } });
    expect(await fleet.redis.hget(keys.meetings("acme"), "one")).toBeNull();
    expect(await fleet.redis.hget(keys.meetings("globex"), "one")).toBeNull();
    expect(await fleet.redis.hget(keys.meetings("acme"), "elsewhere")).toBe("bbb2");
    const ends = fleet.simulator.node("bbb1").requests.filter((request) => request.call === "end").map((request) => request.params["meetingID"]);
    expect(ends.sort()).toEqual([nodeMeetingId("acme", "one"), nodeMeetingId("globex", "one")]);
    await waitFor(() => fleet.simulator.node("bbb1").meetings().length === 0, "meetings ended on the node");
    expect(fleet.simulator.node("bbb2").meetings()).toHaveLength(1);
  });

  it("on panic of an unreachable node still releases its meetings, and reports the ends that failed", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "one", "bbb1");
    fleet.simulator.node("bbb1").setFailure("down");
    const { status, body } = await call("/admin/nodes/bbb1/panic", { method: "POST" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ state: "panic", released: 1, end: { ended: [], failed: [nodeMeetingId("acme", "one")] } });
    expect(await fleet.redis.hget(keys.meetings("acme"), "one")).toBeNull();
  });

  it("has a later poll end the meetings a panic could not end on an unreachable node, and no others", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "one", "bbb1");
    const bbb1 = fleet.simulator.node("bbb1");
    await fleet.clients.call(fleet.node("bbb1"), "create", new URLSearchParams({ meetingID: "made-by-hand", name: "by hand" }).toString());
    bbb1.setFailure("down");
    await call("/admin/nodes/bbb1/panic", { method: "POST" });
    bbb1.setFailure("none");
    fleet.startPoller();
    await waitFor(() => bbb1.meeting(nodeMeetingId("acme", "one")) === undefined, "the meeting ended by a poll");
    expect(bbb1.meetings().map((meeting) => meeting.meetingId)).toEqual(["made-by-hand"]);
  });

  it("answers 404 for an unknown node or action", async () => {
    await startAdmin();
    expect((await call("/admin/nodes/nope/cordon", { method: "POST" })).status).toBe(404);
    expect((await call("/admin/nodes/bbb1/reboot", { method: "POST" })).status).toBe(404);
  });

  it("reports meetings and attendees per tenant in the stats", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "a", "bbb1");
    await fleet.createMeeting("acme", "b", "bbb2");
    fleet.simulator.node("bbb1").addAttendees(nodeMeetingId("acme", "a"), 3);
    fleet.simulator.node("bbb2").addAttendees(nodeMeetingId("acme", "b"), 2);
    fleet.startPoller();
    const stats = await waitFor(async () => {
      const body = (await call("/admin/stats")).body as FleetStats;
      return body.tenants["acme"]?.attendees === 5 ? body : undefined;
    }, "attendees polled");
    expect(stats.tenants).toEqual({ acme: { meetings: 2, attendees: 5 }, globex: { meetings: 0, attendees: 0 } });
    expect(stats.nodes.find((node) => node.id === "bbb1")?.lastPollAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("lists a tenant's meetings with their nodes", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "a", "bbb1");
    await fleet.createMeeting("globex", "b", "bbb2");
    expect((await call("/admin/tenants/acme/meetings")).body).toEqual([{ meetingId: "a", node: "bbb1" }]);
    expect((await call("/admin/tenants/nobody/meetings")).status).toBe(404);
  });

  it("lists the meetings mapped to one node, with their attendees once polled", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "a", "bbb1");
    await fleet.createMeeting("globex", "b", "bbb1");
    await fleet.createMeeting("acme", "c", "bbb2");
    fleet.simulator.node("bbb1").addAttendees(nodeMeetingId("acme", "a"), 4);
    fleet.startPoller();
    const meetings = await waitFor(async () => {
      const body = (await call("/admin/nodes/bbb1/meetings")).body as Array<{ attendees?: number }>;
      return body[0]?.attendees === 4 ? body : undefined;
    }, "attendees polled");
    expect(meetings).toEqual([
      { tenant: "acme", meetingId: "a", node: "bbb1", name: "Meeting a", attendees: 4 },
      { tenant: "globex", meetingId: "b", node: "bbb1", name: "Meeting b", attendees: 0 },
    ]);
    expect((await call("/admin/nodes/nope/meetings")).status).toBe(404);
  });

  it("ends a meeting on its node and releases its mapping, logged in the action log", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "class", "bbb1");
    const { status, body } = await call("/admin/tenants/acme/meetings/class/end", { method: "POST" });
    expect(status).toBe(200);
    expect(body).toEqual({ tenant: "acme", meetingId: "class", outcome: "ended", node: "bbb1", result: "ended on bbb1, mapping released" });
    expect(fleet.simulator.node("bbb1").meeting(nodeMeetingId("acme", "class"))?.hasBeenForciblyEnded).toBe(true);
    expect(await fleet.redis.hget(keys.meetings("acme"), "class")).toBeNull();
    const [logged] = (await fleet.redis.lrange(keys.consoleAudit(), 0, 0)).map((entry) => JSON.parse(entry) as Record<string, string>);
    expect(logged).toMatchObject({ action: "end meeting", target: "acme/class", who: expect.stringMatching(/^admin API \(/) });
  });

  it("keeps a meeting mapped when its node does not accept the end, and says so with 502", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "class", "bbb1");
    fleet.simulator.node("bbb1").setFailure("down");
    const { status, body } = await call("/admin/tenants/acme/meetings/class/end", { method: "POST" });
    expect(status).toBe(502);
    expect(body).toMatchObject({ outcome: "failed", node: "bbb1" });
    expect(await fleet.redis.hget(keys.meetings("acme"), "class")).toBe("bbb1");
  });

  it("answers 404 for the end of a meeting that does not run, or of an unknown tenant", async () => {
    await startAdmin();
    expect(await call("/admin/tenants/acme/meetings/nothing/end", { method: "POST" })).toMatchObject({ status: 404, body: { error: 'no meeting "nothing" of acme now' } });
    expect((await call("/admin/tenants/nobody/meetings/x/end", { method: "POST" })).status).toBe(404);
    expect((await call("/admin/tenants/acme/meetings/x/end", { method: "POST", token: undefined })).status).toBe(401);
  });

  it("lists a meeting polls found running on two nodes, and which copy was ended", async () => {
    const { fleet } = await startAdmin();
    await fleet.createMeeting("acme", "twice", "bbb1");
    await startSecondCopy(fleet, "acme", "twice", "bbb2");
    fleet.startPoller();
    const [duplicate] = await waitFor(async () => {
      const body = (await call("/admin/duplicates")).body as unknown[];
      return body.length > 0 ? body : undefined;
    }, "the duplicate found");
    expect(duplicate).toMatchObject({ tenant: "acme", meetingId: "twice", nodes: ["bbb1", "bbb2"], attendees: [0, 0], resolution: "keptMapped" });
    await waitFor(() => fleet.simulator.node("bbb2").meeting(nodeMeetingId("acme", "twice")) === undefined, "the unmapped copy ended");
    expect(fleet.simulator.node("bbb1").meeting(nodeMeetingId("acme", "twice"))).toBeDefined();
  });

  it("serves Prometheus metrics with the fleet's gauges", async () => {
    const { fleet } = await startAdmin();
    fleet.startPoller();
    await waitFor(async () => (await nodeHash(fleet, "bbb1"))["health"] === "healthy", "polled");
    await call("/admin/nodes/bbb2/cordon", { method: "POST" });
    const { status, text } = await call("/metrics");
    expect(status).toBe(200);
    expect(text).toContain('mediaplane_node_state{cluster="default",node="bbb2",state="cordoned"} 1');
    expect(text).toContain('mediaplane_node_healthy{cluster="default",node="bbb1"} 1');
    expect(text).toContain('mediaplane_tenant_meetings{tenant="acme"} 0');
    expect(text).toContain("mediaplane_api_request_duration_seconds");
  });
});
