import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { builtFixedBody } from "../build.js";
import { cpuTally, type CpuTally } from "../cpu.js";
import { benchTenants, getMeetingsPath } from "../fleet.js";
import { assertAllAnswered, type LoadResult } from "../load.js";
import type { BenchOptions } from "../options.js";
import type { Figure } from "../report.js";
import { startChildServer, type Testbed } from "../testbed.js";
import { formatCount, measuredRuns } from "./shared.js";
import { meetingCount } from "./meetings.js";

/** How the answer is asked for: as is, or gzip-compressed as Ruby's Net::HTTP (Greenlight) asks by default. */
interface Encoding {
  readonly label: string;
  readonly headers: Readonly<Record<string, string>>;
}

const identity: Encoding = { label: "identity", headers: {} };
const gzip: Encoding = { label: "Accept-Encoding: gzip", headers: { "accept-encoding": "gzip" } };

interface RawAnswer {
  readonly contentEncoding: string | undefined;
  /** The bytes as sent over the wire. */
  readonly bytes: Buffer;
}

/** One GET whose body is kept as sent (`fetch` would decompress it and hide the size on the wire). */
function getRaw(url: string, headers: Readonly<Record<string, string>>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ contentEncoding: response.headers["content-encoding"], bytes: Buffer.concat(chunks) }));
      response.on("error", reject);
    }).on("error", reject);
  });
}

/**
 * Checks that getMeetings lists every meeting of the tenant, and that the gzip answer is exactly the identity
 * answer compressed; returns each answer as sent on the wire.
 */
async function checkGetMeetingsLists(url: string, expected: number): Promise<Map<Encoding, Buffer>> {
  const plain = await getRaw(url, identity.headers);
  const body = plain.bytes.toString("utf8");
  const listed = body.split("<meeting>").length - 1;
  if (plain.contentEncoding !== undefined || !body.includes("<returncode>SUCCESS</returncode>") || listed !== expected) {
    throw new Error(`getMeetings: expected ${expected} meetings uncompressed, got ${listed} (${plain.contentEncoding ?? "identity"}): ${body.slice(0, 300)}`);
  }
  const compressed = await getRaw(url, gzip.headers);
  if (compressed.contentEncoding !== "gzip" || !gunzipSync(compressed.bytes).equals(plain.bytes)) {
    throw new Error(`getMeetings with Accept-Encoding: gzip: expected the identity answer gzip-compressed, got ${compressed.contentEncoding ?? "identity"}`);
  }
  return new Map([
    [identity, plain.bytes],
    [gzip, compressed.bytes],
  ]);
}

/** Bare Koa sending `answer` as prepared bytes: the most any server could do with that answer. */
async function measureFixedBody(bed: Testbed, options: BenchOptions, answer: Buffer): Promise<{ results: LoadResult[]; cpu: CpuTally }> {
  const directory = await mkdtemp(join(tmpdir(), "bench-answer-"));
  const file = join(directory, "answer");
  await writeFile(file, answer);
  const { child, port } = await startChildServer(builtFixedBody, "prepared answer", { BENCH_BODY_FILE: file });
  const cpu = cpuTally([{ name: "server", cpuSeconds: () => child.cpuSeconds() }, ...bed.cpuAccounts.filter((account) => account.name === "load generator")]);
  try {
    const results = await measuredRuns(
      options,
      { origin: `http://127.0.0.1:${port}`, source: { paths: ["/"] }, connections: options.latencyConnections },
      (result) => assertAllAnswered(result, 200, "prepared answer"),
      (run) => cpu.around(run),
    );
    return { results, cpu };
  } finally {
    await child.stop();
    await rm(directory, { recursive: true, force: true });
  }
}

/** getMeetings asked for one way, next to bare Koa sending the very answer that way gets. */
async function measureEncoding(bed: Testbed, options: BenchOptions, encoding: Encoding, listed: number, answer: Buffer): Promise<Figure[]> {
  const path = getMeetingsPath(benchTenants.listing);
  const cpu = cpuTally(bed.cpuAccounts.filter((account) => account.name === "balancer" || account.name === "redis" || account.name === "load generator"));
  const results = await measuredRuns(
    options,
    { origin: bed.origin, source: { paths: [path] }, connections: options.latencyConnections, headers: encoding.headers },
    (result) => assertAllAnswered(result, 200, `getMeetings (${encoding.label})`),
    (run) => cpu.around(run),
  );
  const ceiling = await measureFixedBody(bed, options, answer);
  const size = `${formatCount(Math.round(answer.length / 1024))} KiB`;
  const how = `${encoding.label}; tenant with ${formatCount(listed)} meetings (a ${size} answer), ${options.latencyConnections} connections`;
  return [
    {
      name: `bare Koa sending getMeetings' answer prepared (${encoding.label})`,
      unit: "req/s",
      values: ceiling.results.map((result) => result.requestsPerSecond),
      how: `the same ${size} answer, byte for byte: the ceiling for it on this machine and load generator; ${options.latencyConnections} connections; ${ceiling.cpu.describe()}`,
    },
    {
      name: `getMeetings throughput (${encoding.label})`,
      fleetSize: bed.fleetSize,
      unit: "req/s",
      values: results.map((result) => result.requestsPerSecond),
      target: { kind: "atLeast", value: 1_000, of: "figure" },
      how: `${how}; ${cpu.describe()}`,
    },
    {
      name: `getMeetings p99 (${encoding.label})`,
      fleetSize: bed.fleetSize,
      unit: "ms",
      values: results.map((result) => result.p99),
      target: { kind: "atMost", value: 25, of: "figure" },
      how: `${how}, in the same runs`,
    },
  ];
}

export async function measureGetMeetings(bed: Testbed, options: BenchOptions): Promise<Figure[]> {
  const listed = await meetingCount(bed, benchTenants.listing);
  const answers = await checkGetMeetingsLists(`${bed.origin}${getMeetingsPath(benchTenants.listing)}`, listed);
  const figures: Figure[] = [];
  for (const [encoding, answer] of answers) figures.push(...(await measureEncoding(bed, options, encoding, listed, answer)));
  return figures;
}
