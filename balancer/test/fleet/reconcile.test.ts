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

/** A meeting as the balancer creates it: its tenant in metadata, as bbb-web lists `meta_mediaplane-tenant`. */
function createdByBalancer(tenant: string, meetingId: string, extra = ""): ReportedMeeting {
  const meeting = reported(tenant, meetingId, 2);
  return { ...meeting, xml: meeting.xml.replace("<metadata></metadata>", `${extra}<metadata><mediaplane-tenant>${tenant}</mediaplane-tenant></metadata>`) };
}

describe("meetings a node runs that its meeting set lacks", () => {
  it("are listed for adoption when the balancer created them", () => {
    const result = reconcile([], [], [createdByBalancer("acme", "lost")]);
    expect(result.unmapped).toMatchObject([{ tenant: "acme", meeting: { meetingId: "lost" }, nodeMeetingId: "acme~lost", attendees: 2 }]);
  });

  it("are listed by their hash when their ID reached the node hashed", () => {
    const longId = "y".repeat(300);
    expect(reconcile([], [], [createdByBalancer("acme", longId)]).unmapped[0]?.meeting).toEqual({ meetingIdHash: nodeMeetingId("acme", longId).slice("acme#".length) });
  });

  it("are left alone when the metadata names no tenant or another one (made on the node by hand)", () => {
    const byHand = reported("acme", "by-hand", 1);
    const posing = { ...createdByBalancer("globex", "posing"), nodeMeetingId: "acme~posing" };
    expect(reconcile([], [], [byHand, posing]).unmapped).toEqual([]);
  });

  it("are left alone once ended (bbb-web lists a forcibly ended meeting until it is gone)", () => {
    const ended = createdByBalancer("acme", "ended", "<hasBeenForciblyEnded>true</hasBeenForciblyEnded>");
    expect(reconcile([], [], [ended]).unmapped).toEqual([]);
  });
});

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

  it("counts no miss against a mapping whose create had not finished when the node's report was taken", () => {
    const member = nodeMeetingMember("acme", "m1");
    expect(reconcile([member], [member], [], new Set())).toMatchObject({ release: [], missing: [] });
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
