import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.js";
import { startPoller, type CycleSummary, type Poller } from "../../src/poller/poller.js";
import { keys } from "../../src/store/keys.js";
import { field, get, hostOf, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

let fleet: Fleet;
beforeAll(async () => {
  // The balancer's end callback points nowhere: ends must then be learned from polls.
  fleet = await startFleet({ nodeIds: ["n1", "n2"], publicUrl: "http://127.0.0.1:9" });
});
afterAll(async () => {
  await fleet.close();
});

const getMeetings = (tenant: { slug: string; secret: string }) => get(signedUrl(fleet.balancers[0]!, tenant, "getMeetings", {}));
const meetingIds = (xml: string): string[] => [...xml.matchAll(/<meetingID>([^<]*)<\/meetingID>/g)].map((match) => match[1] ?? "").sort();

describe("getMeetings without fan-out", () => {
  it("includes a meeting created since the last poll", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "fresh", meetingID: "fresh" }));
    expect(meetingIds((await getMeetings(tenants.acme)).body)).toEqual(["fresh"]);
  });

  it("answers from Redis while a node hangs, without asking any node", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "second", meetingID: "second" }));
    const asked = (): number => [...fleet.simulator.nodes.values()].reduce((sum, node) => sum + node.requests.filter((r) => r.call === "getMeetings").length, 0);
    const before = asked();
    for (const node of fleet.simulator.nodes.values()) node.setFailure("hang");
    try {
      const answer = await getMeetings(tenants.acme);
      expect(field(answer.body, "returncode")).toBe("SUCCESS");
      expect(meetingIds(answer.body)).toEqual(["fresh", "second"]);
      expect(asked()).toBe(before);
    } finally {
      for (const node of fleet.simulator.nodes.values()) node.setFailure("none");
    }
  });

  it("answers while a node is down", async () => {
    fleet.simulator.node(hostOf(fleet, "acme~fresh")!).setFailure("down");
    try {
      expect(meetingIds((await getMeetings(tenants.acme)).body)).toEqual(["fresh", "second"]);
    } finally {
      for (const node of fleet.simulator.nodes.values()) node.setFailure("none");
    }
  });
});

describe("end detection falling back to polls", () => {
  let poller: Poller;
  const cycles: CycleSummary[] = [];
  beforeAll(() => {
    const logger = createLogger({ name: "poller", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });
    poller = startPoller({ redis: fleet.balancers[0]!.redis, config: fleet.config, logger, intervalMs: 200 });
    poller.onCycle((summary) => cycles.push(summary));
  });
  afterAll(async () => {
    await poller.stop();
  });

  it("updates a meeting's summary from the polls (attendees joined on the node)", async () => {
    fleet.simulator.node(hostOf(fleet, "acme~second")!).addAttendees("acme~second", 4);
    await until(async () => ((await fleet.balancers[0]!.redis.hget(keys.summaries("acme"), "second")) ?? "").includes("<participantCount>4</participantCount>"));
    const answer = await getMeetings(tenants.acme);
    expect(answer.body).toContain("<participantCount>4</participantCount>");
    expect(answer.body).not.toMatch(/acme~|mediaplane/);
  });

  it("forgets a meeting that ended on its node when the end callback never arrived", async () => {
    await fleet.simulator.node(hostOf(fleet, "acme~fresh")!).endMeeting("acme~fresh");
    await until(async () => (await fleet.balancers[0]!.redis.hget(keys.meetings("acme"), "fresh")) === null);
    expect(meetingIds((await getMeetings(tenants.acme)).body)).toEqual(["second"]);
  });
});

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("condition not met in time");
}
