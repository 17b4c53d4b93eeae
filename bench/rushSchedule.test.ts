import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { raceWindowMs, rushSchedule, type RushShape, type ScheduledCreate, type ScheduledJoin, type ScheduledRequest } from "./rushSchedule.js";

const issueShape: RushShape = { durationMs: 60_000, creates: 2_000, racingCreates: 200, joins: 40_000, earlyShare: 1 / 3, replicas: 2 };

const createsOf = (requests: readonly ScheduledRequest[]): ScheduledCreate[] => requests.filter((request): request is ScheduledCreate => request.kind === "create");
const joinsOf = (requests: readonly ScheduledRequest[]): ScheduledJoin[] => requests.filter((request): request is ScheduledJoin => request.kind === "join");

/** meeting -> the time of its first create. */
function firstCreates(requests: readonly ScheduledRequest[]): Map<number, number> {
  const first = new Map<number, number>();
  for (const create of createsOf(requests)) first.set(create.meeting, Math.min(first.get(create.meeting) ?? Infinity, create.atMs));
  return first;
}

describe("rushSchedule", () => {
  const schedule = rushSchedule(issueShape, 7);

  it("sends exactly the creates and joins asked for, all within the run", () => {
    expect(createsOf(schedule.requests)).toHaveLength(2_000);
    expect(joinsOf(schedule.requests)).toHaveLength(40_000);
    expect(schedule.requests.filter((request) => !(request.atMs >= 0 && request.atMs < 60_000))).toEqual([]);
  });

  it("lists the requests in the order they are sent", () => {
    const times = schedule.requests.map((request) => request.atMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("schedules a third of the joins before their meeting's create, and marks exactly those as early", () => {
    const created = firstCreates(schedule.requests);
    const before = joinsOf(schedule.requests).filter((join) => join.atMs < created.get(join.meeting)!);
    expect(before).toHaveLength(13_333);
    expect(before.every((join) => join.early)).toBe(true);
    expect(joinsOf(schedule.requests).filter((join) => join.early)).toHaveLength(13_333);
  });

  it("creates every meeting a join goes to", () => {
    const created = firstCreates(schedule.requests);
    expect(created.size).toBe(schedule.meetings);
    expect(joinsOf(schedule.requests).every((join) => created.has(join.meeting))).toBe(true);
  });

  it("races the second create of a meeting against its first on the other replica, within the race window", () => {
    const byMeeting = new Map<number, ScheduledCreate[]>();
    for (const create of createsOf(schedule.requests)) byMeeting.set(create.meeting, [...(byMeeting.get(create.meeting) ?? []), create]);
    const raced = [...byMeeting.values()].filter((creates) => creates.length === 2);
    expect(raced).toHaveLength(200);
    expect(schedule.meetings).toBe(1_800);
    for (const [first, second] of raced) {
      expect(first!.replica).not.toBe(second!.replica);
      expect(Math.abs(second!.atMs - first!.atMs)).toBeLessThan(raceWindowMs);
    }
  });

  it("gives every join an attendee of its own", () => {
    expect(new Set(joinsOf(schedule.requests).map((join) => join.attendee)).size).toBe(40_000);
  });

  it("spreads the requests over every replica", () => {
    const perReplica = [0, 0];
    for (const request of schedule.requests) perReplica[request.replica]! += 1;
    expect(Math.min(...perReplica)).toBeGreaterThan(0.45 * schedule.requests.length);
  });

  it("is the same rush for the same seed, and another for another seed", () => {
    const shape = { ...issueShape, creates: 20, racingCreates: 2, joins: 100 };
    expect(rushSchedule(shape, 1)).toEqual(rushSchedule(shape, 1));
    expect(rushSchedule(shape, 1)).not.toEqual(rushSchedule(shape, 2));
  });

  it("keeps its shape at any size: counts, order, early joins before their create, all within the run", () => {
    fc.assert(
      fc.property(
        fc.record({
          durationMs: fc.integer({ min: 1_000, max: 120_000 }),
          creates: fc.integer({ min: 1, max: 60 }),
          joins: fc.integer({ min: 0, max: 300 }),
          earlyShare: fc.double({ min: 0, max: 1, noNaN: true }),
          replicas: fc.integer({ min: 2, max: 4 }),
          raceShare: fc.double({ min: 0, max: 0.5, noNaN: true }),
        }),
        fc.integer(),
        ({ raceShare, ...rest }, seed) => {
          const shape: RushShape = { ...rest, racingCreates: Math.floor(rest.creates * raceShare) };
          const { requests } = rushSchedule(shape, seed);
          const created = firstCreates(requests);
          const joins = joinsOf(requests);
          expect(createsOf(requests)).toHaveLength(shape.creates);
          expect(joins).toHaveLength(shape.joins);
          expect(joins.filter((join) => join.atMs < created.get(join.meeting)!)).toHaveLength(Math.round(shape.joins * shape.earlyShare));
          expect(joins.filter((join) => join.early !== join.atMs < created.get(join.meeting)!)).toEqual([]);
          const outOfPlace = requests.filter(
            (request, i) => request.atMs < (i === 0 ? 0 : requests[i - 1]!.atMs) || request.atMs >= shape.durationMs || request.replica >= shape.replicas,
          );
          expect(outOfPlace).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses a shape it cannot schedule, naming each problem", () => {
    expect(() => rushSchedule({ ...issueShape, racingCreates: 1_001 }, 1)).toThrow(/racingCreates must be an integer from 0 to half the creates \(1000\), got 1001/);
    expect(() => rushSchedule({ ...issueShape, replicas: 1 }, 1)).toThrow(/racing creates need at least two replicas/);
    expect(() => rushSchedule({ ...issueShape, earlyShare: 1.5, joins: -1 }, 1)).toThrow(/joins must be a non-negative integer, got -1; earlyShare must be between 0 and 1, got 1.5/);
  });
});
