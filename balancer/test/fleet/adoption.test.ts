import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { signQuery } from "../../src/bbb/checksum.js";
import type { BalancerConfig } from "../../src/config/schema.js";
import { recentDuplicates } from "../../src/poller/adopt.js";
import { keys } from "../../src/store/keys.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { field, get, hostOf, nodeMeetings, signedUrl, tenants, type Fleet } from "../api/harness.js";
import { startApiFleetWithPoller, waitFor, type ApiFleetWithPoller } from "./harness.js";

/** The balancer API over three simulated nodes (n1..n3), with a poller beside it. */
let running: ApiFleetWithPoller | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(rule: BalancerConfig["poller"]["duplicateMeetings"] = "mostAttendees"): Promise<Fleet> {
  running = await startApiFleetWithPoller({ configure: (config) => ({ ...config, poller: { ...config.poller, duplicateMeetings: rule } }) });
  return running.fleet;
}

const redis = (): Redis => running!.redis;

const call = (fleet: Fleet, name: string, params: Record<string, string>) => get(signedUrl(fleet.balancers[0]!, tenants.acme, name, params));

async function create(fleet: Fleet, meetingId: string): Promise<string> {
  const answer = await call(fleet, "create", { name: meetingId, meetingID: meetingId, moderatorPW: "mod", attendeePW: "att" });
  expect(field(answer.body, "returncode")).toBe("SUCCESS");
  return hostOf(fleet, nodeMeetingId("acme", meetingId)) ?? "";
}

/** A create sent to a node directly, as the balancer sends it (or, without `asBalancer`, as someone by hand). */
async function createOnNode(fleet: Fleet, nodeId: string, meetingId: string, asBalancer = true): Promise<void> {
  const params = new URLSearchParams({ meetingID: nodeMeetingId("acme", meetingId), name: meetingId, moderatorPW: "mod", attendeePW: "att" });
  if (asBalancer) params.set("meta_mediaplane-tenant", "acme");
  const node = fleet.config.nodes.find((entry) => entry.id === nodeId)!;
  const answer = await get(`${node.url}create?${signQuery("create", params.toString(), node.secret, "sha256")}`);
  expect(field(answer.body, "returncode")).toBe("SUCCESS");
}

const mappedTo = async (meetingId: string): Promise<string | undefined> => (await redis().hget(keys.meetings("acme"), meetingId)) ?? undefined;

describe("meetings Redis lost", () => {
  it("are mapped again by the next poll of their node: joins find them and a create does not start a second copy", async () => {
    const fleet = await start();
    const host = await create(fleet, "survives-redis");
    await redis().flushall();
    expect(field((await call(fleet, "join", { meetingID: "survives-redis", fullName: "Ada", role: "VIEWER", redirect: "false" })).body, "messageKey")).toBe("invalidMeetingIdentifier");
    expect(await waitFor(() => mappedTo("survives-redis"), "the poll to adopt the meeting")).toBe(host);
    const join = await call(fleet, "join", { meetingID: "survives-redis", fullName: "Ada", role: "VIEWER" });
    expect(join.status).toBe(302);
    expect(join.location?.startsWith(fleet.simulator.node(host).apiUrl)).toBe(true);
    const again = await call(fleet, "create", { name: "survives-redis", meetingID: "survives-redis", moderatorPW: "mod", attendeePW: "att" });
    expect(field(again.body, "messageKey")).toBe("duplicateWarning");
    expect(Object.values(nodeMeetings(fleet)).flat()).toEqual(["acme~survives-redis"]);
  });

  it("are not adopted when made on a node by hand without the balancer's tenant metadata", async () => {
    const fleet = await start();
    await createOnNode(fleet, "n1", "by-hand", false);
    await waitFor(async () => (await redis().hget(keys.node("default", "n1"), "lastSuccessAt")) ?? undefined, "a poll of n1");
    await waitFor(async () => Number(await redis().hget(keys.node("default", "n1"), "meetings")) === 1, "a poll that saw the meeting");
    expect(await mappedTo("by-hand")).toBeUndefined();
  });
});

describe("a meeting found running on two nodes", () => {
  /** acme's meeting mapped to one node, with a second copy (made by a retried create) on another. */
  async function duplicated(fleet: Fleet, meetingId: string): Promise<{ mapped: string; other: string }> {
    const mapped = await create(fleet, meetingId);
    const other = ["n1", "n2", "n3"].find((id) => id !== mapped)!;
    await createOnNode(fleet, other, meetingId);
    return { mapped, other };
  }

  it("keeps the copy with more attendees, ends the other, and shows the operator what it did", async () => {
    const fleet = await start("mostAttendees");
    const { mapped, other } = await duplicated(fleet, "twice");
    fleet.simulator.node(other).addAttendees(nodeMeetingId("acme", "twice"), 3);
    expect(await waitFor(async () => ((await mappedTo("twice")) === other ? other : undefined), "the mapping to move to the busier copy")).toBe(other);
    await waitFor(() => nodeMeetings(fleet)[mapped]?.length === 0, "the quieter copy to end");
    expect(hostOf(fleet, "acme~twice")).toBe(other);
    const [record] = await recentDuplicates(redis());
    expect(record).toMatchObject({ tenant: "acme", meetingId: "twice", nodes: [mapped, other], attendees: [0, 3], resolution: "keptBusier" });
  });

  it("keeps the mapped copy on a tie, ending the other", async () => {
    const fleet = await start("mostAttendees");
    const { mapped, other } = await duplicated(fleet, "tied");
    await waitFor(() => nodeMeetings(fleet)[other]?.length === 0, "the unmapped copy to end");
    expect(await mappedTo("tied")).toBe(mapped);
    expect(hostOf(fleet, "acme~tied")).toBe(mapped);
  });

  it("keeps the mapped copy whatever its attendees under the rule `mapped`", async () => {
    const fleet = await start("mapped");
    const { mapped, other } = await duplicated(fleet, "mapped-wins");
    fleet.simulator.node(other).addAttendees(nodeMeetingId("acme", "mapped-wins"), 5);
    await waitFor(() => nodeMeetings(fleet)[other]?.length === 0, "the unmapped copy to end");
    expect(await mappedTo("mapped-wins")).toBe(mapped);
  });

  it("ends neither copy under the rule `report`, and reports it", async () => {
    const fleet = await start("report");
    const { mapped, other } = await duplicated(fleet, "reported");
    const record = await waitFor(async () => (await recentDuplicates(redis()))[0], "the duplicate to be reported");
    expect(record).toMatchObject({ meetingId: "reported", nodes: [mapped, other], resolution: "reported" });
    expect(hostOf(fleet, "acme~reported")).toBeDefined();
    expect(nodeMeetings(fleet)[mapped]).toEqual(["acme~reported"]);
    expect(nodeMeetings(fleet)[other]).toEqual(["acme~reported"]);
    expect(await mappedTo("reported")).toBe(mapped);
  });
});
