import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { startAdminServer } from "../../src/admin/adminServer.js";
import { keys } from "../../src/store/keys.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { field, get, hostOf, signedUrl, tenants, type Fleet } from "../api/harness.js";
import { adminToken, silentLogger, startApiFleetWithPoller, waitFor, type ApiFleetWithPoller } from "./harness.js";

let running: ApiFleetWithPoller | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** The balancer API over three simulated nodes, with a poller beside it. */
async function startWithPoller(): Promise<Fleet> {
  running = await startApiFleetWithPoller();
  return running.fleet;
}

const redis = (): Redis => running!.redis;

async function create(fleet: Fleet, meetingId: string): Promise<string> {
  const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: `Meeting ${meetingId}`, meetingID: meetingId }));
  expect(field(answer.body, "returncode")).toBe("SUCCESS");
  // Where the balancer mapped it (a dead node may still hold an old meeting of the same ID in memory).
  const mapped = (await redis().hget(keys.meetings("acme"), meetingId)) ?? "";
  expect(hostOf(fleet, nodeMeetingId("acme", meetingId))).toBeDefined();
  return mapped;
}

async function nodeRecord(nodeId: string): Promise<Record<string, string>> {
  return redis().hgetall(keys.node("default", nodeId));
}

describe("a node killed while meetings run", () => {
  it("is out of the pool after unhealthyAfter failed polls, and new creates avoid it", async () => {
    const fleet = await startWithPoller();
    await waitFor(async () => (await nodeRecord("n3"))["health"] === "healthy", "first polls");
    const victim = await create(fleet, "doomed");
    fleet.simulator.node(victim).setFailure("down");
    const record = await waitFor(async () => {
      const hash = await nodeRecord(victim);
      return hash["health"] === "unhealthy" ? hash : undefined;
    }, "the victim unhealthy");
    // Out on the second failed poll (unhealthyAfter = 2): one interval after the first miss.
    expect(record["failStreak"]).toBe("2");
    for (let i = 0; i < 6; i++) expect(await create(fleet, `after-${i}`)).not.toBe(victim);
  });

  it("has its meetings released: the tenant gets not-found, and a new create of the ID lands on a live node", async () => {
    const fleet = await startWithPoller();
    await waitFor(async () => (await nodeRecord("n3"))["health"] === "healthy", "first polls");
    const victim = await create(fleet, "standup");
    fleet.simulator.node(victim).setFailure("down");
    await waitFor(async () => (await redis().hget(keys.meetings("acme"), "standup")) === null, "mapping released");
    const info = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "getMeetingInfo", { meetingID: "standup" }));
    expect(field(info.body, "messageKey")).toBe("notFound");
    const listed = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "getMeetings", {}));
    expect(listed.body).not.toContain("standup");
    const again = await create(fleet, "standup");
    expect(again).not.toBe("");
    expect(again).not.toBe(victim);
  });
});

describe("Redis restarted under the poller", () => {
  it("keeps polling without a restart of its own and loses no mapping Redis kept", async () => {
    const fleet = await startWithPoller();
    const host = await create(fleet, "kept");
    await waitFor(async () => (await nodeRecord(host))["meetings"] === "1", "polled with the meeting");
    await fleet.redis.stop(true);
    await waitFor(() => redis().status !== "ready", "the poller's connection noticing the outage");
    await fleet.redis.restart();
    const restartedAt = Date.now();
    await waitFor(async () => Number((await nodeRecord(host))["lastPollAt"]) > restartedAt, "polled after the restart", 10_000);
    expect(await redis().hget(keys.meetings("acme"), "kept")).toBe(host);
    expect(await redis().zrange(keys.pool("default"), "0", "-1")).toHaveLength(3);
    const info = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "getMeetingInfo", { meetingID: "kept" }));
    expect(field(info.body, "returncode")).toBe("SUCCESS");
  });
});

describe("the tenant API", () => {
  it("cannot reach admin functions, with or without the admin token", async () => {
    const fleet = await startWithPoller();
    const admin = await startAdminServer({ config: fleet.config, redisUrl: fleet.redis.url, host: "127.0.0.1", port: 0, token: adminToken, logger: silentLogger() });
    try {
      const api = fleet.balancers[0]!.url;
      const paths = ["/admin/nodes", "/admin/nodes/n1/panic", "/admin/stats", "/metrics", "/t/acme/admin/nodes/n1/panic", "/t/acme/bigbluebutton/api/admin/nodes/n1/panic"];
      for (const path of paths) {
        for (const method of ["GET", "POST"] as const) {
          const answer = await get(`${api}${path}`, { method, headers: { authorization: `Bearer ${adminToken}` } });
          expect(answer.contentType ?? "").not.toContain("json");
          expect(answer.body).not.toMatch(/mediaplane_|"state"|"nodes"/);
        }
      }
      expect((await nodeRecord("n1"))["state"]).toBe("enabled");
      // The same call on the admin port does act: the fence is the port, not an obscure path.
      const direct = await get(`${admin.url}/admin/nodes/n1/cordon`, { method: "POST", headers: { authorization: `Bearer ${adminToken}` } });
      expect(direct.status).toBe(200);
      expect((await nodeRecord("n1"))["state"]).toBe("cordoned");
    } finally {
      await admin.close();
    }
  });
});
