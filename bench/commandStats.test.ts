import { describe, expect, it } from "vitest";
import { commandsBetween, describePerRequest, parseCommandStats, totalCalls } from "./commandStats.js";

const info = (lines: string[]): string => ["# Commandstats", ...lines, ""].join("\r\n");

describe("parseCommandStats", () => {
  it("reads the calls of every command, subcommands included", () => {
    const calls = parseCommandStats(
      info([
        "cmdstat_hget:calls=2001,usec=4000,usec_per_call=2.00,rejected_calls=0,failed_calls=0",
        "cmdstat_client|setname:calls=3,usec=5,usec_per_call=1.67,rejected_calls=0,failed_calls=0",
      ]),
    );
    expect([...calls]).toEqual([
      ["hget", 2001],
      ["client|setname", 3],
    ]);
  });

  it("ignores lines that are not command statistics", () => {
    expect(parseCommandStats("# Server\r\nredis_version:7.0.15\r\n").size).toBe(0);
  });
});

describe("commandsBetween", () => {
  it("counts only the commands that ran between the two snapshots, most called first", () => {
    const before = parseCommandStats(info(["cmdstat_hget:calls=10,usec=1", "cmdstat_set:calls=4,usec=1"]));
    const after = parseCommandStats(info(["cmdstat_hget:calls=1010,usec=1", "cmdstat_set:calls=4,usec=1", "cmdstat_evalsha:calls=2,usec=1"]));
    expect([...commandsBetween(before, after)]).toEqual([
      ["hget", 1000],
      ["evalsha", 2],
    ]);
  });

  it("leaves out the INFO calls that took the snapshots", () => {
    const before = parseCommandStats(info(["cmdstat_info:calls=1,usec=1"]));
    const after = parseCommandStats(info(["cmdstat_info:calls=2,usec=1", "cmdstat_hget:calls=5,usec=1"]));
    expect([...commandsBetween(before, after)]).toEqual([["hget", 5]]);
  });
});

describe("per-request figures", () => {
  const calls = new Map([
    ["hget", 1000],
    ["evalsha", 10],
  ]);

  it("sums every command", () => {
    expect(totalCalls(calls)).toBe(1010);
  });

  it("describes each command's calls per request", () => {
    expect(describePerRequest(calls, 1000)).toBe("hget 1.00, evalsha 0.01");
  });

  it("says none when no command ran", () => {
    expect(describePerRequest(new Map(), 10)).toBe("none");
  });
});
