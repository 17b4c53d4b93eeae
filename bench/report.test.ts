import { describe, expect, it } from "vitest";
import { generatedBegin, generatedEnd, renderReport, replaceGenerated, type BenchReport, type Figure } from "./report.js";

const baselineRuns = [10_000, 10_000, 10_000];

const report = (figures: Figure[]): BenchReport => ({
  date: new Date("2026-11-22T04:50:00Z"),
  mode: "full",
  machine: { cpuModel: "AMD EPYC 7763", cores: 2, memoryBytes: 24 * 2 ** 30, os: "linux 6.1" },
  versions: { node: "20.20.2", "redis-server": "7.0.15" },
  settings: "3 runs of 8 s each, 32 connections",
  figures,
});

const rowOf = (markdown: string, name: string): string => {
  const row = markdown.split("\n").find((line) => line.startsWith(`| ${name} |`));
  if (row === undefined) throw new Error(`no row for ${name} in:\n${markdown}`);
  return row;
};

describe("renderReport", () => {
  it("states the date, machine and versions of the run", () => {
    const markdown = renderReport(report([]));
    expect(markdown).toContain("Measured 2026-11-22 04:50 UTC (full run)");
    expect(markdown).toContain("AMD EPYC 7763, 2 cores, 24.0 GiB memory, linux 6.1");
    expect(markdown).toContain("node 20.20.2, redis-server 7.0.15");
  });

  it("prints min, median and max of a figure with thousands separators", () => {
    const markdown = renderReport(report([{ name: "bare Koa hello-world", unit: "req/s", values: [10_500, 9_000, 10_000] }]));
    expect(rowOf(markdown, "bare Koa hello-world")).toContain("| 9,000 / **10,000** / 10,500 |");
  });

  it("prints a throughput figure as a ratio to the baseline runs paired with its runs", () => {
    const markdown = renderReport(report([{ name: "join throughput", fleetSize: 1_000, unit: "req/s", values: [6_000, 7_000, 4_000], baselineRuns: [10_000, 10_000, 5_000] }]));
    expect(rowOf(markdown, "join throughput")).toContain("| 0.60 / **0.70** / 0.80 |");
  });

  it("marks a target the median meets as met", () => {
    const figure: Figure = { name: "join throughput", fleetSize: 1_000, unit: "req/s", values: [5_000, 7_000, 8_000], baselineRuns, target: { kind: "atLeast", value: 0.6, of: "ratio" } };
    expect(rowOf(renderReport(report([figure])), "join throughput")).toMatch(/\| ≥ 0\.60 × baseline \| met \|/);
  });

  it("marks a target the median misses as missed", () => {
    const figure: Figure = { name: "join p99 at 2,000 req/s", fleetSize: 1_000, unit: "ms", values: [9, 12, 14], target: { kind: "atMost", value: 10, of: "figure" } };
    expect(rowOf(renderReport(report([figure])), "join p99 at 2,000 req/s")).toMatch(/\| ≤ 10\.00 ms \| \*\*missed\*\* \|/);
  });

  it("pivots a figure measured at several fleet sizes into the sweep table", () => {
    const markdown = renderReport(
      report([
        { name: "join throughput", fleetSize: 5_000, unit: "req/s", values: [6_900], baselineRuns: [10_000] },
        { name: "join throughput", fleetSize: 100, unit: "req/s", values: [7_100], baselineRuns: [10_000] },
        { name: "getMeetings throughput", fleetSize: 1_000, unit: "req/s", values: [2_000] },
      ]),
    );
    expect(markdown).toContain("| figure | 100 nodes | 1,000 nodes | 5,000 nodes |");
    const sweep = markdown.slice(markdown.indexOf("Fleet-size sweep"));
    expect(rowOf(sweep, "join throughput")).toBe("| join throughput | 7,100 req/s (0.71 ×) |  | 6,900 req/s (0.69 ×) |");
  });

  it("leaves the sweep table out when every figure was measured at one fleet size", () => {
    expect(renderReport(report([{ name: "join throughput", fleetSize: 1_000, unit: "req/s", values: [1] }]))).not.toContain("Fleet-size sweep");
  });

  it("keeps a pipe in a description from breaking the table", () => {
    const markdown = renderReport(report([{ name: "commands per join", fleetSize: 1_000, unit: "commands", values: [1], how: "hget | 1.00" }]));
    expect(rowOf(markdown, "commands per join")).toContain("hget \\| 1.00");
  });
});

describe("replaceGenerated", () => {
  it("replaces only what lies between the markers", () => {
    const document = `# Benchmarks\n\nintro\n\n${generatedBegin}\nold table\n${generatedEnd}\n\n## What limits it\n\nprose\n`;
    expect(replaceGenerated(document, "new table")).toBe(`# Benchmarks\n\nintro\n\n${generatedBegin}\nnew table\n${generatedEnd}\n\n## What limits it\n\nprose\n`);
  });

  it("appends the markers to a document that has none", () => {
    expect(replaceGenerated("# Benchmarks\n", "table")).toBe(`# Benchmarks\n\n${generatedBegin}\ntable\n${generatedEnd}\n`);
  });

  it("writes the markers alone into an empty document", () => {
    expect(replaceGenerated("", "table")).toBe(`${generatedBegin}\ntable\n${generatedEnd}\n`);
  });
});
