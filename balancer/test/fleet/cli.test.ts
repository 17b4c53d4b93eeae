import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run.js";
import { renderBalancerConfigFile } from "../../src/config/schema.js";
import { keys } from "../../src/store/keys.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { nodeHash, poolMembers, startFleet, startSecondCopy, tenantSecret, waitFor, type Fleet } from "./harness.js";

let fleet: Fleet | undefined;
let dir: string | undefined;
afterEach(async () => {
  await fleet?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  fleet = undefined;
  dir = undefined;
});

/** A fleet and the environment the CLI runs with against it. */
async function startCliFleet(): Promise<{ fleet: Fleet; env: NodeJS.ProcessEnv }> {
  fleet = await startFleet({ nodes: 2 });
  dir = await mkdtemp(join(tmpdir(), "mediaplane-cli-"));
  const configFile = join(dir, "balancer.yaml");
  await writeFile(configFile, renderBalancerConfigFile(fleet.configInput));
  return { fleet, env: { CONFIG_FILE: configFile, REDIS_URL: fleet.redisServer.url, BASE_DOMAIN: "bbb.example.org" } };
}

describe("mediaplane-admin", () => {
  it("lists nodes with state, health and load", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.createMeeting("acme", "class", "bbb1");
    fleet.startPoller();
    await waitFor(async () => (await nodeHash(fleet, "bbb1"))["meetings"] === "1", "polled");
    const { code, stdout } = await runCli(["nodes"], env);
    expect(code).toBe(0);
    const [header, bbb1] = stdout.split("\n");
    expect(header).toMatch(/^NODE\s+CLUSTER\s+STATE\s+HEALTH\s+NEW MEETINGS\s+LOAD\s+MEETINGS/);
    expect(bbb1).toMatch(/^bbb1\s+default\s+enabled\s+healthy\s+yes\s+30\s+1\s+0\s/);
  });

  it("cordons a node and enables it again", async () => {
    const { fleet, env } = await startCliFleet();
    fleet.startPoller();
    await waitFor(async () => (await poolMembers(fleet)).length === 2, "both in the pool");
    expect(await runCli(["cordon", "bbb2"], env)).toMatchObject({ code: 0, stdout: "bbb2: enabled -> cordoned" });
    expect(await poolMembers(fleet)).toEqual(["bbb1"]);
    expect(await runCli(["enable", "bbb2"], env)).toMatchObject({ code: 0, stdout: "bbb2: cordoned -> enabled" });
    expect((await poolMembers(fleet)).sort()).toEqual(["bbb1", "bbb2"]);
  });

  it("panics a node: its meetings are released and ended on it", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.createMeeting("acme", "class", "bbb1");
    const { code, stdout } = await runCli(["panic", "bbb1"], env);
    expect(code).toBe(0);
    expect(stdout).toBe("bbb1: enabled -> panic; released 1 meetings; ended 1 on the node");
    expect(await fleet.redis.hget(keys.meetings("acme"), "class")).toBeNull();
    await waitFor(() => fleet.simulator.node("bbb1").meeting(nodeMeetingId("acme", "class")) === undefined, "ended on the node");
  });

  it("shows how each node's load is computed", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.createMeeting("acme", "class", "bbb1");
    fleet.simulator.node("bbb1").addAttendees(nodeMeetingId("acme", "class"), 5);
    fleet.startPoller();
    await waitFor(async () => (await nodeHash(fleet, "bbb1"))["attendees"] === "5", "polled");
    const { stdout } = await runCli(["--json", "load"], env);
    expect(JSON.parse(stdout)).toContainEqual({ node: "bbb1", attendees: "5", meetings: "30", cpu: "0", load: "35", pool: "35" });
  });

  it("lists meetings per tenant", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.createMeeting("acme", "class", "bbb1");
    await fleet.createMeeting("globex", "class", "bbb2");
    const all = await runCli(["meetings"], env);
    expect(all.stdout.split("\n").slice(1)).toEqual([expect.stringMatching(/^acme\s+class\s+bbb1/), expect.stringMatching(/^globex\s+class\s+bbb2/)]);
    const one = await runCli(["--json", "meetings", "globex"], env);
    expect(JSON.parse(one.stdout)).toEqual([{ tenant: "globex", meetingId: "class", node: "bbb2" }]);
  });

  it("lists the meetings mapped to one node", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.createMeeting("acme", "class", "bbb1");
    await fleet.createMeeting("globex", "class", "bbb1");
    await fleet.createMeeting("acme", "other", "bbb2");
    const table = await runCli(["node-meetings", "bbb1"], env);
    expect(table.stdout.split("\n")).toEqual([
      expect.stringMatching(/^TENANT\s+MEETING\s+NODE\s+ATTENDEES\s+NAME$/),
      expect.stringMatching(/^acme\s+class\s+bbb1\s+-$/),
      expect.stringMatching(/^globex\s+class\s+bbb1\s+-$/),
    ]);
    const json = await runCli(["--json", "node-meetings", "bbb2"], env);
    expect(JSON.parse(json.stdout)).toEqual([{ tenant: "acme", meetingId: "other", node: "bbb2" }]);
    expect(await runCli(["node-meetings", "nope"], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown node "nope"') });
  });

  it("ends a meeting on its node and releases its mapping", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.createMeeting("acme", "class", "bbb1");
    expect(await runCli(["end", "acme", "class"], env)).toMatchObject({ code: 0, stdout: "acme/class: ended on bbb1, mapping released" });
    expect(fleet.simulator.node("bbb1").meeting(nodeMeetingId("acme", "class"))?.hasBeenForciblyEnded).toBe(true);
    expect(await fleet.redis.hget(keys.meetings("acme"), "class")).toBeNull();
  });

  it("fails an end the node does not accept, and leaves the meeting mapped", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.createMeeting("acme", "class", "bbb1");
    fleet.simulator.node("bbb1").setFailure("down");
    expect(await runCli(["end", "acme", "class"], env)).toMatchObject({ code: 1, stderr: "acme/class: bbb1 did not accept the end: still mapped" });
    expect(await fleet.redis.hget(keys.meetings("acme"), "class")).toBe("bbb1");
  });

  it("fails the end of a meeting that does not run, and refuses an end without a meeting ID", async () => {
    const { env } = await startCliFleet();
    expect(await runCli(["end", "acme", "nothing"], env)).toMatchObject({ code: 1, stderr: "acme/nothing: no such meeting (already gone)" });
    expect(await runCli(["end", "acme"], env)).toMatchObject({ code: 2, stderr: expect.stringContaining("end needs a tenant slug and a meeting ID") });
    expect(await runCli(["end", "nobody", "x"], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown tenant "nobody"') });
  });

  it("lists meetings polls found running on two nodes", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.createMeeting("acme", "twice", "bbb1");
    await startSecondCopy(fleet, "acme", "twice", "bbb2");
    fleet.startPoller();
    const found = await waitFor(async () => {
      const { stdout } = await runCli(["--json", "duplicates"], env);
      const list = JSON.parse(stdout) as unknown[];
      return list.length > 0 ? list : undefined;
    }, "the duplicate found");
    expect(found[0]).toMatchObject({ tenant: "acme", meetingId: "twice", nodes: ["bbb1", "bbb2"], resolution: "keptMapped" });
    const [header, row] = (await runCli(["duplicates"], env)).stdout.split("\n");
    expect(header).toMatch(/^AT\s+TENANT\s+MEETING\s+MAPPED NODE\s+OTHER NODE\s+ATTENDEES\s+RESOLUTION$/);
    expect(row).toMatch(/^\d{4}-\d\d-\d\dT\S+\s+acme\s+twice\s+bbb1\s+bbb2\s+0 \/ 0\s+keptMapped$/);
  });

  it("prints a tenant's API URLs and secrets", async () => {
    const { env } = await startCliFleet();
    const { stdout } = await runCli(["tenant", "acme"], env);
    expect(stdout).toBe(
      [
        "tenant:  acme",
        "url:     https://acme.bbb.example.org/bigbluebutton/api/",
        "url:     https://bbb.example.org/t/acme/bigbluebutton/api/",
        `secret:  ${tenantSecret}`,
      ].join("\n"),
    );
  });

  it("prints the stats document", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.createMeeting("acme", "class", "bbb1");
    const stats = JSON.parse((await runCli(["stats"], env)).stdout) as { tenants: Record<string, unknown>; nodes: unknown[] };
    expect(stats.tenants["acme"]).toEqual({ meetings: 1, attendees: 0 });
    expect(stats.nodes).toHaveLength(2);
  });

  it("refuses an unknown node or command with usage, exit code 2", async () => {
    const { env } = await startCliFleet();
    expect(await runCli(["cordon", "nope"], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown node "nope"') });
    expect(await runCli(["reboot"], env)).toMatchObject({ code: 2, stderr: expect.stringContaining("Usage: mediaplane-admin") });
  });

  it("says Redis is unreachable instead of hanging", async () => {
    const { fleet, env } = await startCliFleet();
    await fleet.redisServer.stop();
    expect(await runCli(["nodes"], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^failed: /) });
  });

  it("runs as an executable", async () => {
    const { env } = await startCliFleet();
    const child = spawn(process.execPath, ["--import", "tsx", "balancer/src/cli/main.ts", "tenant", "globex"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(0);
    expect(stdout).toContain("url:     https://globex.bbb.example.org/bigbluebutton/api/");
  });
});
