import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../balancer/src/store/keys.js";
import { adminToken, nodeHash, startFleetWithAdmin, waitFor, type FleetWithAdmin } from "../../balancer/test/fleet/harness.js";
import { nodeMeetingId } from "../../balancer/src/tenancy/nodeMeetingId.js";
import { drainCommand, enableAfterReplacementCommand, rosterCommand, type DrainSettings } from "../../components/bbb/drainCommands.js";

/**
 * The drain and re-enable commands as NodeDrain renders them, run by /bin/sh (with curl) against the balancer's
 * real admin server, Redis, poller and simulated BBB nodes: what `pulumi destroy` or a node replacement runs.
 */

let running: FleetWithAdmin | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function startBalancer(): Promise<FleetWithAdmin> {
  running = await startFleetWithAdmin();
  running.fleet.startPoller();
  return running;
}

const settings = (overrides: Partial<DrainSettings>): DrainSettings => ({
  adminBaseUrl: running?.admin.url ?? "",
  nodeId: "bbb1",
  timeoutSeconds: 30,
  panicOnTimeout: false,
  pollSeconds: 1,
  ...overrides,
});

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a rendered command as @pulumi/command's local provider does: `/bin/sh -c <text>`, the token in the environment. */
function runCommand(text: string, token = adminToken, previousStdout?: string): { done: Promise<Finished>; running: () => boolean } {
  const env = { PATH: process.env["PATH"] ?? "", BALANCER_ADMIN_TOKEN: token, ...(previousStdout === undefined ? {} : { PULUMI_COMMAND_STDOUT: previousStdout }) };
  const child = spawn("/bin/sh", ["-c", text], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Finished>((resolve) => child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr })));
  return { done, running: () => child.exitCode === null && child.signalCode === null };
}

describe("draining a node before its VM is deleted", () => {
  it("waits while the node has a meeting, and succeeds once the meeting has ended and the node is disabled", async () => {
    const { fleet } = await startBalancer();
    await fleet.createMeeting("acme", "class", "bbb1");
    const drain = runCommand(drainCommand(settings({})));
    await waitFor(async () => (await nodeHash(fleet, "bbb1"))["state"] === "draining", "draining");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(drain.running()).toBe(true);
    await fleet.simulator.node("bbb1").endMeeting(nodeMeetingId("acme", "class"));
    const finished = await drain.done;
    expect(finished).toMatchObject({ code: 0, stdout: "bbb1: drained\n" });
    expect((await nodeHash(fleet, "bbb1"))["state"]).toBe("disabled");
  });

  it("fails after its bounded wait without the operator's consent, and the meeting keeps running", async () => {
    const { fleet } = await startBalancer();
    await fleet.createMeeting("acme", "class", "bbb1");
    const finished = await runCommand(drainCommand(settings({ timeoutSeconds: 3 }))).done;
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain("bbb1: still has meetings after 3 s; the node stays");
    expect(finished.stderr).toContain("bbb.fleet.drain.panicOnTimeout: true");
    expect(await fleet.redis.hget(keys.meetings("acme"), "class")).toBe("bbb1");
    expect(fleet.simulator.node("bbb1").meeting(nodeMeetingId("acme", "class"))).toBeDefined();
  });

  it("panics after its bounded wait with the operator's consent: the meeting is released and ended", async () => {
    const { fleet } = await startBalancer();
    await fleet.createMeeting("acme", "class", "bbb1");
    const finished = await runCommand(drainCommand(settings({ timeoutSeconds: 2, panicOnTimeout: true }))).done;
    expect(finished.code).toBe(0);
    expect(finished.stderr).toContain("ending them (bbb.fleet.drain.panicOnTimeout)");
    expect(await fleet.redis.hget(keys.meetings("acme"), "class")).toBeNull();
    expect((await nodeHash(fleet, "bbb1"))["state"]).toBe("panic");
  });

  it("has nothing to drain on a node the balancer does not list", async () => {
    await startBalancer();
    const finished = await runCommand(drainCommand(settings({ nodeId: "bbb9" }))).done;
    expect(finished).toMatchObject({ code: 0, stdout: "bbb9: the balancer does not list this node; nothing to drain\n" });
  });

  it("fails, and so keeps the node, when the admin API refuses its token", async () => {
    const { fleet } = await startBalancer();
    const finished = await runCommand(drainCommand(settings({})), "wrong-token-0123456789abcdef").done;
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain("bbb1: the balancer's admin API did not drain it (HTTP 401)");
    expect((await nodeHash(fleet, "bbb1"))["state"]).toBe("enabled");
  });

  it("fails when the admin API cannot be reached at all", async () => {
    const finished = await runCommand(drainCommand(settings({ adminBaseUrl: "http://127.0.0.1:9" }))).done;
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain("(HTTP 000)");
  });
});

describe("a node back on a new machine", () => {
  it("takes meetings again: the disabled state its drain left is lifted", async () => {
    const { fleet } = await startBalancer();
    expect((await runCommand(drainCommand(settings({}))).done).code).toBe(0);
    expect((await nodeHash(fleet, "bbb1"))["state"]).toBe("disabled");
    const finished = await runCommand(enableAfterReplacementCommand(settings({}))).done;
    expect(finished).toMatchObject({ code: 0, stdout: "bbb1: enabled again\n" });
    expect((await nodeHash(fleet, "bbb1"))["state"]).toBe("enabled");
  });

  it("is left alone when the balancer cannot be reached yet (a new stack)", async () => {
    const finished = await runCommand(enableAfterReplacementCommand(settings({ adminBaseUrl: "http://127.0.0.1:9" }))).done;
    expect(finished.code).toBe(0);
  });
});

describe("the fleet's roster, run again after nodes left the fleet", () => {
  it("drains the node that left (while the balancer still lists it) and prints the new list last", async () => {
    const { fleet } = await startBalancer();
    await fleet.createMeeting("acme", "class", "bbb1");
    const roster = runCommand(rosterCommand(settings({}), ["bbb2"]), adminToken, "bbb1 bbb2");
    await waitFor(async () => (await nodeHash(fleet, "bbb1"))["state"] === "draining", "draining");
    expect((await nodeHash(fleet, "bbb2"))["state"]).toBe("enabled");
    await fleet.simulator.node("bbb1").endMeeting(nodeMeetingId("acme", "class"));
    const finished = await roster.done;
    expect(finished.code).toBe(0);
    expect(finished.stdout).toBe("bbb2\n");
    expect(finished.stderr).toContain("bbb1: drained");
  });

  it("fails, so the balancer's config keeps the node, when the node does not empty within the bound", async () => {
    const { fleet } = await startBalancer();
    await fleet.createMeeting("acme", "class", "bbb1");
    const finished = await runCommand(rosterCommand(settings({ timeoutSeconds: 2 }), ["bbb2"]), adminToken, "bbb1 bbb2").done;
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain("bbb1: still has meetings after 2 s; the node stays");
    expect(await fleet.redis.hget(keys.meetings("acme"), "class")).toBe("bbb1");
  });

  it("drains nothing on its first run (a new fleet) or when no node left", async () => {
    await startBalancer();
    expect(await runCommand(rosterCommand(settings({}), ["bbb1", "bbb2"])).done).toMatchObject({ code: 0, stdout: "bbb1 bbb2\n", stderr: "" });
    expect(await runCommand(rosterCommand(settings({}), ["bbb1", "bbb2", "bbb3"]), adminToken, "bbb1: drained\nbbb1 bbb2").done).toMatchObject({
      code: 0,
      stdout: "bbb1 bbb2 bbb3\n",
      stderr: "",
    });
  });
});
