import { describe, expect, it } from "vitest";
import { hashMeetingId, nodeMeetingId, parseNodeMeetingId } from "../src/tenancy/nodeMeetingId.js";

describe("node meeting IDs", () => {
  it("carry the tenant in front of the meeting ID", () => {
    expect(nodeMeetingId("acme", "room-1")).toBe("acme~room-1");
  });

  it("parse back to the tenant and its own meeting ID", () => {
    expect(parseNodeMeetingId("acme~room~1#x")).toEqual({ kind: "readable", tenant: "acme", meetingId: "room~1#x" });
  });

  it("stay within BBB's 256 characters for the longest meeting IDs", () => {
    const long = "x".repeat(256);
    const id = nodeMeetingId("acme", long);
    expect(id.length).toBeLessThanOrEqual(256);
    expect(parseNodeMeetingId(id)).toEqual({ kind: "hashed", tenant: "acme", meetingIdHash: hashMeetingId(long) });
  });

  it("are not claimed for meetings the balancer did not name", () => {
    expect(parseNodeMeetingId("random-meeting")).toBeUndefined();
    expect(parseNodeMeetingId("Acme~x")).toBeUndefined();
  });
});
