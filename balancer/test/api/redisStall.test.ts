import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisCommandTimeoutMs } from "../../src/apiServer.js";
import { field, get, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(async () => {
  fleet.redis.resume();
  await fleet.close();
});

const join = (meetingId: string) =>
  get(signedUrl(fleet.balancers[0]!, tenants.acme, "join", { meetingID: meetingId, fullName: "Ada", role: "VIEWER", redirect: "false" }));

describe("a Redis that stalls", () => {
  it("costs a join an error within the command timeout, and joins work again once Redis answers, without a restart", async () => {
    const created = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "Stall", meetingID: "stall" }));
    expect(field(created.body, "returncode")).toBe("SUCCESS");
    fleet.redis.pause();
    try {
      const started = performance.now();
      const during = await join("stall");
      // A correctness bound (the command timeout), with room for a loaded machine; not a performance target.
      expect(performance.now() - started).toBeLessThan(redisCommandTimeoutMs * 2 + 2_000);
      expect(during.status).toBe(200);
      expect(field(during.body, "returncode")).toBe("FAILED");
      expect(field(during.body, "messageKey")).toBe("internalError");
    } finally {
      fleet.redis.resume();
    }
    const after = await join("stall");
    expect(field(after.body, "returncode")).toBe("SUCCESS");
    expect(field(after.body, "messageKey")).toBe("successfullyJoined");
  });
});
