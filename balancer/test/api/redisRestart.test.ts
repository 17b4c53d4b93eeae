import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, get, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ nodeIds: ["n1"] });
});
afterAll(async () => {
  await fleet.close();
});

describe("Redis restarted under the balancer", () => {
  it("keeps serving the meetings Redis kept, without a restart of the balancer", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "kept", meetingID: "kept" }));
    await fleet.redis.stop(true);
    const duringOutage = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "getMeetingInfo", { meetingID: "kept" }));
    expect(duringOutage.status).toBe(200);
    expect(field(duringOutage.body, "returncode")).toBe("FAILED");
    await fleet.redis.restart();
    let join = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "join", { fullName: "Ada", meetingID: "kept", role: "VIEWER" }));
    for (let i = 0; i < 40 && join.status !== 302; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      join = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "join", { fullName: "Ada", meetingID: "kept", role: "VIEWER" }));
    }
    expect(join.status).toBe(302);
    // A new meeting needs the placement script, which the restarted Redis no longer has cached.
    const created = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "after", meetingID: "after" }));
    expect(field(created.body, "returncode")).toBe("SUCCESS");
  });
});
