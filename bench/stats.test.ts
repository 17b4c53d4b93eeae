import { describe, expect, it } from "vitest";
import { meetsTarget, pairedRatioSpread, percentile, spreadOf } from "./stats.js";

describe("spreadOf", () => {
  it("reports min, median and max of an odd number of runs", () => {
    expect(spreadOf([12, 3, 7])).toEqual({ min: 3, median: 7, max: 12, runs: 3 });
  });

  it("takes the mean of the two middle runs as the median of an even number of runs", () => {
    expect(spreadOf([4, 1, 10, 6])).toEqual({ min: 1, median: 5, max: 10, runs: 4 });
  });

  it("reports a single run as its own min, median and max", () => {
    expect(spreadOf([42])).toEqual({ min: 42, median: 42, max: 42, runs: 1 });
  });

  it("does not reorder the caller's values", () => {
    const values = [3, 1, 2];
    spreadOf(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it("refuses no runs at all", () => {
    expect(() => spreadOf([])).toThrow(/at least one value/);
  });

  it("refuses a run that produced no number", () => {
    expect(() => spreadOf([1, Number.NaN])).toThrow(/not a finite figure/);
  });
});

describe("pairedRatioSpread", () => {
  it("divides every run by the baseline run paired with it", () => {
    expect(pairedRatioSpread([6_000, 7_000, 4_000], [10_000, 10_000, 5_000])).toEqual({ min: 0.6, median: 0.7, max: 0.8, runs: 3 });
  });

  it("refuses runs without a baseline run each", () => {
    expect(() => pairedRatioSpread([1, 2], [10])).toThrow(/2 runs but 1 baseline runs/);
  });

  it("refuses a baseline run that served nothing", () => {
    expect(() => pairedRatioSpread([1], [0])).toThrow(/a baseline run served nothing/);
  });
});

describe("meetsTarget", () => {
  const figure = spreadOf([5, 8, 30]);

  it("judges an upper bound on the median, not on the worst run", () => {
    expect(meetsTarget({ kind: "atMost", value: 10, of: "figure" }, figure, undefined)).toBe(true);
  });

  it("misses a lower bound the median does not reach", () => {
    expect(meetsTarget({ kind: "atLeast", value: 9, of: "figure" }, figure, undefined)).toBe(false);
  });

  it("counts reaching the bound exactly as meeting it", () => {
    expect(meetsTarget({ kind: "atLeast", value: 8, of: "figure" }, figure, undefined)).toBe(true);
  });

  it("judges a ratio target on the ratio to the baseline", () => {
    const ratio = pairedRatioSpread([5_000, 6_500, 7_000], [10_000, 10_000, 10_000]);
    expect(meetsTarget({ kind: "atLeast", value: 0.6, of: "ratio" }, figure, ratio)).toBe(true);
  });

  it("refuses a ratio target without a baseline", () => {
    expect(() => meetsTarget({ kind: "atLeast", value: 0.6, of: "ratio" }, figure, undefined)).toThrow(/needs a ratio/);
  });
});

describe("percentile", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);

  it("answers the nearest-rank value, one that was measured", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile([1, 2, 4], 50)).toBe(2);
  });

  it("answers the largest value for p100 and a single value for any percentile", () => {
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([7], 1)).toBe(7);
  });

  it("refuses no values and a percentile outside (0, 100]", () => {
    expect(() => percentile([], 50)).toThrow(/at least one value/);
    expect(() => percentile([1], 0)).toThrow(/over 0 and at most 100, got 0/);
  });
});
