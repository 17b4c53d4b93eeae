import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, get, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(async () => {
  await fleet.close();
});

describe("create", () => {
  it("creates the meeting on a node under the tenant's namespaced ID", async () => {
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "Demo", meetingID: "room-1" }));
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("text/xml;charset=utf-8");
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(field(answer.body, "meetingID")).toBe("room-1");
    const hosts = [...fleet.simulator.nodes.values()].filter((node) => node.meeting("acme~room-1") !== undefined);
    expect(hosts).toHaveLength(1);
  });
});
