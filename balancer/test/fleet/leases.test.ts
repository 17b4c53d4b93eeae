import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { renderBalancerConfigFile } from "../../src/config/schema.js";
import type { CycleSummary } from "../../src/poller/poller.js";
import { keyPrefix } from "../../src/store/keys.js";
import { startFleet, waitFor, type Fleet } from "./harness.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/** How many getMeetings each simulated node received in each interval slot. */
function pollsPerNodeAndSlot(fleet: Fleet, intervalMs: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [id, node] of fleet.simulator.nodes) {
    for (const request of node.requests) {
      if (request.call !== "getMeetings") continue;
      const key = `${id}@${Math.floor(request.at / intervalMs)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

describe("poll leases", () => {
  it("let two pollers split 100 nodes with no node polled twice in one interval", async () => {
    // 100 nodes, two pollers and the simulator share this process (and the machine with other tests).
    const intervalMs = 1_000;
    fleet = await startFleet({ nodes: 100, intervalMs });
    const cycles = new Map<string, CycleSummary[]>([
      ["p1", []],
      ["p2", []],
    ]);
    const polledPerSlot = (): Map<number, string[]> => {
      const bySlot = new Map<number, string[]>();
      for (const { node, slot } of [...cycles.values()].flat().flatMap((summary) => summary.polled)) {
        bySlot.set(slot, [...(bySlot.get(slot) ?? []), node]);
      }
      return bySlot;
    };
    const pollers = [...cycles].map(([pollerId, summaries]) => {
      const poller = fleet!.startPoller({ pollerId });
      poller.onCycle((summary) => summaries.push(summary));
      return poller;
    });
    await waitFor(() => [...polledPerSlot().values()].filter((polled) => new Set(polled).size === 100).length >= 3, "three intervals covering all 100 nodes", 20_000);
    await Promise.all(pollers.map((poller) => poller.stop()));

    for (const polled of polledPerSlot().values()) expect(new Set(polled).size).toBe(polled.length);
    expect([...pollsPerNodeAndSlot(fleet, intervalMs).values()].every((count) => count === 1)).toBe(true);
    for (const summaries of cycles.values()) expect(summaries.reduce((sum, summary) => sum + summary.polled.length, 0)).toBeGreaterThan(0);
  });

  it("let the surviving poller take over the nodes of a poller killed mid-run", async () => {
    const intervalMs = 1_000;
    fleet = await startFleet({ nodes: 20, intervalMs, config: { poller: { intervalSeconds: 1, concurrency: 2, timeoutMs: 2_000 } } });
    for (const node of fleet.simulator.nodes.values()) node.setLatency(100);
    const dir = await mkdtemp(join(tmpdir(), "mediaplane-poller-"));
    const configFile = join(dir, "balancer.yaml");
    await writeFile(configFile, renderBalancerConfigFile(fleet.configInput));
    // A real poller process, as deployed, to be killed without a chance to clean up.
    // One process (node with tsx's loader, not the tsx wrapper), so SIGKILL hits the poller itself.
    const doomed = spawn(process.execPath, ["--import", "tsx", "balancer/src/main.ts"], {
      env: { ...process.env, MODE: "poller", CONFIG_FILE: configFile, REDIS_URL: fleet.redisServer.url, BASE_DOMAIN: "example.org", ADMIN_PORT: "0", POLLER_ID: "doomed", LOG_LEVEL: "error" },
      stdio: "ignore",
    });
    try {
      const leasedByDoomed = await waitFor(async () => {
        const leaseKeys = await fleet!.redis.keys(`${keyPrefix}{fleet}:lease:*`);
        const owners = leaseKeys.length === 0 ? [] : await fleet!.redis.mget(...leaseKeys);
        const mine = leaseKeys.filter((_, i) => owners[i]?.startsWith("doomed "));
        return mine.length >= 2 ? mine.map((key) => key.slice(key.lastIndexOf(":") + 1)) : undefined;
      }, "the doomed poller holding leases", 20_000);
      doomed.kill("SIGKILL");
      await once(doomed, "exit");
      const killedInSlot = Math.floor(Date.now() / intervalMs);
      for (const node of fleet.simulator.nodes.values()) node.setLatency(0);

      const survivor = fleet.startPoller({ pollerId: "survivor" });
      const survivorSlots: CycleSummary[] = [];
      survivor.onCycle((summary) => survivorSlots.push(summary));
      const takeover = await waitFor(
        () => survivorSlots.find((summary) => summary.slot > killedInSlot && summary.polled.filter(({ slot }) => slot === summary.slot).length === 20),
        "a full interval polled by the survivor",
        10_000,
      );
      expect(takeover.polled.map(({ node }) => node)).toEqual(expect.arrayContaining(leasedByDoomed));
      expect([...pollsPerNodeAndSlot(fleet, intervalMs).values()].every((count) => count === 1)).toBe(true);
    } finally {
      if (doomed.exitCode === null) doomed.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});
