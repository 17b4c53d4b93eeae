import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { BalancerConfigInput } from "../../src/config/schema.js";
import { keys } from "../../src/store/keys.js";
import { apiFleetPolls, pollOnce, waitFor } from "../fleet/harness.js";
import { field, get, hostOf, poolLoads, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

/**
 * Attendee limits hold at join time: each join is counted as it arrives, in the same Redis script that checks the
 * limit, so joins racing on two replicas never let one attendee too many in. The answer for a full tenant is
 * bbb-web's for a full meeting: `maxParticipantsReached`, "The number of participants allowed for this meeting
 * has been reached." (bigbluebutton-web/grails-app/controllers/org/bigbluebutton/web/controllers/ApiController.groovy,
 * join, `hasReachedMaxParticipants`).
 */

const limitedSecret = "acme-limited-secret-0123456789";
const limited = { slug: "acme", secret: limitedSecret };
const tenantLimit = 4;
const secretLimit = 2;

let fleet: Fleet;
let polls: ReturnType<typeof apiFleetPolls>;
beforeAll(async () => {
  fleet = await startFleet({
    nodeIds: ["n1", "n2"],
    replicas: 2,
    configure: (config): BalancerConfigInput => ({
      ...config,
      tenants: [
        { slug: "acme", secrets: [tenants.acme.secret, { secret: limitedSecret, limits: { maxAttendees: secretLimit } }], limits: { maxAttendees: tenantLimit } },
        { slug: "globex", secrets: [tenants.globex.secret] },
      ],
    }),
  });
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

async function create(tenant: Tenant, meetingId: string, replica = 0): Promise<string> {
  const answer = await get(signedUrl(fleet.balancers[replica]!, tenant, "create", { name: meetingId, meetingID: meetingId }));
  return field(answer.body, "returncode") === "SUCCESS" ? "SUCCESS" : (field(answer.body, "messageKey") ?? "?");
}

/** A browser's join: `admitted` when sent on to the node, else the error's messageKey. */
async function join(tenant: Tenant, meetingId: string, replica = 0): Promise<string> {
  const answer = await get(signedUrl(fleet.balancers[replica]!, tenant, "join", { fullName: "Ada", meetingID: meetingId, role: "VIEWER" }));
  return answer.status === 302 ? "admitted" : (field(answer.body, "messageKey") ?? "?");
}

async function counted(tenant: string): Promise<number> {
  const estimates = await fleet.balancers[0]!.redis.hvals(keys.attendees(tenant));
  return estimates.reduce((sum, value) => sum + Number(value), 0);
}

/** One poll of the node holding a meeting, as the poller does it. */
async function pollNodeOf(nodeMeetingId: string): Promise<void> {
  await pollOnce(polls, hostOf(fleet, nodeMeetingId) ?? "n1");
}

describe("attendee limits at join", () => {
  it("refuses the join after the tenant's limit with bbb-web's maxParticipantsReached", async () => {
    expect(await create(tenants.acme, "class")).toBe("SUCCESS");
    const outcomes: string[] = [];
    for (let i = 0; i < tenantLimit + 1; i++) outcomes.push(await join(tenants.acme, "class"));
    expect(outcomes).toEqual([...Array<string>(tenantLimit).fill("admitted"), "maxParticipantsReached"]);
    const refused = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "join", { fullName: "Eve", meetingID: "class", role: "VIEWER", redirect: "false" }));
    expect(field(refused.body, "message")).toBe("The number of participants allowed for this meeting has been reached.");
  });

  it("counts the tenant's attendees across all its meetings", async () => {
    await create(tenants.acme, "room-a");
    await create(tenants.acme, "room-b");
    for (let i = 0; i < tenantLimit - 1; i++) expect(await join(tenants.acme, "room-a")).toBe("admitted");
    expect(await join(tenants.acme, "room-b")).toBe("admitted");
    expect(await join(tenants.acme, "room-b")).toBe("maxParticipantsReached");
  });

  it("sends a refused browser to the join's errorRedirectUrl, as bbb-web redirects a full meeting's join", async () => {
    await create(tenants.acme, "full");
    for (let i = 0; i < tenantLimit; i++) await join(tenants.acme, "full");
    const answer = await get(
      signedUrl(fleet.balancers[1]!, tenants.acme, "join", { fullName: "Eve", meetingID: "full", role: "VIEWER", errorRedirectUrl: "https://lms.example.org/full" }),
    );
    expect(answer.status).toBe(302);
    const errors = new URL(answer.location ?? "").searchParams.get("errors") ?? "";
    expect(JSON.parse(errors)).toEqual([{ key: "maxParticipantsReached", message: "The number of participants allowed for this meeting has been reached." }]);
  });

  it("holds a secret's own limit over the meetings created with it, whoever signs the join", async () => {
    await create(limited, "small");
    await create(tenants.acme, "big");
    expect(await join(tenants.acme, "small")).toBe("admitted");
    expect(await join(limited, "small")).toBe("admitted");
    expect(await join(tenants.acme, "small")).toBe("maxParticipantsReached");
    expect(await join(limited, "big")).toBe("admitted");
  });

  it("leaves a tenant without limits uncounted and unlimited", async () => {
    await create(tenants.globex, "open");
    for (let i = 0; i < 3 * tenantLimit; i++) expect(await join(tenants.globex, "open")).toBe("admitted");
    expect(await counted("globex")).toBe(0);
  });

  it("refuses a create while the tenant's attendees, joins counted, hold maxAttendees", async () => {
    await create(tenants.acme, "lecture");
    for (let i = 0; i < tenantLimit; i++) await join(tenants.acme, "lecture");
    expect(await create(tenants.acme, "another")).toBe("maxAttendeesReached");
  });

  it("gives a join the node refused back to the tenant's count", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "duo", meetingID: "duo", maxParticipants: "1" }));
    const inline = (name: string) =>
      get(signedUrl(fleet.balancers[0]!, tenants.acme, "join", { fullName: name, meetingID: "duo", role: "VIEWER", redirect: "false", userID: name }));
    expect(field((await inline("ada")).body, "messageKey")).toBe("successfullyJoined");
    expect(field((await inline("bob")).body, "messageKey")).toBe("maxParticipantsReached");
    expect(await counted("acme")).toBe(1);
  });

  it("forgets a meeting's count when the meeting ends", async () => {
    await create(tenants.acme, "brief");
    for (let i = 0; i < tenantLimit; i++) await join(tenants.acme, "brief");
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "end", { meetingID: "brief" }));
    expect(await fleet.balancers[0]!.redis.hexists(keys.attendees("acme"), "brief")).toBe(0);
    await create(tenants.acme, "next");
    expect(await join(tenants.acme, "next")).toBe("admitted");
  });
});

describe("a poll and the count", () => {
  it("resets a meeting's count to the attendees its node reports", async () => {
    await create(tenants.acme, "webinar");
    for (let i = 0; i < tenantLimit; i++) await join(tenants.acme, "webinar");
    // Two of the four browsers reached the node; the others gave up.
    fleet.simulator.node(hostOf(fleet, "acme~webinar")!).addAttendees("acme~webinar", 2);
    await pollNodeOf("acme~webinar");
    expect(await counted("acme")).toBe(2);
    expect(await join(tenants.acme, "webinar")).toBe("admitted");
    expect(await join(tenants.acme, "webinar")).toBe("admitted");
    expect(await join(tenants.acme, "webinar")).toBe("maxParticipantsReached");
  });
});

describe("two replicas racing joins at the limit", () => {
  it("admit exactly the limit, however the joins interleave", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(0, 1), { minLength: tenantLimit + 1, maxLength: 16 }), fc.constantFrom("one-room", "two-rooms"), async (replicas, rooms) => {
        await resetFleet(fleet);
        await create(tenants.acme, "r0");
        if (rooms === "two-rooms") await create(tenants.acme, "r1", 1);
        const outcomes = await Promise.all(replicas.map((replica, i) => join(tenants.acme, rooms === "two-rooms" && i % 2 === 1 ? "r1" : "r0", replica)));
        expect(outcomes.filter((outcome) => outcome === "admitted")).toHaveLength(tenantLimit);
        expect(outcomes.filter((outcome) => outcome !== "admitted").every((outcome) => outcome === "maxParticipantsReached")).toBe(true);
        expect(await counted("acme")).toBe(tenantLimit);
      }),
      { numRuns: 12 },
    );
  });

  it("never let the count pass the secret's limit while both replicas hammer one meeting", async () => {
    await create(limited, "hot");
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => join(limited, "hot", i % 2)));
    expect(outcomes.filter((outcome) => outcome === "admitted")).toHaveLength(secretLimit);
    expect(await counted("acme")).toBe(secretLimit);
  });
});

describe("joins and placement", () => {
  it("count each join on its node's load right after answering it, so the next meeting goes to the other node", async () => {
    await create(tenants.globex, "first");
    await create(tenants.globex, "second");
    const busy = hostOf(fleet, "globex~first")!;
    const idle = busy === "n1" ? "n2" : "n1";
    for (let i = 0; i < 10; i++) await join(tenants.globex, "first", i % 2);
    const meetingCost = fleet.config.clusters[0]!.load.meetingFactor;
    const charged = meetingCost + 10 * fleet.config.clusters[0]!.load.attendeeFactor;
    // Each replica sends its charges once the answer is out, on a connection of its own.
    const loads = await waitFor(async () => {
      const current = await poolLoads(fleet.balancers[0]!);
      return current[busy] === charged ? current : undefined;
    }, "both replicas' charges in the pool");
    expect(loads[idle]).toBe(meetingCost);
    await create(tenants.globex, "third");
    expect(hostOf(fleet, "globex~third")).toBe(idle);
  });

  it("are replaced by the node's own figures at the next poll", async () => {
    await create(tenants.globex, "burst");
    const node = hostOf(fleet, "globex~burst")!;
    for (let i = 0; i < 25; i++) await join(tenants.globex, "burst");
    fleet.simulator.node(node).addAttendees("globex~burst", 3);
    await pollNodeOf("globex~burst");
    const tunables = fleet.config.clusters[0]!.load;
    expect((await poolLoads(fleet.balancers[0]!))[node]).toBe(tunables.meetingFactor + 3 * tunables.attendeeFactor);
  });
});
