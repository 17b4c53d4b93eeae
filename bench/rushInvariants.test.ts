import { describe, expect, it } from "vitest";
import {
  brokenInvariants,
  checkPlacements,
  duplicateCount,
  misdirectedJoins,
  notYetCreatedKey,
  outcomeKey,
  readAnswer,
  tallyRush,
  unmappedCount,
  type FleetState,
  type Outcome,
  type RushFindings,
  type RushRecord,
} from "./rushInvariants.js";

const document = (returncode: string, messageKey = ""): string =>
  `<response><returncode>${returncode}</returncode>${messageKey === "" ? "" : `<messageKey>${messageKey}</messageKey><message>m</message>`}</response>`;

const success = readAnswer(200, undefined, document("SUCCESS"));
const notYetCreated = readAnswer(200, undefined, document("FAILED", "invalidMeetingIdentifier"));
const redirectTo = (nodeId: string): Outcome => readAnswer(302, `http://127.0.0.1:4000/${nodeId}/bigbluebutton/api/join?x=1`, "");

function create(meetingId: string, answeredAt: number, outcome: Outcome = success): RushRecord {
  return { call: "create", meetingId, scheduledAt: answeredAt - 5, sentAt: answeredAt - 4, answeredAt, outcome };
}

function join(meetingId: string, attendee: number, sentAt: number, outcome: Outcome): RushRecord {
  return { call: "join", meetingId, attendee, scheduledAt: sentAt - 1, sentAt, answeredAt: sentAt + 2, outcome };
}

const state = (mapped: Record<string, string>, running: Record<string, string[]>): FleetState => ({
  mapped: new Map(Object.entries(mapped)),
  running: new Map(Object.entries(running)),
});

const clean: FleetState = state({ a: "n1", b: "n2" }, { n1: ["a"], n2: ["b"], n3: [] });

describe("readAnswer and outcomeKey", () => {
  it("reads a join's 302 as the node the attendee is sent to", () => {
    expect(redirectTo("node-0042")).toEqual({ kind: "redirect", nodeId: "node-0042" });
    expect(outcomeKey(redirectTo("node-0042"))).toBe("302");
  });

  it("names a BBB answer by its returncode and messageKey, leaving out an empty messageKey", () => {
    expect(outcomeKey(notYetCreated)).toBe("FAILED invalidMeetingIdentifier");
    expect(outcomeKey(readAnswer(200, undefined, "<response><returncode>SUCCESS</returncode><messageKey></messageKey></response>"))).toBe("SUCCESS");
    expect(outcomeKey(readAnswer(200, undefined, document("SUCCESS", "duplicateWarning")))).toBe("SUCCESS duplicateWarning");
  });

  it("names an answer that is no BBB document by its HTTP status", () => {
    expect(outcomeKey(readAnswer(502, undefined, "Bad Gateway"))).toBe("HTTP 502");
    expect(outcomeKey(readAnswer(302, "not a url", ""))).toBe("HTTP 302");
  });

  it("names a request that got no answer by why", () => {
    expect(outcomeKey({ kind: "noAnswer", reason: "UND_ERR_HEADERS_TIMEOUT" })).toBe("no answer: UND_ERR_HEADERS_TIMEOUT");
  });
});

describe("tallyRush", () => {
  it("expects the not-yet-created answer to a join sent before its meeting's create was answered", () => {
    const tally = tallyRush([join("a", 1, 90, notYetCreated), create("a", 100), join("a", 1, 1_092, redirectTo("n1"))]);
    expect(tally.unexpected.size).toBe(0);
    expect(tally.byKey.get(`join ${notYetCreatedKey}`)).toBe(1);
    expect(tally.attendeesAfterRetry).toBe(1);
  });

  it("counts the not-yet-created answer to a join sent after its meeting's create was answered as unexpected", () => {
    const tally = tallyRush([create("a", 100), join("a", 1, 101, notYetCreated)]);
    expect(tally.unexpected).toEqual(new Map([["join FAILED invalidMeetingIdentifier", 1]]));
  });

  it("takes the earliest SUCCESS of racing creates as the moment the meeting exists", () => {
    const tally = tallyRush([create("a", 300, readAnswer(200, undefined, document("SUCCESS", "duplicateWarning"))), create("a", 200), join("a", 1, 250, notYetCreated)]);
    expect(tally.createdAt.get("a")).toBe(200);
    expect(tally.unexpected).toEqual(new Map([["join FAILED invalidMeetingIdentifier", 1]]));
  });

  it("counts a failed create, a 5xx and a request without an answer as unexpected, the 5xx also as a server error", () => {
    const tally = tallyRush([
      create("a", 100, readAnswer(200, undefined, document("FAILED", "noServer"))),
      join("b", 1, 50, readAnswer(503, undefined, "")),
      join("b", 2, 60, { kind: "noAnswer", reason: "ECONNRESET" }),
    ]);
    expect(tally.serverErrors).toBe(1);
    expect(tally.unexpected).toEqual(
      new Map([
        ["create FAILED noServer", 1],
        ["join HTTP 503", 1],
        ["join no answer: ECONNRESET", 1],
      ]),
    );
  });

  it("counts an attendee whose retries never got a 302 as never let in", () => {
    const tally = tallyRush([join("a", 1, 10, notYetCreated), join("a", 1, 1_012, notYetCreated), join("a", 2, 20, redirectTo("n1"))]);
    expect(tally.attendeesNeverIn).toBe(1);
  });

  it("measures each answer from its scheduled send time, and how late it was sent", () => {
    const tally = tallyRush([{ call: "join", meetingId: "a", attendee: 1, scheduledAt: 1_000, sentAt: 1_003, answeredAt: 1_010, outcome: redirectTo("n1") }]);
    expect(tally.joinLatenciesMs).toEqual([10]);
    expect(tally.joinSinceSentMs).toEqual([7]);
    expect(tally.sendLagsMs).toEqual([3]);
  });
});

describe("checkPlacements", () => {
  it("finds nothing wrong when every created meeting runs on the one node Redis maps it to", () => {
    expect(checkPlacements(["a", "b"], clean)).toEqual({ onTwoNodes: [], unmapped: [] });
  });

  it("finds a meeting running on two nodes", () => {
    const check = checkPlacements(["a"], state({ a: "n1" }, { n1: ["a"], n2: ["a"] }));
    expect(check.onTwoNodes).toEqual([{ meetingId: "a", mappedTo: "n1", runningOn: ["n1", "n2"] }]);
    expect(check.unmapped).toEqual([]);
  });

  it("finds a created meeting Redis does not map", () => {
    expect(checkPlacements(["a"], state({}, { n1: ["a"] })).unmapped).toEqual([{ meetingId: "a", mappedTo: undefined, runningOn: ["n1"] }]);
  });

  it("finds a meeting mapped to a node that does not run it", () => {
    expect(checkPlacements(["a"], state({ a: "n2" }, { n1: ["a"], n2: [] })).unmapped).toEqual([{ meetingId: "a", mappedTo: "n2", runningOn: ["n1"] }]);
  });

  it("finds a created meeting that runs nowhere", () => {
    expect(checkPlacements(["a"], state({ a: "n1" }, { n1: [] })).unmapped).toEqual([{ meetingId: "a", mappedTo: "n1", runningOn: [] }]);
  });

  it("finds a meeting running without a mapping even when no create of it was answered SUCCESS", () => {
    expect(checkPlacements([], state({}, { n1: ["x"] })).unmapped).toEqual([{ meetingId: "x", mappedTo: undefined, runningOn: ["n1"] }]);
  });
});

describe("misdirectedJoins", () => {
  it("counts the 302s to a node that does not run the meeting", () => {
    const records = [join("a", 1, 10, redirectTo("n1")), join("a", 2, 11, redirectTo("n2")), join("b", 3, 12, notYetCreated)];
    expect(misdirectedJoins(records, clean)).toBe(1);
  });
});

describe("brokenInvariants", () => {
  const findings = (overrides: Partial<RushFindings> = {}): RushFindings => {
    const records = [create("a", 100), join("a", 1, 50, notYetCreated), join("a", 1, 1_052, redirectTo("n1"))];
    return { tally: tallyRush(records), atEnd: checkPlacements(["a"], clean), afterPoll: checkPlacements(["a"], clean), settledByPollers: 0, misdirectedJoins: 0, ...overrides };
  };

  it("finds none in a rush where only early joins were told the meeting does not exist yet", () => {
    expect(brokenInvariants(findings())).toEqual([]);
  });

  it("names 5xx answers, unexpected answers, and the attendees of a meeting whose create failed", () => {
    const tally = tallyRush([create("a", 100, readAnswer(500, undefined, "")), join("a", 1, 200, notYetCreated)]);
    expect(brokenInvariants(findings({ tally }))).toEqual([
      "1 answers were HTTP 5xx",
      "unexpected answers: create HTTP 500: 1",
      "1 attendees never got a 302, retries included",
    ]);
  });

  it("names duplicates and unmapped meetings, and when they were found", () => {
    const broken = checkPlacements(["a"], state({ a: "n2" }, { n1: ["a"], n2: ["a"] }));
    expect(brokenInvariants(findings({ afterPoll: broken }))).toEqual([
      "1 meetings on two nodes after every node was polled again: a (mapped to n2, running on n1, n2)",
    ]);
    expect(brokenInvariants(findings({ atEnd: checkPlacements(["a"], state({}, { n1: ["a"] })) }))).toEqual([
      "1 meetings unmapped at the end of the load: a (mapped to nothing, running on n1)",
    ]);
  });

  it("names duplicates the pollers settled during the run, and joins sent to the wrong node", () => {
    expect(brokenInvariants(findings({ settledByPollers: 2, misdirectedJoins: 3 }))).toEqual([
      "the pollers found and settled 2 meetings running on two nodes during the run",
      "3 joins were sent to a node that does not run the meeting",
    ]);
  });

  it("counts a meeting found in both checks once, and adds those the pollers settled", () => {
    const twice = checkPlacements(["a"], state({ a: "n1" }, { n1: ["a"], n2: ["a"] }));
    const both = findings({ atEnd: twice, afterPoll: twice, settledByPollers: 1 });
    expect(duplicateCount(both)).toBe(2);
    expect(unmappedCount(findings({ atEnd: checkPlacements(["a", "b"], state({}, {})), afterPoll: checkPlacements(["a"], state({}, {})) }))).toBe(2);
  });
});
