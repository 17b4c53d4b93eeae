import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BalancerConfigInput } from "../../src/config/schema.js";
import { keys } from "../../src/store/keys.js";
import { apiFleetPolls, pollOnce } from "../fleet/harness.js";
import { field, get, hostOf, poolLoads, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

/**
 * Answers as bbb-web (the pinned BBB 3.0) gives them, where a balancer could be tempted to answer its own way.
 * Sources: bigbluebutton-web/grails-app/controllers/org/bigbluebutton/web/controllers/ApiController.groovy.
 */

let fleet: Fleet;
let polls: ReturnType<typeof apiFleetPolls>;
beforeAll(async () => {
  fleet = await startFleet({ nodeIds: ["n1", "n2"], configure: (config): BalancerConfigInput => ({ ...config, bbbVersion: "3.0.4" }) });
  polls = apiFleetPolls(fleet);
});
afterAll(async () => {
  await polls.close();
  await fleet.close();
});
beforeEach(async () => {
  await resetFleet(fleet);
});

type Tenant = { slug: string; secret: string };
const call = (tenant: Tenant, name: string, params: Record<string, string>) => get(signedUrl(fleet.balancers[0]!, tenant, name, params));

/** The `<meeting>` getMeetings lists for a meeting ID. */
async function listed(tenant: Tenant, meetingId: string): Promise<string> {
  const body = (await call(tenant, "getMeetings", {})).body;
  return body.split("<meeting>").find((meeting) => meeting.includes(`<meetingID>${meetingId}</meetingID>`)) ?? "";
}

describe("the version document", () => {
  it("names the BBB version the fleet runs, from the config, in bbb-web's shape (ApiController.index)", async () => {
    const answer = await get(`${fleet.balancers[0]!.url}/t/acme/bigbluebutton/api/`);
    expect(answer.body).toBe("<response><returncode>SUCCESS</returncode><version>2.0</version><apiVersion>2.0</apiVersion><bbbVersion>3.0.4</bbbVersion></response>");
  });
});

describe("getMeetings right after a create", () => {
  it("shows the meeting as its node reports it (recording, startTime, createTime, voiceBridge), not placeholders", async () => {
    await call(tenants.acme, "create", { name: "Recorded", meetingID: "rec", record: "true", voiceBridge: "71001" });
    const onNode = fleet.simulator.node(hostOf(fleet, "acme~rec")!).meeting("acme~rec")!;
    const meeting = await listed(tenants.acme, "rec");
    expect(field(meeting, "recording")).toBe("true");
    expect(field(meeting, "startTime")).toBe(String(onNode.startTime));
    expect(field(meeting, "createTime")).toBe(String(onNode.createTime));
    expect(field(meeting, "voiceBridge")).toBe("71001");
    expect(meeting).not.toMatch(/acme~|mediaplane/);
  });

  it("stores what a poll of the node would store, so the first poll changes nothing", async () => {
    await call(tenants.acme, "create", { name: "Same", meetingID: "same" });
    const redis = fleet.balancers[0]!.redis;
    const [summary, revision] = await Promise.all([redis.hget(keys.summaries("acme"), "same"), redis.get(keys.revision("acme"))]);
    await pollOnce(polls, hostOf(fleet, "acme~same")!);
    expect(await redis.hget(keys.summaries("acme"), "same")).toBe(summary);
    expect(await redis.get(keys.revision("acme"))).toBe(revision);
  });

  it("lists the meeting from the create answer when the node does not answer getMeetingInfo in time", async () => {
    for (const node of fleet.simulator.nodes.values()) node.setLatency(3_000, "getMeetingInfo");
    try {
      // globex: getMeetings answers are cached per revision, and acme's revisions repeat after each reset.
      expect(field((await call(tenants.globex, "create", { name: "Slow", meetingID: "slow" })).body, "returncode")).toBe("SUCCESS");
      const onNode = fleet.simulator.node(hostOf(fleet, "globex~slow")!).meeting("globex~slow")!;
      expect(field(await listed(tenants.globex, "slow"), "createTime")).toBe(String(onNode.createTime));
    } finally {
      for (const node of fleet.simulator.nodes.values()) node.setLatency(0, "getMeetingInfo");
    }
  });
});

/**
 * A requested voiceBridge that a running meeting has: bbb-web's create refuses it (`meetingService.createMeeting`
 * fails, then `errors.nonUniqueVoiceBridgeError()`: FAILED with ApiErrors' `<errors><error key=... message=...>`
 * list). The balancer keeps voice bridges unique across its fleet (dial-in may be shared), never replaces one.
 */
describe("a requested voice bridge", () => {
  const nonUnique =
    '<response><returncode>FAILED</returncode><errors><error key="nonUniqueVoiceBridge" message="The selected voice bridge is already in use."/></errors></response>';

  it("that a running meeting has is refused as bbb-web refuses it, leaving nothing behind", async () => {
    await call(tenants.acme, "create", { name: "First", meetingID: "first", voiceBridge: "72000" });
    const loads = await poolLoads(fleet.balancers[0]!);
    const answer = await call(tenants.acme, "create", { name: "Second", meetingID: "second", voiceBridge: "72000" });
    expect(answer.body).toBe(nonUnique);
    expect(hostOf(fleet, "acme~second")).toBeUndefined();
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("acme"), "second")).toBeNull();
    expect(await poolLoads(fleet.balancers[0]!)).toEqual(loads);
    expect(await fleet.balancers[0]!.redis.hget(keys.voiceBridges(), "72000")).toBe("acme\nfirst");
  });

  it("is taken across tenants, as on a fleet sharing one dial-in", async () => {
    await call(tenants.acme, "create", { name: "Mine", meetingID: "mine", voiceBridge: "72001" });
    expect((await call(tenants.globex, "create", { name: "Theirs", meetingID: "theirs", voiceBridge: "72001" })).body).toBe(nonUnique);
  });

  it("is given once the meeting holding it has ended", async () => {
    await call(tenants.acme, "create", { name: "Early", meetingID: "early", voiceBridge: "72002" });
    await call(tenants.acme, "end", { meetingID: "early" });
    await call(tenants.acme, "create", { name: "Late", meetingID: "late", voiceBridge: "72002" });
    expect(fleet.simulator.node(hostOf(fleet, "acme~late")!).meeting("acme~late")?.voiceBridge).toBe("72002");
  });

  it("held in Redis by a meeting no longer mapped is taken over", async () => {
    await fleet.balancers[0]!.redis.hset(keys.voiceBridges(), "72003", "acme\ngone");
    await call(tenants.acme, "create", { name: "Heir", meetingID: "heir", voiceBridge: "72003" });
    expect(fleet.simulator.node(hostOf(fleet, "acme~heir")!).meeting("acme~heir")?.voiceBridge).toBe("72003");
  });

  it("that is not a number reaches the node untouched, which refuses it", async () => {
    const answer = await call(tenants.acme, "create", { name: "Odd", meetingID: "odd", voiceBridge: "12ab" });
    expect(field(answer.body, "messageKey")).toBe("validationError");
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("acme"), "odd")).toBeNull();
  });
});

/**
 * getJoinUrl (BBB 3.0) turns a `sessionToken` into a join URL on the server that made the session
 * (ApiController.groovy, getJoinUrl: `hasValidSession`, `getUserSession`). Sessions are made by the node a browser
 * is sent to; the balancer never sees one, so it cannot serve the call, and answers it as any call it does not
 * serve. The HTML5 client asks its own node, never the balancer.
 */
describe("getJoinUrl", () => {
  it("is answered as a call the balancer does not serve", async () => {
    const answer = await call(tenants.acme, "getJoinUrl", { sessionToken: "abcdefghijklmnop" });
    expect(field(answer.body, "messageKey")).toBe("unsupportedRequest");
  });
});
