import { describe, expect, it } from "vitest";
import { renderReport, type Figure } from "./report.js";
import { describeAnswers, rushFigures, rushFloorFigures, slotPhaseLatencies, type RushFacts } from "./rushReport.js";
import { checkPlacements, readAnswer, tallyRush, type RushFindings, type RushRecord } from "./rushInvariants.js";

const facts: RushFacts = {
  fleetSize: 1_000,
  shape: { durationMs: 60_000, creates: 3, racingCreates: 1, joins: 2, earlyShare: 0.5, replicas: 2 },
  setup: "2 API replicas and 2 pollers",
  cpu: "CPU µs per request: total 100",
  bySlotPhase: { create: { pollBurst: [40], rest: [4] }, join: { pollBurst: [20, 30], rest: [2, 3, 4] } },
};

const success = readAnswer(200, undefined, "<response><returncode>SUCCESS</returncode></response>");
const notYet = readAnswer(200, undefined, "<response><returncode>FAILED</returncode><messageKey>invalidMeetingIdentifier</messageKey></response>");
const redirect = readAnswer(302, "http://127.0.0.1:1/n1/bigbluebutton/api/join?x", "");

/** Latencies 1..n ms from the scheduled time; the records of one created meeting `a` on n1. */
function records(creates: number, joins: number): RushRecord[] {
  const list: RushRecord[] = [];
  for (let i = 1; i <= creates; i += 1) list.push({ call: "create", meetingId: "a", scheduledAt: 0, sentAt: 0, answeredAt: i * 10, outcome: success });
  for (let i = 1; i <= joins; i += 1) list.push({ call: "join", meetingId: "a", attendee: i, scheduledAt: 1_000, sentAt: 1_000, answeredAt: 1_000 + i, outcome: redirect });
  return list;
}

const clean = { mapped: new Map([["a", "n1"]]), running: new Map([["n1", ["a"]]]) };

function findings(list: RushRecord[], overrides: Partial<RushFindings> = {}): RushFindings {
  return { tally: tallyRush(list), atEnd: checkPlacements(["a"], clean), afterPoll: checkPlacements(["a"], clean), settledByPollers: 0, misdirectedJoins: 0, ...overrides };
}

const figure = (figures: readonly Figure[], name: string): Figure => {
  const found = figures.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no figure ${name} among ${figures.map((candidate) => candidate.name).join(", ")}`);
  return found;
};

describe("rushFigures", () => {
  it("reports p50 and p99 of creates and joins, judging the p99s against the issue's targets", () => {
    const figures = rushFigures(findings(records(100, 200)), facts);
    expect(figure(figures, "rush: create p50")).toMatchObject({ values: [500], unit: "ms" });
    expect(figure(figures, "rush: create p99")).toMatchObject({ values: [990], target: { kind: "atMost", value: 50, of: "figure" } });
    expect(figure(figures, "rush: join p50")).toMatchObject({ values: [100] });
    expect(figure(figures, "rush: join p99")).toMatchObject({ values: [198], target: { kind: "atMost", value: 10, of: "figure" } });
  });

  it("says how much of the latency is the load generator's own lateness", () => {
    const late: RushRecord[] = [{ call: "join", meetingId: "a", attendee: 1, scheduledAt: 0, sentAt: 30, answeredAt: 32, outcome: redirect }];
    const figures = rushFigures(findings(late), facts);
    expect(figure(figures, "rush: join p99")).toMatchObject({ values: [32] });
    expect(figure(figures, "rush: join p99").how).toContain("from the hand-off to the HTTP client: p50 2.0 ms, p99 2.0 ms");
    expect(figure(figures, "rush: join p50").how).toContain("the load generator's timers handed requests to its HTTP client p99 30.0 ms late");
  });

  it("judges 5xx answers, unexpected answers, duplicates and unmapped meetings against zero", () => {
    const figures = rushFigures(findings(records(1, 1), { settledByPollers: 1 }), facts);
    for (const name of ["rush: HTTP 5xx answers", "rush: unexpected answers", "rush: meetings on two nodes", "rush: unmapped meetings"]) {
      expect(figure(figures, name).target).toEqual({ kind: "atMost", value: 0, of: "figure" });
    }
    expect(figure(figures, "rush: meetings on two nodes").values).toEqual([1]);
    expect(figure(figures, "rush: unmapped meetings").values).toEqual([0]);
  });

  it("lists the answers by key with the 5xx figure, and the unexpected ones with theirs", () => {
    const list = [...records(1, 1), { call: "join", meetingId: "a", attendee: 9, scheduledAt: 0, sentAt: 0, answeredAt: 3, outcome: notYet } as const, { call: "join", meetingId: "b", attendee: 10, scheduledAt: 0, sentAt: 0, answeredAt: 3, outcome: readAnswer(502, undefined, "") } as const];
    const figures = rushFigures(findings(list), facts);
    expect(figure(figures, "rush: HTTP 5xx answers")).toMatchObject({ values: [1] });
    expect(figure(figures, "rush: HTTP 5xx answers").how).toContain("create SUCCESS: 1; join 302: 1; join FAILED invalidMeetingIdentifier (sent before the create was answered): 1; join HTTP 502: 1");
    expect(figure(figures, "rush: unexpected answers")).toMatchObject({ values: [1] });
    expect(figure(figures, "rush: unexpected answers").how).toContain(": join HTTP 502: 1; 2 attendees never let in");
  });

  it("renders in the benchmark report with a verdict per target", () => {
    const markdown = renderReport({ date: new Date("2026-12-03T08:00:00Z"), mode: "full", machine: { cpuModel: "x", cores: 2, memoryBytes: 2 ** 30, os: "linux" }, versions: {}, settings: "", figures: rushFigures(findings(records(10, 10)), facts) });
    expect(markdown).toMatch(/\| rush: join p99 \| 1,000 \| ms \| 10\.00 \/ \*\*10\.00\*\* \/ 10\.00 \|  \| ≤ 10\.00 ms \| met \|/);
    expect(markdown).toMatch(/\| rush: create p99 \| 1,000 \| ms \| 100\.00 \/ \*\*100\.00\*\* \/ 100\.00 \|  \| ≤ 50\.00 ms \| \*\*missed\*\* \|/);
    expect(markdown).toMatch(/\| rush: meetings on two nodes \| 1,000 \| meetings \| 0 \/ \*\*0\*\* \/ 0 \|  \| ≤ 0 meetings \| met \|/);
  });
});

describe("rushFloorFigures", () => {
  it("reports the floor's p99 of creates and joins, unjudged, with its p50 in the description", () => {
    const [create, join] = rushFloorFigures(tallyRush(records(100, 200)));
    expect(create).toMatchObject({ name: "rush floor: create p99", unit: "ms", values: [990] });
    expect(join).toMatchObject({ name: "rush floor: join p99", values: [198] });
    expect(join!.how).toMatch(/^p50 100\.0 ms; the same schedule/);
    expect(create!.target ?? join!.target).toBeUndefined();
  });
});

describe("describeAnswers", () => {
  it("lists the most frequent answers first, ties by name", () => {
    expect(describeAnswers(new Map([["join 302", 3], ["create SUCCESS", 5], ["b", 3]]))).toBe("create SUCCESS: 5; b: 3; join 302: 3");
  });
});

describe("slotPhaseLatencies", () => {
  const clock = { timeOrigin: 1_700_000_003_000, intervalMs: 10_000 };
  const scheduledIntoSlot = (call: "create" | "join", intoSlotMs: number, latencyMs: number): RushRecord => {
    const scheduledAt = 10_000 - 3_000 + intoSlotMs; // the clock's origin is 3 s into a slot
    return { call, meetingId: "a", scheduledAt, sentAt: scheduledAt, answeredAt: scheduledAt + latencyMs, outcome: success };
  };

  it("puts requests scheduled in a poll slot's first tenth in the pollers' burst, by the epoch's slots", () => {
    const split = slotPhaseLatencies([scheduledIntoSlot("join", 0, 7), scheduledIntoSlot("join", 999, 8), scheduledIntoSlot("join", 1_000, 9), scheduledIntoSlot("create", 9_999, 5)], clock);
    expect(split).toEqual({ create: { pollBurst: [], rest: [5] }, join: { pollBurst: [7, 8], rest: [9] } });
  });

  it("shows both phases' p99 next to each p99 figure", () => {
    const figures = rushFigures(findings(records(1, 1)), facts);
    expect(figure(figures, "rush: join p99").how).toContain("first tenth of a poll slot, when the pollers start polling every node: p99 30.0 ms of 2; in the other nine tenths: p99 4.0 ms");
    expect(figure(figures, "rush: create p99").how).toContain("p99 40.0 ms of 1; in the other nine tenths: p99 4.0 ms");
  });
});
