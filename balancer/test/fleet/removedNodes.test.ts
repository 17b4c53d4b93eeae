import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startAdminServer, type RunningAdminServer } from "../../src/admin/adminServer.js";
import { startApiServer, type RunningApiServer } from "../../src/apiServer.js";
import { runCli } from "../../src/cli/run.js";
import { parseBalancerConfig, renderBalancerConfigFile, type BalancerConfig, type BalancerConfigInput } from "../../src/config/schema.js";
import { setNodeState } from "../../src/fleet/fleetStore.js";
import type { FleetStats, NodeStats } from "../../src/observability/stats.js";
import { startPoller, type Poller } from "../../src/poller/poller.js";
import { keys } from "../../src/store/keys.js";
import { field, get, signedUrl } from "../api/harness.js";
import { adminToken, meetingReleased, pollIntervalMs, startFleet, tenantSecret, waitFor, type Fleet } from "./harness.js";

const acme = { slug: "acme", secret: tenantSecret };
const globex = { slug: "globex", secret: `${tenantSecret}-globex` };
/** More poller cycles than a node may go unnamed before it is retired (`retireAfterIntervals`). */
const cyclesBeyondRetirement = 6;

let fleet: Fleet | undefined;
const running: Array<{ close(): Promise<void> } | Poller> = [];

afterEach(async () => {
  for (const item of running.splice(0).reverse()) await ("stop" in item ? item.stop() : item.close());
  await fleet?.close();
  fleet = undefined;
});

/** The fleet's config file as the operator edits it: the same file with one node taken out. */
function configInputWithout(fleet: Fleet, nodeId: string): BalancerConfigInput {
  return { ...fleet.configInput, nodes: (fleet.configInput.nodes ?? []).filter((node) => node.id !== nodeId) };
}

function configWithout(fleet: Fleet, nodeId: string): BalancerConfig {
  return parseBalancerConfig(configInputWithout(fleet, nodeId));
}

/** Runs the admin CLI against the fleet with a config file of `input`. */
async function cliWith(fleet: Fleet, input: BalancerConfigInput, args: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mediaplane-removed-"));
  try {
    const configFile = join(dir, "balancer.yaml");
    await writeFile(configFile, renderBalancerConfigFile(input));
    const { code, stdout } = await runCli(args, { CONFIG_FILE: configFile, REDIS_URL: fleet.redisServer.url });
    expect(code).toBe(0);
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function pollerWith(fleet: Fleet, config: BalancerConfig): Poller {
  const poller = startPoller({ redis: fleet.redis, config, logger: fleet.logger, intervalMs: pollIntervalMs });
  running.push(poller);
  return poller;
}

async function apiWith(fleet: Fleet, config: BalancerConfig): Promise<RunningApiServer> {
  const api = await startApiServer({ config, redisUrl: fleet.redisServer.url, host: "127.0.0.1", port: 0, baseDomain: "bbb.test", trustedProxies: [], logger: fleet.logger });
  running.push(api);
  return api;
}

async function adminWith(fleet: Fleet, config: BalancerConfig): Promise<RunningAdminServer> {
  const admin = await startAdminServer({ config, redisUrl: fleet.redisServer.url, host: "127.0.0.1", port: 0, token: adminToken, logger: fleet.logger });
  running.push(admin);
  return admin;
}

async function adminGet<T>(admin: RunningAdminServer, path: string): Promise<T> {
  const response = await fetch(`${admin.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

async function listedMeetingIds(api: RunningApiServer, tenant: { slug: string; secret: string }): Promise<string[]> {
  const answer = await get(signedUrl(api, tenant, "getMeetings", {}));
  expect(field(answer.body, "returncode")).toBe("SUCCESS");
  return [...answer.body.matchAll(/<meetingID>([^<]*)<\/meetingID>/g)].map((match) => match[1] ?? "");
}

/** Waits until the poller has run `count` more cycles. */
function cycles(poller: Poller, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => poller.onCycle(() => (seen += 1) === count && resolve()));
}

/**
 * Three nodes, tenants' meetings on bbb3 and one on bbb1, all polled once by a poller of the original config
 * (so getMeetings lists them); that poller then stops, as the old replicas of a rolling update do.
 */
async function meetingsOnBbb3(): Promise<Fleet> {
  fleet = await startFleet({ nodes: 3 });
  await fleet.createMeeting("acme", "standup", "bbb3");
  await fleet.createMeeting("globex", "board", "bbb3");
  await fleet.createMeeting("acme", "kept", "bbb1");
  const oldPoller = fleet.startPoller();
  await waitFor(async () => (await fleet!.redis.hlen(keys.summaries("acme"))) === 2 && (await fleet!.redis.hexists(keys.summaries("globex"), "board")), "first poll's summaries");
  await oldPoller.stop();
  // The voice bridge the node gave "board", held fleet-wide as the API's create holds it.
  const boardSummary = (await fleet.redis.hget(keys.summaries("globex"), "board")) ?? "";
  const voiceBridge = field(boardSummary, "voiceBridge") ?? "";
  expect(voiceBridge).toMatch(/^\d+$/);
  await fleet.redis.hset(keys.voiceBridges(), voiceBridge, "globex\nboard");
  return fleet;
}

/**
 * Whether the retirement has released both tenants' meetings on bbb3. They are released side by side, one
 * tenant's call each, so one tenant's release can be through while the other's is still under way.
 */
async function bbb3MeetingsReleased(fleet: Fleet): Promise<boolean> {
  const released = await Promise.all([meetingReleased(fleet, "acme", "standup", "bbb3"), meetingReleased(fleet, "globex", "board", "bbb3")]);
  return released.every(Boolean);
}

describe("a node removed from the config while tenants have meetings on it", () => {
  it("is no longer listed by getMeetings once a poller with the new config runs", async () => {
    const fleet = await meetingsOnBbb3();
    const config = configWithout(fleet, "bbb3");
    const api = await apiWith(fleet, config);
    expect(await listedMeetingIds(api, acme)).toEqual(expect.arrayContaining(["standup", "kept"]));
    pollerWith(fleet, config);
    await waitFor(() => bbb3MeetingsReleased(fleet), "bbb3's meetings released");
    expect(await listedMeetingIds(api, acme)).toEqual(["kept"]);
    expect(await listedMeetingIds(api, globex)).toEqual([]);
  });

  it("has its meetings released, so a new create of the same ID lands on a remaining node", async () => {
    const fleet = await meetingsOnBbb3();
    const config = configWithout(fleet, "bbb3");
    const api = await apiWith(fleet, config);
    pollerWith(fleet, config);
    await waitFor(async () => (await fleet.redis.hget(keys.meetings("acme"), "standup")) === null, "standup released");
    const created = await get(signedUrl(api, acme, "create", { meetingID: "standup", name: "Standup again" }));
    expect(field(created.body, "returncode")).toBe("SUCCESS");
    expect(["bbb1", "bbb2"]).toContain(await fleet.redis.hget(keys.meetings("acme"), "standup"));
  });

  it("leaves no record, pool entry, voice bridge or registry entry of the node in Redis", async () => {
    const fleet = await meetingsOnBbb3();
    const config = configWithout(fleet, "bbb3");
    pollerWith(fleet, config);
    await waitFor(async () => (await fleet.redis.exists(keys.node("default", "bbb3"))) === 0, "bbb3's record deleted");
    await waitFor(async () => (await fleet.redis.zrange(keys.nodeRegistry(), "0", "-1")).join() === "default/bbb1,default/bbb2", "bbb3 out of the registry");
    expect(await fleet.redis.zrange(keys.pool("default"), "0", "-1")).not.toContain("bbb3");
    expect(await fleet.redis.exists(keys.nodeMeetings("default", "bbb3"))).toBe(0);
    expect(await fleet.redis.hkeys(keys.summaries("globex"))).toEqual([]);
    expect(await fleet.redis.hlen(keys.voiceBridges())).toBe(0);
  });

  it("is shown neither by the admin API's nodes and tenant meetings nor by the stats", async () => {
    const fleet = await meetingsOnBbb3();
    const config = configWithout(fleet, "bbb3");
    const admin = await adminWith(fleet, config);
    pollerWith(fleet, config);
    await waitFor(() => bbb3MeetingsReleased(fleet), "bbb3's meetings released");
    const nodes = await adminGet<NodeStats[]>(admin, "/admin/nodes");
    expect(nodes.map((node) => node.id).sort()).toEqual(["bbb1", "bbb2"]);
    const stats = await adminGet<FleetStats>(admin, "/admin/stats");
    expect(stats.nodes.map((node) => node.id).sort()).toEqual(["bbb1", "bbb2"]);
    expect(stats.tenants["acme"]?.meetings).toBe(1);
    expect(stats.tenants["globex"]?.meetings).toBe(0);
    const meetings = await adminGet<Array<{ meetingId: string; node: string }>>(admin, "/admin/tenants/acme/meetings");
    expect(meetings.map((meeting) => meeting.node)).toEqual(["bbb1"]);
  });

  it("is shown neither by the CLI's nodes nor by its meetings", async () => {
    const fleet = await meetingsOnBbb3();
    pollerWith(fleet, configWithout(fleet, "bbb3"));
    await waitFor(() => bbb3MeetingsReleased(fleet), "bbb3's meetings released");
    const input = configInputWithout(fleet, "bbb3");
    const nodes = JSON.parse(await cliWith(fleet, input, ["--json", "nodes"])) as NodeStats[];
    expect(nodes.map((node) => node.id).sort()).toEqual(["bbb1", "bbb2"]);
    const meetings = JSON.parse(await cliWith(fleet, input, ["--json", "meetings"])) as Array<{ meetingId: string; node: string }>;
    expect(meetings).toEqual([expect.objectContaining({ meetingId: "kept", node: "bbb1" })]);
  });

  it("also releases a meeting mapped to it that its meeting set lacks (a create cut short after its claim)", async () => {
    const fleet = await meetingsOnBbb3();
    await fleet.redis.hset(keys.meetings("acme"), "halfway", "bbb3");
    pollerWith(fleet, configWithout(fleet, "bbb3"));
    await waitFor(async () => (await fleet.redis.exists(keys.node("default", "bbb3"))) === 0, "bbb3 retired");
    await waitFor(async () => (await fleet.redis.hget(keys.meetings("acme"), "halfway")) === null, "halfway released");
  });

  it("keeps its meetings while a poller of the old config still runs beside the new one (rolling update)", async () => {
    const fleet = await meetingsOnBbb3();
    const oldPoller = fleet.startPoller();
    const newPoller = pollerWith(fleet, configWithout(fleet, "bbb3"));
    await cycles(newPoller, cyclesBeyondRetirement);
    expect(await fleet.redis.hget(keys.meetings("acme"), "standup")).toBe("bbb3");
    expect(await fleet.redis.exists(keys.node("default", "bbb3"))).toBe(1);
    await oldPoller.stop();
    await waitFor(async () => (await fleet.redis.hget(keys.meetings("acme"), "standup")) === null, "standup released after the old poller stopped");
  });
});

describe("a node moved to another cluster in the config", () => {
  it("keeps its meetings, now reconciled by the polls of its new cluster, and leaves its old cluster", async () => {
    const fleet = await meetingsOnBbb3();
    const moved = parseBalancerConfig({
      ...fleet.configInput,
      clusters: [{ name: "default" }, { name: "east" }],
      nodes: (fleet.configInput.nodes ?? []).map((node) => (node.id === "bbb3" ? { ...node, cluster: "east" } : node)),
    });
    pollerWith(fleet, moved);
    // Its old record goes first, its meeting set moves next, and only then does it leave the registry there.
    await waitFor(async () => (await fleet.redis.zscore(keys.nodeRegistry(), "default/bbb3")) === null, "bbb3 gone from its old cluster");
    expect(await fleet.redis.exists(keys.node("default", "bbb3"))).toBe(0);
    expect(await fleet.redis.hget(keys.meetings("acme"), "standup")).toBe("bbb3");
    expect((await fleet.redis.smembers(keys.nodeMeetings("east", "bbb3"))).sort()).toEqual(["acme\nstandup", "globex\nboard"]);
    expect(await fleet.redis.exists(keys.nodeMeetings("default", "bbb3"))).toBe(0);
    expect(await fleet.redis.zrange(keys.pool("default"), "0", "-1")).not.toContain("bbb3");
  });
});

describe("a node that is only cordoned", () => {
  it("keeps its meetings and its record", async () => {
    const fleet = await meetingsOnBbb3();
    await setNodeState(fleet.redis, fleet.node("bbb3"), "cordoned");
    const poller = pollerWith(fleet, fleet.config);
    await cycles(poller, cyclesBeyondRetirement);
    expect(await fleet.redis.hget(keys.meetings("acme"), "standup")).toBe("bbb3");
    expect(await fleet.redis.hget(keys.meetings("globex"), "board")).toBe("bbb3");
    expect(await fleet.redis.hget(keys.node("default", "bbb3"), "state")).toBe("cordoned");
  });
});
