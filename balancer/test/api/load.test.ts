import { describe, expect, it } from "vitest";
import { loadTunablesSchema } from "../../src/config/schema.js";
import { chooseCluster, joinCost, loadOf, placementCost } from "../../src/placement/load.js";

const defaults = loadTunablesSchema.parse({});

describe("loadOf", () => {
  it("weighs attendees and meetings by their factors", () => {
    expect(loadOf({ attendees: 12, meetings: 3 }, defaults)).toBe(12 + 3 * 30);
  });

  it("adds B3LB's CPU polynomial: cpuMax at full CPU, cpuMax/cpuOrder * sum (cpu/10000)^n below", () => {
    expect(loadOf({ attendees: 0, meetings: 0, cpu: 10_000 }, defaults)).toBeCloseTo(5000);
    const half = [1, 2, 3, 4, 5, 6].reduce((sum, n) => sum + 0.5 ** n, 0) * (5000 / 6);
    expect(loadOf({ attendees: 0, meetings: 0, cpu: 5_000 }, defaults)).toBeCloseTo(half);
  });

  it("clamps a CPU figure outside 0..10000", () => {
    expect(loadOf({ attendees: 0, meetings: 0, cpu: 25_000 }, defaults)).toBeCloseTo(5000);
    expect(loadOf({ attendees: 0, meetings: 0, cpu: -5 }, defaults)).toBe(0);
  });

  it("scales the attendee and meeting terms by the node's load multiplier, not the CPU term (a share of the node already)", () => {
    expect(loadOf({ attendees: 12, meetings: 3, cpu: 10_000 }, defaults, 0.5)).toBeCloseTo(0.5 * (12 + 3 * 30) + 5000);
    expect(loadOf({ attendees: 12, meetings: 3 }, defaults, 2)).toBe(2 * (12 + 3 * 30));
  });

  it("uses a cluster's own tunables", () => {
    expect(loadOf({ attendees: 10, meetings: 1, cpu: 0 }, { attendeeFactor: 2, meetingFactor: 5, cpuMax: 0, cpuOrder: 1 })).toBe(25);
  });
});

describe("placementCost", () => {
  it("counts a new meeting as one meeting of the cluster's meeting factor", () => {
    expect(placementCost(defaults)).toBe(30);
  });
});

describe("joinCost", () => {
  it("counts a join as one attendee of the cluster's attendee factor, at the node's multiplier", () => {
    expect(joinCost({ ...defaults, attendeeFactor: 3 }, 0.5)).toBe(1.5);
  });
});

describe("chooseCluster", () => {
  it("takes the cluster whose least-loaded node is lowest", () => {
    expect(chooseCluster([{ cluster: "a", lowestLoad: 40 }, { cluster: "b", lowestLoad: 10 }], 0.99)).toBe("b");
  });

  it("breaks ties at random", () => {
    const heads = [{ cluster: "a", lowestLoad: 0 }, { cluster: "b", lowestLoad: 0 }];
    expect(chooseCluster(heads, 0.1)).toBe("a");
    expect(chooseCluster(heads, 0.9)).toBe("b");
  });

  it("has nothing to choose without a pool", () => {
    expect(chooseCluster([], 0.5)).toBeUndefined();
  });
});
