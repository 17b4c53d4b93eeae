import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseBalancerConfig, type BalancerConfigInput } from "../../src/config/schema.js";
import { keys } from "../../src/store/keys.js";
import { syncConfiguredNodes } from "../../src/store/nodeSync.js";
import { field, get, hostOf, poolLoads, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

/**
 * Placement controls an operator migrating from Scalelite expects (blindsidenetworks/scalelite):
 * - `meta_server-tag` on create, matched against the nodes' tags (app/models/server.rb, `Server.find_available`):
 *   a tagged node when one is available, else an untagged one; with a trailing `!` the tag is required and the
 *   create fails with `serverTagUnavailable` (app/controllers/concerns/bbb_errors.rb, `ServerTagUnavailableError`);
 *   the node is told its own tag (app/controllers/bigbluebutton_api_controller.rb, create);
 * - a per-node load multiplier applied to what each meeting and join adds (app/models/server.rb, `increment_load`).
 */

const forced = { slug: "forced", secret: "forced-secret-0123456789" };

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({
    nodeIds: ["n1", "n2", "n3"],
    configure: (config): BalancerConfigInput => ({
      ...config,
      tenants: [
        ...config.tenants,
        { slug: forced.slug, secrets: [forced.secret], policies: { create: { "meta_server-tag": { mode: "override", value: "gpu!" } } } },
      ],
      nodes: (config.nodes ?? []).map((node) => {
        if (node.id === "n1") return { ...node, tag: "gpu" };
        if (node.id === "n2") return { ...node, loadMultiplier: 0.5 };
        return node;
      }),
    }),
  });
});
afterAll(async () => {
  await fleet.close();
});
beforeEach(async () => {
  await resetFleet(fleet);
  await syncConfiguredNodes(fleet.balancers[0]!.redis, fleet.config);
});

type Tenant = { slug: string; secret: string };

async function create(tenant: Tenant, meetingId: string, extra: Record<string, string> = {}): Promise<{ returncode?: string; messageKey?: string; message?: string }> {
  const answer = await get(signedUrl(fleet.balancers[0]!, tenant, "create", { name: meetingId, meetingID: meetingId, ...extra }));
  return { returncode: field(answer.body, "returncode"), messageKey: field(answer.body, "messageKey"), message: field(answer.body, "message") };
}

async function setLoads(loads: Record<string, number>): Promise<void> {
  for (const [node, load] of Object.entries(loads)) await fleet.balancers[0]!.redis.zadd(keys.pool("default"), load, node);
}

describe("meta_server-tag", () => {
  it("places a create asking for a tag on a node with it, even when that node is the most loaded", async () => {
    await setLoads({ n1: 500, n2: 0, n3: 0 });
    expect((await create(tenants.acme, "render", { "meta_server-tag": "gpu" })).returncode).toBe("SUCCESS");
    expect(hostOf(fleet, "acme~render")).toBe("n1");
  });

  it("falls back to an untagged node when no node has the tag and it is not required, never to one tagged otherwise", async () => {
    await setLoads({ n1: 0, n2: 100, n3: 200 });
    expect((await create(tenants.acme, "fallback", { "meta_server-tag": "arm" })).returncode).toBe("SUCCESS");
    expect(hostOf(fleet, "acme~fallback")).toBe("n2");
  });

  it("refuses a required tag no node has with Scalelite's serverTagUnavailable, and creates nothing", async () => {
    const answer = await create(tenants.acme, "strict", { "meta_server-tag": "arm!" });
    expect(answer).toEqual({ returncode: "FAILED", messageKey: "serverTagUnavailable", message: "There is no available server with the required tag=arm." });
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("acme"), "strict")).toBeNull();
    expect(await poolLoads(fleet.balancers[0]!)).toEqual({ n1: 0, n2: 0, n3: 0 });
  });

  it("refuses a required tag whose only node takes no new meetings", async () => {
    await fleet.balancers[0]!.redis.zrem(keys.pool("default"), "n1");
    expect((await create(tenants.acme, "cordoned", { "meta_server-tag": "gpu!" })).messageKey).toBe("serverTagUnavailable");
  });

  it("takes any of a ';' list of tags, and 'none' for an untagged node", async () => {
    await setLoads({ n1: 500, n2: 0, n3: 900 });
    await create(tenants.acme, "either", { "meta_server-tag": "arm;gpu!" });
    expect(hostOf(fleet, "acme~either")).toBe("n1");
    await setLoads({ n1: 0, n2: 900, n3: 100 });
    await create(tenants.acme, "untagged", { "meta_server-tag": "none!" });
    expect(hostOf(fleet, "acme~untagged")).toBe("n3");
  });

  it("lets a create without a tag go to any node, tagged or not", async () => {
    await setLoads({ n1: 0, n2: 100, n3: 100 });
    await create(tenants.acme, "anywhere");
    expect(hostOf(fleet, "acme~anywhere")).toBe("n1");
  });

  it("tells the node its own tag, and an untagged node none", async () => {
    await setLoads({ n1: 0, n2: 100, n3: 0 });
    await create(tenants.acme, "tagged", { "meta_server-tag": "gpu" });
    expect(fleet.simulator.node("n1").meeting("acme~tagged")?.params["meta_server-tag"]).toBe("gpu");
    await create(tenants.acme, "plain", { "meta_server-tag": "arm" });
    const host = hostOf(fleet, "acme~plain")!;
    expect(host).not.toBe("n1");
    expect(fleet.simulator.node(host).meeting("acme~plain")?.params["meta_server-tag"]).toBeUndefined();
  });

  it("follows a tenant's policy on the tag over what the create asks", async () => {
    await setLoads({ n1: 500, n2: 0, n3: 0 });
    await create(forced, "pinned", { "meta_server-tag": "none" });
    expect(hostOf(fleet, "forced~pinned")).toBe("n1");
  });
});

describe("load multiplier", () => {
  it("counts a meeting on a node of multiplier 0.5 at half, so that node takes twice as many", async () => {
    for (let i = 0; i < 8; i++) expect((await create(tenants.globex, `m${i}`)).returncode).toBe("SUCCESS");
    const meetingsOn = (node: string) => fleet.simulator.node(node).meetings().length;
    expect([meetingsOn("n1"), meetingsOn("n2"), meetingsOn("n3")]).toEqual([2, 4, 2]);
    expect(await poolLoads(fleet.balancers[0]!)).toEqual({ n1: 60, n2: 60, n3: 60 });
  });

  it("counts a join on such a node at half an attendee", async () => {
    await setLoads({ n1: 100, n2: 0, n3: 100 });
    await create(tenants.globex, "half");
    expect(hostOf(fleet, "globex~half")).toBe("n2");
    await get(signedUrl(fleet.balancers[0]!, tenants.globex, "join", { fullName: "Ada", meetingID: "half", role: "VIEWER" }));
    expect((await poolLoads(fleet.balancers[0]!))["n2"]).toBe(15 + 0.5);
  });
});

describe("node tags and multipliers in the config", () => {
  const withNode = (extra: Record<string, unknown>) => () =>
    parseBalancerConfig({
      tenants: [{ slug: "acme", secrets: [tenants.acme.secret] }],
      nodes: [{ id: "n1", url: "https://bbb1.example.org/bigbluebutton/api", secret: "node-secret-0123456789", ...extra }],
    });

  it("refuses a tag with a ';' or '!' (they mean a list and required), naming the key", () => {
    expect(withNode({ tag: "gpu;big" })).toThrow(/nodes\[0\]\.tag: must be 1\.\.64 characters/);
    expect(withNode({ tag: "gpu!" })).toThrow(/nodes\[0\]\.tag/);
  });

  it("refuses the tag 'none', which a create uses to ask for an untagged node", () => {
    expect(withNode({ tag: "none" })).toThrow(/nodes\[0\]\.tag: "none" is what a create asks for/);
  });

  it("refuses a load multiplier that is not positive", () => {
    expect(withNode({ loadMultiplier: 0 })).toThrow(/nodes\[0\]\.loadMultiplier/);
  });
});
