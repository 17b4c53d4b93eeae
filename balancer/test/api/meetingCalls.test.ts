import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeChecksum } from "../../src/bbb/checksum.js";
import { keys } from "../../src/store/keys.js";
import { waitFor } from "../fleet/harness.js";
import { field, get, hostOf, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ nodeIds: ["n1"] });
});
afterAll(async () => {
  await fleet.close();
});

const call = (tenant: { slug: string; secret: string }, name: string, params: Record<string, string>) => get(signedUrl(fleet.balancers[0]!, tenant, name, params));

async function createMeeting(tenant: { slug: string; secret: string }, meetingId: string, extra: Record<string, string> = {}): Promise<void> {
  const answer = await call(tenant, "create", { name: `${tenant.slug} ${meetingId}`, meetingID: meetingId, moderatorPW: "mp", attendeePW: "ap", ...extra });
  expect(field(answer.body, "returncode")).toBe("SUCCESS");
}

describe("join", () => {
  it("redirects to the node's join URL, signed with the node's secret, with the node's meeting ID", async () => {
    await createMeeting(tenants.acme, "join-1");
    const answer = await call(tenants.acme, "join", { fullName: "Ada", meetingID: "join-1", role: "MODERATOR" });
    expect(answer.status).toBe(302);
    const location = answer.location ?? "";
    expect(location.startsWith(fleet.simulator.node("n1").apiUrl + "join?")).toBe(true);
    const [covered, checksum] = location.slice(location.indexOf("?") + 1).split("&checksum=") as [string, string];
    expect(checksum).toBe(computeChecksum("sha256", "join", covered, fleet.config.nodes[0]!.secret));
    expect(new URLSearchParams(covered).get("meetingID")).toBe("acme~join-1");
  });

  it("costs two Redis commands: the HMGET of the meeting's node (shared by the joins that arrive with it) and, after the answer, the join counted on the node's load", async () => {
    await createMeeting(tenants.acme, "join-cost");
    const redis = fleet.balancers[0]!.redis;
    await redis.config("RESETSTAT");
    const answer = await call(tenants.acme, "join", { fullName: "Ada", meetingID: "join-cost", role: "VIEWER" });
    expect(answer.status).toBe(302);
    // The test's own RESETSTAT and INFO calls are not the join's.
    const stats = await waitFor(async () => {
      const lines = (await redis.info("commandstats")).split("\r\n").filter((line) => line.startsWith("cmdstat_") && !/^cmdstat_(config|info)[:|]/.test(line));
      return lines.some((line) => line.startsWith("cmdstat_zadd:")) ? lines : undefined;
    }, "the join's charge");
    expect(stats.map((line) => line.slice(8, line.indexOf(":"))).sort()).toEqual(["hmget", "zadd"]);
    expect(stats.find((line) => line.startsWith("cmdstat_hmget:"))).toMatch(/^cmdstat_hmget:calls=1,/);
    expect(stats.find((line) => line.startsWith("cmdstat_zadd:"))).toMatch(/^cmdstat_zadd:calls=1,/);
  });

  it("does not perform the join itself: the node sees no join until the browser follows the redirect", async () => {
    await createMeeting(tenants.acme, "join-2");
    await call(tenants.acme, "join", { fullName: "Ada", meetingID: "join-2", role: "VIEWER" });
    expect(fleet.simulator.node("n1").requests.filter((request) => request.call === "join")).toHaveLength(0);
  });

  it("answers the node's XML when redirect=false", async () => {
    await createMeeting(tenants.acme, "join-3");
    const answer = await call(tenants.acme, "join", { fullName: "Ada", meetingID: "join-3", role: "MODERATOR", redirect: "false" });
    expect(answer.status).toBe(200);
    expect(field(answer.body, "messageKey")).toBe("successfullyJoined");
    expect(fleet.simulator.node("n1").meeting("acme~join-3")?.attendees).toHaveLength(1);
  });

  it("redirects to errorRedirectUrl with BBB's errors parameter when the meeting is unknown", async () => {
    const answer = await call(tenants.acme, "join", { fullName: "Ada", meetingID: "nope", role: "VIEWER", errorRedirectUrl: "https://lms.example.org/back?c=1" });
    expect(answer.status).toBe(302);
    const location = new URL(answer.location ?? "");
    expect(location.origin + location.pathname).toBe("https://lms.example.org/back");
    expect(location.searchParams.get("c")).toBe("1");
    expect(JSON.parse(location.searchParams.get("errors") ?? "[]")).toEqual([{ key: "invalidMeetingIdentifier", message: "A meeting with that ID does not exist" }]);
  });

  it("redirects to logoutURL when the meeting is unknown and no errorRedirectUrl is given", async () => {
    const answer = await call(tenants.acme, "join", { fullName: "Ada", meetingID: "nope", role: "VIEWER", logoutURL: "https://lms.example.org/bye" });
    expect(answer.location?.startsWith("https://lms.example.org/bye?errors=")).toBe(true);
  });

  it("answers invalidMeetingIdentifier as XML when the meeting is unknown and redirect=false", async () => {
    const answer = await call(tenants.acme, "join", { fullName: "Ada", meetingID: "nope", role: "VIEWER", redirect: "false", logoutURL: "https://lms.example.org/bye" });
    expect(answer.status).toBe(200);
    expect(field(answer.body, "messageKey")).toBe("invalidMeetingIdentifier");
  });

  it("redirects a wrong checksum to errorRedirectUrl, as bbb-web does", async () => {
    const url = `${signedUrl(fleet.balancers[0]!, tenants.globex, "join", { fullName: "Ada", meetingID: "join-1", errorRedirectUrl: "https://lms.example.org/e" })}`.replace("/t/globex/", "/t/acme/");
    const answer = await get(url);
    expect(answer.status).toBe(302);
    expect(JSON.parse(new URL(answer.location ?? "").searchParams.get("errors") ?? "[]")[0].key).toBe("checksumError");
  });

  it("returns missingParamFullName when fullName is missing", async () => {
    const answer = await call(tenants.acme, "join", { meetingID: "join-1", redirect: "false" });
    expect(field(answer.body, "messageKey")).toBe("missingParamFullName");
  });

  it("does not let one tenant join another tenant's meeting of the same ID", async () => {
    await createMeeting(tenants.acme, "only-acme");
    const answer = await call(tenants.globex, "join", { fullName: "Eve", meetingID: "only-acme", role: "MODERATOR", redirect: "false" });
    expect(field(answer.body, "messageKey")).toBe("invalidMeetingIdentifier");
  });
});

describe("getMeetingInfo", () => {
  it("answers live from the node, right after create, in the tenant's view", async () => {
    await createMeeting(tenants.acme, "info-1", { meta_course: "7" });
    fleet.simulator.node("n1").addAttendees("acme~info-1", 3);
    const answer = await call(tenants.acme, "getMeetingInfo", { meetingID: "info-1" });
    expect(field(answer.body, "meetingID")).toBe("info-1");
    expect(field(answer.body, "participantCount")).toBe("3");
    expect(field(answer.body, "course")).toBe("7");
    expect(answer.body).not.toMatch(/acme~|mediaplane|_mediaplane/);
  });

  it("returns notFound for a meeting the tenant does not have", async () => {
    const answer = await call(tenants.globex, "getMeetingInfo", { meetingID: "info-1" });
    expect(field(answer.body, "messageKey")).toBe("notFound");
  });

  it("releases the mapping when the node no longer has the meeting", async () => {
    await createMeeting(tenants.acme, "info-gone");
    fleet.simulator.node("n1").forgetAllMeetings();
    const answer = await call(tenants.acme, "getMeetingInfo", { meetingID: "info-gone" });
    expect(field(answer.body, "messageKey")).toBe("notFound");
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("acme"), "info-gone")).toBeNull();
    expect(await fleet.balancers[0]!.redis.hget(keys.summaries("acme"), "info-gone")).toBeNull();
  });
});

describe("isMeetingRunning", () => {
  it("answers running=true once someone joined", async () => {
    await createMeeting(tenants.acme, "run-1");
    fleet.simulator.node("n1").addAttendees("acme~run-1", 1);
    expect(field((await call(tenants.acme, "isMeetingRunning", { meetingID: "run-1" })).body, "running")).toBe("true");
  });

  it("answers SUCCESS with running=false for an unknown meeting", async () => {
    const answer = await call(tenants.acme, "isMeetingRunning", { meetingID: "never" });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(field(answer.body, "running")).toBe("false");
  });
});

describe("getMeetings", () => {
  it("lists the tenant's meetings only, in the tenant's view", async () => {
    await createMeeting(tenants.globex, "g-1");
    await createMeeting(tenants.globex, "g-2");
    const answer = await call(tenants.globex, "getMeetings", {});
    const ids = [...answer.body.matchAll(/<meetingID>([^<]*)<\/meetingID>/g)].map((match) => match[1]).sort();
    expect(ids).toEqual(["g-1", "g-2"]);
    expect(answer.body).not.toMatch(/acme|~|mediaplane/);
  });

  it("answers noMeetings when the tenant has none", async () => {
    const lonely = await startFleet({ nodeIds: ["n1"] });
    try {
      const answer = await get(signedUrl(lonely.balancers[0]!, tenants.acme, "getMeetings", {}));
      expect(answer.body).toBe(
        "<response><returncode>SUCCESS</returncode><meetings/><messageKey>noMeetings</messageKey><message>no meetings were found on this server</message></response>",
      );
    } finally {
      await lonely.close();
    }
  });

  it("shows a meeting created through another replica at once", async () => {
    const second = await fleet.startBalancer();
    await call(tenants.globex, "getMeetings", {});
    await get(signedUrl(second, tenants.globex, "create", { name: "via second", meetingID: "g-3" }));
    const answer = await call(tenants.globex, "getMeetings", {});
    expect(answer.body).toContain("<meetingID>g-3</meetingID>");
  });
});

describe("end", () => {
  it("ends the meeting on its node and forgets it", async () => {
    await createMeeting(tenants.acme, "end-1");
    const answer = await call(tenants.acme, "end", { meetingID: "end-1", password: "mp" });
    expect(field(answer.body, "messageKey")).toBe("sentEndMeetingRequest");
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("acme"), "end-1")).toBeNull();
    expect((await call(tenants.acme, "getMeetings", {})).body).not.toContain("<meetingID>end-1</meetingID>");
  });

  it("returns notFound for an unknown meeting", async () => {
    expect(field((await call(tenants.acme, "end", { meetingID: "never", password: "mp" })).body, "messageKey")).toBe("notFound");
  });
});

describe("sendChatMessage", () => {
  it("reaches the meeting's node with the node's meeting ID", async () => {
    await createMeeting(tenants.acme, "chat-1");
    const answer = await call(tenants.acme, "sendChatMessage", { meetingID: "chat-1", message: "hello", userName: "bot" });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    const received = fleet.simulator.node("n1").requests.filter((request) => request.call === "sendChatMessage").at(-1);
    expect(received?.params["meetingID"]).toBe("acme~chat-1");
  });
});

describe("insertDocument", () => {
  it("passes the XML body to the meeting's node", async () => {
    await createMeeting(tenants.acme, "doc-1");
    const body = '<modules><module name="presentation"><document url="https://files.example.org/more.pdf" filename="more.pdf"/></module></modules>';
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "insertDocument", { meetingID: "doc-1" }), {
      method: "POST",
      headers: { "content-type": "application/xml" },
      body,
    });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(fleet.simulator.node("n1").meeting("acme~doc-1")?.presentations.map((p) => p.url)).toContain("https://files.example.org/more.pdf");
  });
});

describe("recordings", () => {
  it("answers getRecordings with noRecordings", async () => {
    expect(field((await call(tenants.acme, "getRecordings", {})).body, "messageKey")).toBe("noRecordings");
  });

  it("answers publishRecordings with notFound", async () => {
    expect(field((await call(tenants.acme, "publishRecordings", { recordID: "r1", publish: "true" })).body, "messageKey")).toBe("notFound");
  });
});

describe("tenant isolation", () => {
  it("keeps two tenants' meetings of the same ID apart on the same node", async () => {
    await createMeeting(tenants.acme, "same");
    await createMeeting(tenants.globex, "same");
    expect(hostOf(fleet, "acme~same")).toBe("n1");
    expect(hostOf(fleet, "globex~same")).toBe("n1");
    await call(tenants.acme, "end", { meetingID: "same", password: "mp" });
    const globex = await call(tenants.globex, "getMeetingInfo", { meetingID: "same" });
    expect(field(globex.body, "meetingName")).toBe("globex same");
  });
});

describe("meetings on a node removed from the config", () => {
  it("forgets them, so the meeting ID can be created again on a configured node", async () => {
    await fleet.balancers[0]!.redis.hset(keys.meetings("acme"), "orphan", "retired-node");
    expect(field((await call(tenants.acme, "getMeetingInfo", { meetingID: "orphan" })).body, "messageKey")).toBe("notFound");
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("acme"), "orphan")).toBeNull();
    expect(field((await call(tenants.acme, "create", { name: "again", meetingID: "orphan" })).body, "returncode")).toBe("SUCCESS");
    expect(hostOf(fleet, "acme~orphan")).toBe("n1");
  });

  it("places a create on a configured node while such a node is still in the pool (rolling update)", async () => {
    const redis = fleet.balancers[0]!.redis;
    await redis.zadd(keys.pool("default"), -1000, "old-node");
    try {
      for (const meetingId of ["rollout-1", "rollout-2"]) {
        expect(field((await call(tenants.acme, "create", { name: "rollout", meetingID: meetingId })).body, "returncode")).toBe("SUCCESS");
        expect(hostOf(fleet, `acme~${meetingId}`)).toBe("n1");
      }
      expect(await redis.zscore(keys.pool("default"), "old-node")).toBe("-1000");
      expect(await redis.exists(keys.nodeMeetings("default", "old-node"))).toBe(0);
    } finally {
      await redis.zrem(keys.pool("default"), "old-node");
    }
  });

  it("answers serverUnavailable when the pool holds only such nodes, and leaves their load as it was", async () => {
    const redis = fleet.balancers[0]!.redis;
    const configured = await redis.zrange(keys.pool("default"), "0", "-1", "WITHSCORES");
    await redis.del(keys.pool("default"));
    await redis.zadd(keys.pool("default"), 0, "old-a", 0, "old-b");
    try {
      const answer = await call(tenants.acme, "create", { name: "nowhere", meetingID: "rollout-nowhere" });
      expect(field(answer.body, "messageKey")).toBe("serverUnavailable");
      expect(await redis.zrange(keys.pool("default"), "0", "-1", "WITHSCORES")).toEqual(["old-a", "0", "old-b", "0"]);
      expect(await redis.hget(keys.meetings("acme"), "rollout-nowhere")).toBeNull();
    } finally {
      await redis.del(keys.pool("default"));
      await redis.zadd(keys.pool("default"), ...configured.flatMap((value, i) => (i % 2 === 0 ? [configured[i + 1]!, value] : [])));
    }
  });

  it("creates a meeting still mapped to such a node anew on a configured node", async () => {
    const redis = fleet.balancers[0]!.redis;
    await redis.hset(keys.meetings("acme"), "stale-orphan", "retired-node");
    const answer = await call(tenants.acme, "create", { name: "anew", meetingID: "stale-orphan" });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(field(answer.body, "messageKey") ?? "").not.toBe("duplicateWarning");
    expect(await redis.hget(keys.meetings("acme"), "stale-orphan")).toBe(hostOf(fleet, "acme~stale-orphan"));
  });
});
