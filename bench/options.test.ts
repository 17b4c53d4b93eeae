import { describe, expect, it } from "vitest";
import { defaultReportFile, parseOptions } from "./options.js";

describe("parseOptions", () => {
  it("runs the full benchmark and writes the docs by default", () => {
    const options = parseOptions([]);
    expect(options).toMatchObject({ mode: "full", fleetSizes: [100, 1_000, 5_000], primaryFleetSize: 1_000, liveMeetings: 20_000, outFile: defaultReportFile });
  });

  it("prints a quick run instead of publishing it", () => {
    expect(parseOptions(["--quick"])).toMatchObject({ mode: "quick", outFile: undefined });
  });

  it("writes a quick run only where --out says", () => {
    expect(parseOptions(["--quick", "--out", "quick.md"]).outFile).toBe("quick.md");
  });

  it("measures only the fleet sizes given, and publishes nothing of such a partial run", () => {
    expect(parseOptions(["--fleets", "1000, 5000"])).toMatchObject({ fleetSizes: [1_000, 5_000], outFile: undefined });
  });

  it("measures only the figure --only names, and publishes nothing of such a partial run", () => {
    expect(parseOptions(["--only", "refusals"])).toMatchObject({ only: "refusals", outFile: undefined });
  });

  it("refuses --only with a figure it cannot measure alone", () => {
    expect(() => parseOptions(["--only", "joins"])).toThrow(/--only: expected one of refusals, deadNode, rush, got joins/);
  });

  it("runs the issue's top-of-the-hour rush in the full run, and a small one in the quick run", () => {
    expect(parseOptions(["--only", "rush"]).rush).toEqual({ fleetSize: 1_000, durationSeconds: 60, creates: 2_000, racingCreates: 200, joins: 40_000 });
    expect(parseOptions(["--quick", "--only", "rush"])).toMatchObject({ only: "rush", outFile: undefined, rush: { fleetSize: 100, durationSeconds: 10 } });
  });

  it("refuses a fleet size that is not a node count", () => {
    expect(() => parseOptions(["--fleets", "100,many"])).toThrow(/--fleets: expected node counts/);
  });

  it("refuses an option without its value", () => {
    expect(() => parseOptions(["--profile"])).toThrow(/--profile needs a value/);
  });

  it("refuses an unknown argument and shows the usage", () => {
    expect(() => parseOptions(["--fast"])).toThrow(/unknown argument --fast\nusage:/);
  });
});
