import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { endTenantMeeting } from "../../src/fleet/endMeeting.js";
import { NodeClients } from "../../src/nodes/client.js";
import { registry } from "../../src/observability/metrics.js";
import { keys } from "../../src/store/keys.js";
import { buildDirectory } from "../../src/tenancy/directory.js";
import { waitFor } from "../fleet/harness.js";
import { field, get, hostOf, nodeMeetings, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

/**
 * Creates while nodes die, hang or race an end: the node timeout is 1 s, a create may try three nodes within 2.5 s,
 * and a node that fails a create is held out of placement for 2 s.
 */
const createBudgetMs = 2_500;
let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({
    replicas: 2,
    configure: (config) => ({ ...config, placement: { createAttempts: 3, createBudgetMs, holdOutSeconds: 2 } }),
  });
});
afterAll(async () => {
  await fleet.close();
});
afterEach(async () => {
  await resetFleet(fleet);
});

const call = (name: string, params: Record<string, string>, replica = 0) => get(signedUrl(fleet.balancers[replica]!, tenants.acme, name, params));
const create = (meetingId: string, replica = 0) => call("create", { name: meetingId, meetingID: meetingId }, replica);

/** Makes `nodeId` the least-loaded node, so the next placement picks it. */
async function leastLoaded(nodeId: string): Promise<void> {
  const redis = fleet.balancers[0]!.redis;
  for (const node of fleet.config.nodes) await redis.zadd(keys.pool(node.cluster), node.id === nodeId ? 0 : 100, node.id);
}

async function createFailures(nodeId: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === "mediaplane_create_node_failures_total");
  return metric?.values.filter((value) => value.labels["node"] === nodeId).reduce((sum, value) => sum + Number(value.value), 0) ?? 0;
}

async function mappedTo(meetingId: string): Promise<string | null> {
  return fleet.balancers[0]!.redis.hget(keys.meetings("acme"), meetingId);
}

/** The node a create has claimed for a meeting, once it has. */
async function claimed(meetingId: string): Promise<string | undefined> {
  return (await mappedTo(meetingId)) ?? undefined;
}

describe("a node that dies", () => {
  it("does not fail a create: the create moves on to another node within the same request", async () => {
    await leastLoaded("n1");
    fleet.simulator.node("n1").setFailure("down");
    const answer = await create("moves-on");
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    const host = hostOf(fleet, "acme~moves-on");
    expect(host === "n2" || host === "n3").toBe(true);
    expect(await mappedTo("moves-on")).toBe(host);
  });

  it("gets no new meetings from any replica while it is held out after a failed create", async () => {
    await leastLoaded("n1");
    fleet.simulator.node("n1").setFailure("down");
    const failuresBefore = await createFailures("n1");
    expect(field((await create("first")).body, "returncode")).toBe("SUCCESS");
    // n1 still has the lowest load: only the hold-out keeps the other replica's creates away from it.
    for (let i = 0; i < 6; i++) expect(field((await create(`next-${i}`, 1)).body, "returncode")).toBe("SUCCESS");
    expect(await createFailures("n1")).toBe(failuresBefore + 1);
    expect(nodeMeetings(fleet)["n1"]).toEqual([]);
  });

  it("takes new meetings again once its hold-out has passed", async () => {
    await leastLoaded("n1");
    fleet.simulator.node("n1").setFailure("down");
    await create("while-down");
    fleet.simulator.node("n1").setFailure("none");
    await leastLoaded("n1");
    await waitFor(async () => (await fleet.balancers[0]!.redis.zcount(keys.holdOut("default"), "-inf", "+inf")) === 0, "the hold-out to expire", 5_000);
    await create("after-hold-out");
    expect(hostOf(fleet, "acme~after-hold-out")).toBe("n1");
  });

  it("leaves creates succeeding while any node of the tenant's clusters lives", async () => {
    fleet.simulator.node("n1").setFailure("down");
    fleet.simulator.node("n2").setFailure("down");
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => create(`survivor-${i}`, i % 2)));
    expect(answers.map((answer) => field(answer.body, "returncode"))).toEqual(Array(8).fill("SUCCESS"));
    expect(nodeMeetings(fleet)["n3"]).toHaveLength(8);
  });

  it("answers serverUnavailable within the create's budget when no node answers", async () => {
    for (const node of fleet.simulator.nodes.values()) node.setFailure("hang");
    const started = performance.now();
    const answer = await create("nowhere");
    const elapsed = performance.now() - started;
    expect(field(answer.body, "messageKey")).toBe("serverUnavailable");
    // A correctness bound (the budget), with room for a loaded machine; not a performance target.
    expect(elapsed).toBeLessThan(createBudgetMs + 1_500);
    expect(await mappedTo("nowhere")).toBeNull();
  });
});

describe("a node that hangs", () => {
  it("costs a create at most its timeout: the create succeeds on another node", async () => {
    await leastLoaded("n1");
    fleet.simulator.node("n1").setFailure("hang");
    const started = performance.now();
    const answer = await create("past-the-hang");
    const elapsed = performance.now() - started;
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(hostOf(fleet, "acme~past-the-hang")).not.toBe("n1");
    expect(elapsed).toBeLessThan(fleet.config.poller.timeoutMs + 1_500);
  });

  it("keeps the meetings it holds mapped, answering isMeetingRunning false and getMeetingInfo notFound meanwhile", async () => {
    await leastLoaded("n1");
    await create("on-hung-node");
    expect(hostOf(fleet, "acme~on-hung-node")).toBe("n1");
    fleet.simulator.node("n1").setFailure("hang");
    const running = await call("isMeetingRunning", { meetingID: "on-hung-node" });
    expect(field(running.body, "returncode")).toBe("SUCCESS");
    expect(field(running.body, "running")).toBe("false");
    const info = await call("getMeetingInfo", { meetingID: "on-hung-node" });
    expect(field(info.body, "returncode")).toBe("FAILED");
    expect(field(info.body, "messageKey")).toBe("notFound");
    expect(await mappedTo("on-hung-node")).toBe("n1");
    fleet.simulator.node("n1").setFailure("none");
    expect(field((await call("isMeetingRunning", { meetingID: "on-hung-node" })).body, "returncode")).toBe("SUCCESS");
    expect(field((await call("getMeetingInfo", { meetingID: "on-hung-node" })).body, "meetingID")).toBe("on-hung-node");
  });
});

describe("an end racing a create", () => {
  /** Holds every create at its node for a while, so an end can arrive while the node is still creating. */
  function slowCreates(): void {
    for (const node of fleet.simulator.nodes.values()) node.setLatency(600, "create");
  }
  afterEach(() => {
    for (const node of fleet.simulator.nodes.values()) node.setLatency(0, "create");
  });

  it("ends the meeting when the end arrives while the node is creating it: nothing runs unmapped", async () => {
    slowCreates();
    const creating = create("raced", 0);
    await waitFor(() => claimed("raced"), "the create's claim");
    const ended = await call("end", { meetingID: "raced" }, 1);
    expect(field(ended.body, "returncode")).toBe("SUCCESS");
    expect(field(ended.body, "messageKey")).toBe("sentEndMeetingRequest");
    expect(field((await creating).body, "returncode")).toBe("SUCCESS");
    await waitFor(() => Object.values(nodeMeetings(fleet)).flat().length === 0, "the meeting to end on its node");
    expect(await mappedTo("raced")).toBeNull();
  });

  it("keeps the mapping when the node says the meeting is not there while it is still creating it", async () => {
    slowCreates();
    const creating = create("not-yet", 0);
    await waitFor(() => claimed("not-yet"), "the create's claim");
    const info = await call("getMeetingInfo", { meetingID: "not-yet" }, 1);
    expect(field(info.body, "messageKey")).toBe("notFound");
    expect(field((await creating).body, "returncode")).toBe("SUCCESS");
    const host = hostOf(fleet, "acme~not-yet");
    expect(await mappedTo("not-yet")).toBe(host);
    const again = await create("not-yet", 1);
    expect(field(again.body, "messageKey")).toBe("duplicateWarning");
    expect(Object.values(nodeMeetings(fleet)).flat()).toEqual(["acme~not-yet"]);
  });

  it("ends the meeting an operator ends while the node is creating it: nothing runs unmapped", async () => {
    slowCreates();
    const creating = create("operator-raced", 0);
    await waitFor(() => claimed("operator-raced"), "the create's claim");
    const directory = buildDirectory(fleet.config);
    const clients = new NodeClients(directory.nodes.values(), { timeoutMs: 1_000 });
    const outcome = await endTenantMeeting(fleet.balancers[1]!.redis, clients, directory, "acme", "operator-raced");
    expect(outcome.kind).toBe("endAfterCreate");
    expect(field((await creating).body, "returncode")).toBe("SUCCESS");
    await waitFor(() => Object.values(nodeMeetings(fleet)).flat().length === 0, "the meeting to end on its node");
    expect(await mappedTo("operator-raced")).toBeNull();
  });

  it("lets the create win when the end arrives first", async () => {
    const ended = await call("end", { meetingID: "end-first" });
    expect(field(ended.body, "messageKey")).toBe("notFound");
    expect(field((await create("end-first")).body, "returncode")).toBe("SUCCESS");
    expect(await mappedTo("end-first")).toBe(hostOf(fleet, "acme~end-first"));
  });
});
