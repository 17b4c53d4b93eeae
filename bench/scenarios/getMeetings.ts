import { builtFixedBody } from "../build.js";
import { benchTenants, getMeetingsPath } from "../fleet.js";
import { assertAllAnswered, type LoadResult } from "../load.js";
import type { BenchOptions } from "../options.js";
import type { Figure } from "../report.js";
import type { Spread } from "../stats.js";
import { startChildServer, type Testbed } from "../testbed.js";
import { formatCount, measuredRuns } from "./shared.js";
import { meetingCount } from "./meetings.js";

/** Checks that getMeetings lists every meeting of the tenant; returns the answer's size in bytes. */
async function checkGetMeetingsLists(bed: Testbed, path: string, expected: number): Promise<number> {
  const body = await (await fetch(`${bed.origin}${path}`)).text();
  const listed = body.split("<meeting>").length - 1;
  if (!body.includes("<returncode>SUCCESS</returncode>") || listed !== expected) {
    throw new Error(`getMeetings: expected ${expected} meetings, got ${listed}: ${body.slice(0, 300)}`);
  }
  return Buffer.byteLength(body);
}

/** Bare Koa sending a prepared answer of `bytes` bytes: the most any server could do with answers that large. */
async function measureFixedBody(options: BenchOptions, bytes: number): Promise<LoadResult[]> {
  const { child, port } = await startChildServer(builtFixedBody, "fixed-size answer", { BENCH_BODY_BYTES: String(bytes) });
  try {
    return await measuredRuns(options, { origin: `http://127.0.0.1:${port}`, source: { paths: ["/"] }, connections: options.latencyConnections }, (result) =>
      assertAllAnswered(result, 200, "fixed-size answer"),
    );
  } finally {
    await child.stop();
  }
}

export async function measureGetMeetings(bed: Testbed, options: BenchOptions, baseline: Spread): Promise<Figure[]> {
  const tenant = benchTenants.listing;
  const path = getMeetingsPath(tenant);
  const listed = await meetingCount(bed, tenant);
  const bytes = await checkGetMeetingsLists(bed, path, listed);
  const results = await measuredRuns(options, { origin: bed.origin, source: { paths: [path] }, connections: options.latencyConnections }, (result) =>
    assertAllAnswered(result, 200, "getMeetings"),
  );
  const ceiling = await measureFixedBody(options, bytes);
  const size = `${formatCount(Math.round(bytes / 1024))} KiB`;
  const how = `tenant with ${formatCount(listed)} meetings (a ${size} answer), ${options.latencyConnections} connections`;
  return [
    {
      name: "bare Koa, prepared answer of getMeetings' size",
      unit: "req/s",
      values: ceiling.map((result) => result.requestsPerSecond),
      baseline,
      how: `the ceiling for ${size} answers on this machine and load generator; ${options.latencyConnections} connections`,
    },
    {
      name: "getMeetings throughput",
      fleetSize: bed.fleetSize,
      unit: "req/s",
      values: results.map((result) => result.requestsPerSecond),
      baseline,
      target: { kind: "atLeast", value: 1_000, of: "figure" },
      how,
    },
    {
      name: "getMeetings p99",
      fleetSize: bed.fleetSize,
      unit: "ms",
      values: results.map((result) => result.p99),
      target: { kind: "atMost", value: 25, of: "figure" },
      how: `${how}, in the same runs`,
    },
  ];
}
