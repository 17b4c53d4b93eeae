import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBalancerConfig, type BalancerConfigInput } from "../../src/config/schema.js";
import { keys } from "../../src/store/keys.js";
import { buildDirectory } from "../../src/tenancy/directory.js";
import { acmeCount, field, get, hostOf, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

const acmeSecondSecret = "acme-second-secret-0123456789";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({
    configure: (config): BalancerConfigInput => ({
      ...config,
      policies: { create: { record: { mode: "override", value: "false" } }, join: {} },
      tenants: [
        {
          slug: "acme",
          secrets: [tenants.acme.secret, { secret: acmeSecondSecret, limits: { maxMeetings: 1 } }],
          limits: { maxMeetings: 3, maxAttendees: 10 },
          logo: "https://acme.example.org/logo.png",
          presentation: "https://acme.example.org/welcome.pdf",
          policies: {
            create: { muteOnStart: { mode: "setIfAbsent", value: "true" }, bannerText: { mode: "block" }, record: { mode: "override", value: "true" } },
            join: {
              "userdata-bbb_skip_check_audio": { mode: "override", value: "true" },
              logoutURL: { mode: "setIfAbsent", value: "https://acme.example.org/goodbye" },
            },
          },
        },
        {
          slug: "globex",
          secrets: [tenants.globex.secret],
          policies: { join: { redirect: { mode: "override", value: "false" }, fullName: { mode: "setIfAbsent", value: "Guest" } } },
        },
      ],
    }),
  });
});
afterAll(async () => {
  await fleet.close();
});

const create = (tenant: { slug: string; secret: string }, meetingId: string, extra: Record<string, string> = {}) =>
  get(signedUrl(fleet.balancers[0]!, tenant, "create", { name: meetingId, meetingID: meetingId, ...extra }));

function received(nodeMeetingId: string) {
  return fleet.simulator.node(hostOf(fleet, nodeMeetingId) ?? "n1").meeting(nodeMeetingId);
}

async function end(tenant: { slug: string; secret: string }, meetingId: string): Promise<void> {
  await get(signedUrl(fleet.balancers[0]!, tenant, "end", { meetingID: meetingId }));
}

describe("parameter policies", () => {
  it("sets a parameter the create lacks (setIfAbsent) and keeps one it has", async () => {
    await create(tenants.acme, "p-1");
    await create(tenants.acme, "p-2", { muteOnStart: "false" });
    expect(received("acme~p-1")?.params["muteOnStart"]).toBe("true");
    expect(received("acme~p-2")?.params["muteOnStart"]).toBe("false");
    await end(tenants.acme, "p-1");
    await end(tenants.acme, "p-2");
  });

  it("removes a blocked parameter and overrides one, the tenant's policy winning over the global one", async () => {
    await create(tenants.acme, "p-3", { bannerText: "Buy now", record: "false" });
    expect(received("acme~p-3")?.params["bannerText"]).toBeUndefined();
    expect(received("acme~p-3")?.params["record"]).toBe("true");
    await end(tenants.acme, "p-3");
  });

  it("applies the global policy to a tenant without its own", async () => {
    await create(tenants.globex, "g-p", { record: "true" });
    expect(received("globex~g-p")?.params["record"]).toBe("false");
  });

  it("applies join policies to the node's join URL", async () => {
    await create(tenants.acme, "p-join");
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "join", { fullName: "Ada", meetingID: "p-join", role: "VIEWER" }));
    expect(new URL(answer.location ?? "").searchParams.get("userdata-bbb_skip_check_audio")).toBe("true");
    await end(tenants.acme, "p-join");
  });

  it("answers a join with XML instead of a 302 when the tenant's policy turns redirect off", async () => {
    await create(tenants.globex, "g-xml");
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.globex, "join", { fullName: "Ada", meetingID: "g-xml", role: "VIEWER", redirect: "true" }));
    expect(answer.status).toBe(200);
    expect(field(answer.body, "messageKey")).toBe("successfullyJoined");
    await end(tenants.globex, "g-xml");
  });

  it("lets a join without fullName through when the tenant's policy gives one", async () => {
    await create(tenants.globex, "g-guest");
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.globex, "join", { meetingID: "g-guest", role: "VIEWER" }));
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(received("globex~g-guest")?.attendees.map((attendee) => attendee.fullName)).toEqual(["Guest"]);
    await end(tenants.globex, "g-guest");
  });

  it("sends a failed join to the logoutURL the tenant's policy gives when the join names none", async () => {
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "join", { fullName: "Ada", meetingID: "no-such-meeting", role: "VIEWER" }));
    expect(answer.status).toBe(302);
    const location = new URL(answer.location ?? "");
    expect(`${location.origin}${location.pathname}`).toBe("https://acme.example.org/goodbye");
    expect(JSON.parse(location.searchParams.get("errors") ?? "[]")).toEqual([expect.objectContaining({ key: "invalidMeetingIdentifier" })]);
  });

  it("refuses at start a policy value bbb-web would reject, naming the tenant and parameter", () => {
    const config = parseBalancerConfig({
      tenants: [{ slug: "acme", secrets: [tenants.acme.secret], policies: { create: { record: { mode: "override", value: "yes" } } } }],
    });
    expect(() => buildDirectory(config)).toThrow('tenant acme: policies.create.record: "yes" is not a valid boolean');
  });

  it("refuses at start a policy on a parameter the balancer owns", () => {
    const config = parseBalancerConfig({ tenants: [{ slug: "acme", secrets: [tenants.acme.secret], policies: { join: { meetingID: { mode: "block" } } } }] });
    expect(() => buildDirectory(config)).toThrow(/policies.join.meetingID/);
  });
});

describe("tenant logo and default presentation", () => {
  it("sets the tenant's logo unless the create brings one", async () => {
    await create(tenants.acme, "logo-1");
    await create(tenants.acme, "logo-2", { logo: "https://acme.example.org/other.png" });
    expect(received("acme~logo-1")?.params["logo"]).toBe("https://acme.example.org/logo.png");
    expect(received("acme~logo-2")?.params["logo"]).toBe("https://acme.example.org/other.png");
    await end(tenants.acme, "logo-1");
    await end(tenants.acme, "logo-2");
  });

  it("turns a GET create into a POST with the tenant's presentation", async () => {
    await create(tenants.acme, "deck-1");
    const request = fleet.simulator.node(hostOf(fleet, "acme~deck-1")!).requests.filter((entry) => entry.call === "create").at(-1);
    expect(request?.method).toBe("POST");
    expect(received("acme~deck-1")?.presentations.map((presentation) => presentation.url)).toEqual(["https://acme.example.org/welcome.pdf"]);
    await end(tenants.acme, "deck-1");
  });

  it("keeps the create's own <modules> instead of the default presentation", async () => {
    const body = '<modules><module name="presentation"><document url="https://acme.example.org/own.pdf"/></module></modules>';
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "own", meetingID: "deck-2" }), { method: "POST", headers: { "content-type": "text/xml" }, body });
    expect(received("acme~deck-2")?.presentations.map((presentation) => presentation.url)).toEqual(["https://acme.example.org/own.pdf"]);
    await end(tenants.acme, "deck-2");
  });
});

describe("limits", () => {
  const limitHits = (limit: string, scope: string): Promise<number> => acmeCount("mediaplane_limit_hits_total", { limit, scope });

  it("refuses a create beyond the tenant's maxMeetings with maxMeetingsReached, counted in metrics", async () => {
    for (const id of ["l-1", "l-2", "l-3"]) expect(field((await create(tenants.acme, id)).body, "returncode")).toBe("SUCCESS");
    const before = await limitHits("maxMeetings", "tenant");
    const refused = await create(tenants.acme, "l-4");
    expect(field(refused.body, "returncode")).toBe("FAILED");
    expect(field(refused.body, "messageKey")).toBe("maxMeetingsReached");
    expect(received("acme~l-4")).toBeUndefined();
    expect(await fleet.balancers[0]!.redis.hexists(keys.meetings("acme"), "l-4")).toBe(0);
    expect(await limitHits("maxMeetings", "tenant")).toBe(before + 1);
  });

  it("still answers a create of a meeting that is already running when at the limit", async () => {
    expect(field((await create(tenants.acme, "l-1")).body, "messageKey")).toBe("duplicateWarning");
  });

  it("refuses only the concurrent creates beyond the limit", async () => {
    for (const id of ["l-1", "l-2", "l-3"]) await end(tenants.acme, id);
    const answers = await Promise.all(["c-1", "c-2", "c-3", "c-4", "c-5"].map((id) => create(tenants.acme, id)));
    expect(answers.filter((answer) => field(answer.body, "returncode") === "SUCCESS")).toHaveLength(3);
    expect(await fleet.balancers[0]!.redis.hlen(keys.meetings("acme"))).toBe(3);
    for (const id of ["c-1", "c-2", "c-3", "c-4", "c-5"]) await end(tenants.acme, id);
  });

  it("refuses a create beyond a secret's own maxMeetings while the tenant has room", async () => {
    const second = { slug: "acme", secret: acmeSecondSecret };
    expect(field((await create(second, "s-1")).body, "returncode")).toBe("SUCCESS");
    const refused = await create(second, "s-2");
    expect(field(refused.body, "messageKey")).toBe("maxMeetingsReached");
    expect(field(refused.body, "message")).toContain("this API secret");
    expect(field((await create(tenants.acme, "s-3")).body, "returncode")).toBe("SUCCESS");
    await end(tenants.acme, "s-1");
    await end(tenants.acme, "s-3");
  });

});

describe("voice bridges", () => {
  it("gives a meeting its requested voice bridge number, and one without a request a free 5-digit one", async () => {
    await create(tenants.globex, "v-1", { voiceBridge: "71234" });
    await create(tenants.globex, "v-2");
    const first = received("globex~v-1")?.voiceBridge;
    const second = received("globex~v-2")?.voiceBridge;
    expect(first).toBe("71234");
    expect(second).toMatch(/^\d{5}$/);
    expect(second).not.toBe(first);
    expect(await fleet.balancers[0]!.redis.hget(keys.voiceBridges(), "71234")).toBe("globex\nv-1");
    expect(await fleet.balancers[0]!.redis.hget(keys.voiceBridges(), second ?? "")).toBe("globex\nv-2");
  });

  it("frees the voice bridge number when the meeting ends", async () => {
    await end(tenants.globex, "v-1");
    expect(await fleet.balancers[0]!.redis.hget(keys.voiceBridges(), "71234")).toBeNull();
  });
});
