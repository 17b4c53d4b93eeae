import { describe, expect, it } from "vitest";
import { parseGetMeetings } from "../../src/poller/getMeetingsXml.js";

const meeting = (id: string, participants: number, extra = "") =>
  `<meeting><meetingName>n</meetingName><meetingID>${id}</meetingID><participantCount>${participants}</participantCount>` +
  `<attendees></attendees><metadata>${extra}</metadata><isBreakout>false</isBreakout></meeting>`;

describe("reading a node's getMeetings answer", () => {
  it("lists each meeting with its ID, attendees and element", () => {
    const xml = `<response><returncode>SUCCESS</returncode><meetings>${meeting("acme~a", 3)}${meeting("acme~b&amp;c", 0)}</meetings></response>`;
    const answer = parseGetMeetings(xml);
    expect(answer.ok && answer.meetings.map((m) => [m.nodeMeetingId, m.attendees])).toEqual([
      ["acme~a", 3],
      ["acme~b&c", 0],
    ]);
    expect(answer.ok && answer.meetings[0]?.xml).toBe(meeting("acme~a", 3));
  });

  it("reads noMeetings as an empty list", () => {
    const xml =
      "<response><returncode>SUCCESS</returncode><meetings></meetings><messageKey>noMeetings</messageKey><message>no meetings were found on this server</message></response>";
    expect(parseGetMeetings(xml)).toEqual({ ok: true, meetings: [] });
  });

  it("does not take a metadata element named meeting for a meeting", () => {
    const xml = `<response><returncode>SUCCESS</returncode><meetings>${meeting("acme~a", 1, "<meeting>weekly</meeting>")}</meetings></response>`;
    const answer = parseGetMeetings(xml);
    expect(answer.ok && answer.meetings.map((m) => m.nodeMeetingId)).toEqual(["acme~a"]);
  });

  it("marks breakout rooms", () => {
    const breakout = meeting("abc-123", 2).replace("<isBreakout>false", "<isBreakout>true");
    const answer = parseGetMeetings(`<response><returncode>SUCCESS</returncode><meetings>${breakout}</meetings></response>`);
    expect(answer.ok && answer.meetings[0]?.isBreakout).toBe(true);
  });

  it("fails on a FAILED answer, naming its messageKey", () => {
    const xml = "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey><message>x</message></response>";
    expect(parseGetMeetings(xml)).toEqual({ ok: false, problem: "FAILED checksumError" });
  });

  it("fails on a page that is not a BBB answer", () => {
    expect(parseGetMeetings("<html><body>502 Bad Gateway</body></html>").ok).toBe(false);
  });

  it("fails on a truncated document", () => {
    const xml = `<response><returncode>SUCCESS</returncode><meetings>${meeting("acme~a", 1).slice(0, 40)}</meetings></response>`;
    expect(parseGetMeetings(xml).ok).toBe(false);
  });
});
