import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { computeChecksum } from "../../src/bbb/checksum.js";
import { keys } from "../../src/store/keys.js";
import { apiBase, field, get, hostOf, nodeMeetings, redisState, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";
import { itPlacesCreates } from "./placementSpecs.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ replicas: 3 });
});
afterAll(async () => {
  await fleet.close();
});
afterEach(async () => {
  await resetFleet(fleet);
});

const create = (params: Record<string, string>, replica = 0) => get(signedUrl(fleet.balancers[replica]!, tenants.acme, "create", params));

describe("create", () => {
  it("creates the meeting on one node under the tenant's namespaced ID and answers with the tenant's ID", async () => {
    const answer = await create({ name: "Demo", meetingID: "room-1" });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("text/xml;charset=utf-8");
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(field(answer.body, "meetingID")).toBe("room-1");
    expect(Object.values(nodeMeetings(fleet)).flat()).toEqual(["acme~room-1"]);
  });

  it("answers a second create of a live meeting from the same node with duplicateWarning", async () => {
    await create({ name: "Demo", meetingID: "room-2" });
    const host = hostOf(fleet, "acme~room-2");
    const again = await create({ name: "Demo", meetingID: "room-2" }, 1);
    expect(field(again.body, "returncode")).toBe("SUCCESS");
    expect(field(again.body, "messageKey")).toBe("duplicateWarning");
    expect(hostOf(fleet, "acme~room-2")).toBe(host);
    expect(Object.values(nodeMeetings(fleet)).flat()).toHaveLength(1);
  });

  itPlacesCreates(() => fleet);

  it("sends a second create of a live meeting to its node even when no node may take a new meeting", async () => {
    await create({ name: "Demo", meetingID: "room-full" });
    const host = hostOf(fleet, "acme~room-full");
    await fleet.balancers[0]!.redis.del(keys.pool("default"));
    const again = await create({ name: "Demo", meetingID: "room-full" });
    expect(field(again.body, "messageKey")).toBe("duplicateWarning");
    expect(hostOf(fleet, "acme~room-full")).toBe(host);
  });

  it("leaves the fleet's load and meeting sets as they were after a second create of a live meeting", async () => {
    await create({ name: "Demo", meetingID: "room-again" });
    const before = await redisState(fleet.balancers[0]!);
    for (let i = 0; i < 6; i++) await create({ name: "Demo", meetingID: "room-again" }, i % 3);
    expect(await redisState(fleet.balancers[0]!)).toEqual(before);
  });

  it("answers serverUnavailable and keeps no mapping or load when every node is unreachable, holding each out", async () => {
    for (const node of fleet.simulator.nodes.values()) node.setFailure("down");
    const before = await redisState(fleet.balancers[0]!);
    const answer = await create({ name: "Lost", meetingID: "lost" });
    expect(answer.status).toBe(200);
    expect(field(answer.body, "returncode")).toBe("FAILED");
    expect(field(answer.body, "messageKey")).toBe("serverUnavailable");
    const { [keys.holdOut("default")]: heldOut, ...after } = await redisState(fleet.balancers[0]!);
    expect(after).toEqual(before);
    expect((heldOut as string[]).filter((_, i) => i % 2 === 0).sort()).toEqual(["n1", "n2", "n3"]);
  });

  it("answers serverUnavailable when no node may take a meeting", async () => {
    await fleet.balancers[0]!.redis.del(keys.pool("default"));
    const answer = await create({ name: "Nowhere", meetingID: "nowhere" });
    expect(field(answer.body, "messageKey")).toBe("serverUnavailable");
    expect(await fleet.balancers[0]!.redis.hlen(keys.meetings("acme"))).toBe(0);
  });

  it("accepts a POST with the parameters in a form body signed over them sorted", async () => {
    const form = new URLSearchParams({ name: "Form meeting", meetingID: "form-room" });
    const sorted = new URLSearchParams([...form].sort(([a], [b]) => a.localeCompare(b))).toString();
    form.set("checksum", computeChecksum("sha256", "create", sorted, tenants.acme.secret));
    const answer = await get(`${apiBase(fleet.balancers[0]!, "acme")}create`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(hostOf(fleet, "acme~form-room")).toBeDefined();
  });

  it("passes an XML <modules> body through to the node", async () => {
    const modules = '<?xml version="1.0"?><modules><module name="presentation"><document url="https://files.example.org/deck.pdf" filename="deck.pdf"/></module></modules>';
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "Slides", meetingID: "slides" }), {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: modules,
    });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    const meeting = fleet.simulator.node(hostOf(fleet, "acme~slides")!).meeting("acme~slides");
    expect(meeting?.presentations.map((presentation) => presentation.url)).toEqual(["https://files.example.org/deck.pdf"]);
  });

  it("gives a meeting ID too long for the tenant prefix a hashed node ID, and shows the tenant its own", async () => {
    const longId = "x".repeat(256);
    const answer = await create({ name: "Long", meetingID: longId });
    expect(field(answer.body, "meetingID")).toBe(longId);
    const onNode = Object.values(nodeMeetings(fleet)).flat();
    expect(onNode).toHaveLength(1);
    expect(onNode[0]).toMatch(/^acme#[0-9a-f]{64}$/);
    expect(await fleet.balancers[0]!.redis.hget(keys.longMeetingIds("acme"), onNode[0]!.slice(5))).toBe(longId);
  });

  it("names the tenant in the node's metadata and hides it from the tenant", async () => {
    const answer = await create({ name: "Tagged", meetingID: "tagged", meta_course: "7" });
    expect(answer.body).not.toContain("mediaplane");
    const meeting = fleet.simulator.node(hostOf(fleet, "acme~tagged")!).meeting("acme~tagged");
    expect(meeting?.metadata.get("mediaplane-tenant")).toBe("acme");
    expect(meeting?.metadata.get("course")).toBe("7");
  });
});

describe("create across clusters", () => {
  let clustered: Fleet;
  beforeAll(async () => {
    clustered = await startFleet({
      nodeIds: ["a1", "b1"],
      configure: (config) => ({
        ...config,
        clusters: [{ name: "alpha" }, { name: "beta", load: { meetingFactor: 100 } }],
        nodes: (config.nodes ?? []).map((node) => ({ ...node, cluster: node.id.startsWith("a") ? "alpha" : "beta" })),
        tenants: [
          { slug: "acme", secrets: [tenants.acme.secret], clusters: ["alpha", "beta"] },
          { slug: "globex", secrets: [tenants.globex.secret], clusters: ["beta"] },
        ],
      }),
    });
  });
  afterAll(async () => {
    await clustered.close();
  });

  it("places on the cluster whose least-loaded node is lowest, counting that cluster's meeting factor", async () => {
    await clustered.balancers[0]!.redis.zadd(keys.pool("alpha"), 50, "a1");
    await get(signedUrl(clustered.balancers[0]!, tenants.acme, "create", { name: "First", meetingID: "x-1" }));
    expect(hostOf(clustered, "acme~x-1")).toBe("b1");
    expect(await clustered.balancers[0]!.redis.zscore(keys.pool("beta"), "b1")).toBe("100");
    await get(signedUrl(clustered.balancers[0]!, tenants.acme, "create", { name: "Second", meetingID: "x-2" }));
    expect(hostOf(clustered, "acme~x-2")).toBe("a1");
  });

  it("never places a tenant's meeting outside its own clusters", async () => {
    await clustered.balancers[0]!.redis.zadd(keys.pool("beta"), 100_000, "b1");
    await get(signedUrl(clustered.balancers[0]!, tenants.globex, "create", { name: "Own", meetingID: "own" }));
    expect(hostOf(clustered, "globex~own")).toBe("b1");
  });
});
