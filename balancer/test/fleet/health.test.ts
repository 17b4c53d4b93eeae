import { describe, expect, it } from "vitest";
import { nextHealth, unknownHealth, type HealthRecord } from "../../src/fleet/health.js";

const thresholds = { unhealthyAfter: 2, healthyAfter: 1 };

function afterPolls(outcomes: readonly boolean[], start: HealthRecord = unknownHealth, settings = thresholds): HealthRecord {
  return outcomes.reduce((record, ok) => nextHealth(record, ok, settings).health, start);
}

describe("node health from consecutive polls", () => {
  it("keeps a healthy node healthy after one failed poll", () => {
    expect(afterPolls([true, false]).healthy).toBe(true);
  });

  it("turns a node unhealthy after unhealthyAfter failed polls in a row", () => {
    const healthy = afterPolls([true, false]);
    expect(nextHealth(healthy, false, thresholds)).toEqual({
      health: { healthy: false, failStreak: 2, okStreak: 0 },
      change: "becameUnhealthy",
    });
  });

  it("does not count failures separated by a success as consecutive", () => {
    expect(afterPolls([true, false, true, false]).healthy).toBe(true);
  });

  it("brings an unhealthy node back after healthyAfter successful polls", () => {
    const settings = { unhealthyAfter: 2, healthyAfter: 3 };
    const down = afterPolls([false, false], unknownHealth, settings);
    expect(down.healthy).toBe(false);
    expect(afterPolls([true, true], down, settings).healthy).toBe(false);
    expect(nextHealth(afterPolls([true, true], down, settings), true, settings).change).toBe("becameHealthy");
  });

  it("reports the change only on the poll that makes it", () => {
    const down = afterPolls([false, false]);
    expect(nextHealth(down, false, thresholds).change).toBe("none");
  });

  it("leaves a node not polled yet undecided until a threshold is reached", () => {
    expect(afterPolls([false]).healthy).toBeUndefined();
    expect(afterPolls([false, false]).healthy).toBe(false);
    expect(afterPolls([true]).healthy).toBe(true);
  });
});
