import { describe, expect, it } from "vitest";
import type { ReportedMeeting } from "../../src/poller/getMeetingsXml.js";
import { reconcile } from "../../src/poller/reconcile.js";
import { nodeMeetingMember } from "../../src/store/meetings.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";

function reported(tenant: string, meetingId: string, attendees: number, isBreakout = false): ReportedMeeting {
  const id = nodeMeetingId(tenant, meetingId);
  return {
    nodeMeetingId: id,
    attendees,
    isBreakout,
    xml: `<meeting><meetingName>x</meetingName><meetingID>${id}</meetingID><participantCount>${attendees}</participantCount><metadata></metadata></meeting>`,
  };
}

describe("reconciling a node's mappings with its poll", () => {
  it("keeps the mappings of meetings the node reports and refreshes their summaries in the tenant's view", () => {
    const result = reconcile([nodeMeetingMember("acme", "m1")], [], [reported("acme", "m1", 4)]);
    expect(result.release).toEqual([]);
    expect(result.missing).toEqual([]);
    expect(result.summaries.get("acme")?.["m1"]).toContain("<meetingID>m1</meetingID>");
  });

  it("gives a mapping the node does not report one more poll before releasing it", () => {
    const member = nodeMeetingMember("acme", "m1");
    const first = reconcile([member], [], []);
    expect(first).toMatchObject({ release: [], missing: [member] });
    const second = reconcile([member], first.missing, []);
    expect(second).toMatchObject({ release: [member], missing: [] });
  });

  it("forgives a miss when the meeting shows up again", () => {
    const member = nodeMeetingMember("acme", "m1");
    expect(reconcile([member], [member], [reported("acme", "m1", 0)])).toMatchObject({ release: [], missing: [] });
  });

  it("matches meetings whose IDs reach the node hashed", () => {
    const longId = "x".repeat(300);
    const member = nodeMeetingMember("acme", longId);
    const result = reconcile([member], [member], [reported("acme", longId, 1)]);
    expect(result.release).toEqual([]);
    expect(result.summaries.get("acme")?.[longId]).toBeDefined();
  });

  it("counts attendees of every meeting and meetings without breakout rooms, per tenant too", () => {
    const result = reconcile(
      [],
      [],
      [reported("acme", "m1", 4), reported("acme", "m1-breakout", 2, true), reported("globex", "m1", 3), { ...reported("x", "y", 5), nodeMeetingId: "manual-meeting" }],
    );
    expect(result).toMatchObject({ attendees: 14, meetings: 3 });
    expect(result.usage).toEqual({ acme: { meetings: 1, attendees: 6 }, globex: { meetings: 1, attendees: 3 } });
  });

  it("keeps two tenants' meetings with the same ID apart", () => {
    const result = reconcile([nodeMeetingMember("acme", "same"), nodeMeetingMember("globex", "same")], [nodeMeetingMember("globex", "same")], [reported("acme", "same", 1)]);
    expect(result.release).toEqual([nodeMeetingMember("globex", "same")]);
    expect([...result.summaries.keys()]).toEqual(["acme"]);
  });
});
