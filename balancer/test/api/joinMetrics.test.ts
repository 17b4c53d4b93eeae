import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acmeCount, get, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ nodeIds: ["n1"] });
});
afterAll(async () => {
  await fleet.close();
});

const requests = "mediaplane_api_requests_total";

describe("the metrics of a join", () => {
  it("count a join redirected to its error page as that error, not as a success", async () => {
    const before = { failed: await acmeCount(requests, { call: "join", result: "invalidMeetingIdentifier" }), success: await acmeCount(requests, { call: "join", result: "success" }) };
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "join", { fullName: "Ada", meetingID: "nowhere", role: "VIEWER", errorRedirectUrl: "https://lms.example.org/e" }));
    expect(answer.status).toBe(302);
    expect(new URL(answer.location ?? "").searchParams.get("errors")).toContain("invalidMeetingIdentifier");
    expect(await acmeCount(requests, { call: "join", result: "invalidMeetingIdentifier" })).toBe(before.failed + 1);
    expect(await acmeCount(requests, { call: "join", result: "success" })).toBe(before.success);
  });

  it("count a join redirected to its node as a success", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "Counted", meetingID: "counted" }));
    const before = await acmeCount(requests, { call: "join", result: "success" });
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "join", { fullName: "Ada", meetingID: "counted", role: "VIEWER", errorRedirectUrl: "https://lms.example.org/e" }));
    expect(answer.location?.startsWith(fleet.simulator.node("n1").apiUrl)).toBe(true);
    expect(await acmeCount(requests, { call: "join", result: "success" })).toBe(before + 1);
  });
});
