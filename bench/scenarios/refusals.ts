import { connect } from "node:net";
import { benchTenants } from "../fleet.js";
import type { BenchOptions } from "../options.js";
import { progress } from "../progress.js";
import type { Figure } from "../report.js";
import { spreadOf } from "../stats.js";
import type { Testbed } from "../testbed.js";
import { formatCount } from "./shared.js";

const bodyBytes = 2 * 1024 * 1024;
/** One 2 MiB `<modules>` document, sent whole by every request (what an attacker's client pushes). */
const body = Buffer.concat([Buffer.from("<modules>"), Buffer.alloc(bodyBytes - "<modules></modules>".length, " "), Buffer.from("</modules>")]);
/** Concurrent attackers; each request is a connection of its own (the balancer closes it). */
const concurrency = 8;

/** How a refused request ended, seen from the attacker's side. */
type Refusal = "answered" | "reset";

/**
 * An unsigned create (a checksum that matches no secret) over a connection of its own, carrying `body` (announced
 * whole). The balancer answers before reading a body and closes the connection; a client still writing then often
 * gets the connection reset before it has read the answer (its write fails first): such a request counts as
 * `reset`, refused all the same.
 */
function refusedCreate(origin: string, index: number, body: Buffer): Promise<Refusal> {
  const { hostname, port } = new URL(origin);
  const path = `/t/${benchTenants.joins.slug}/bigbluebutton/api/create?name=Refused&meetingID=refused-${index}&checksum=${"0".repeat(64)}`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    let writeFailed = false;
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", () => (writeFailed = true));
    socket.on("close", () => {
      const answer = Buffer.concat(received).toString("utf8");
      if (answer.includes("<messageKey>checksumError</messageKey>")) resolve("answered");
      else if (answer === "" && writeFailed) resolve("reset");
      else reject(new Error(`refusal: expected checksumError, got ${answer === "" ? "a closed connection" : answer.slice(0, 300)}`));
    });
    socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    if (body.length > 0) socket.write(body);
  });
}

interface Batch {
  /** Balancer CPU per request, ms. */
  readonly cpuMs: number;
  readonly answered: number;
}

/** Sends `count` refused creates carrying `body`, `concurrency` at a time, and takes the balancer's CPU around them. */
async function refusalBatch(bed: Testbed, count: number, first: number, body: Buffer): Promise<Batch> {
  let next = 0;
  let answered = 0;
  const attacker = async (): Promise<void> => {
    while (next < count) if ((await refusedCreate(bed.origin, first + next++, body)) === "answered") answered += 1;
  };
  const before = await bed.balancer.cpuSeconds();
  await Promise.all(Array.from({ length: concurrency }, attacker));
  return { cpuMs: (((await bed.balancer.cpuSeconds()) - before) * 1000) / count, answered };
}

const noBody = Buffer.alloc(0);

/**
 * CPU the balancer process spends per refused unsigned create with a 2 MiB body: its user + system time over a
 * batch of such requests, divided by their number. Each run is paired with a batch of the same refusals without a
 * body, also a connection each: what any refusal costs on this machine at that moment (this machine's speed swings
 * with what else runs on it). The checksum is in the query, so the body should add next to nothing.
 */
export async function measureRefusals(bed: Testbed, options: BenchOptions): Promise<Figure> {
  const perRun = options.mode === "full" ? 200 : 40;
  // Warm-up (the JIT, the connection path), not counted.
  await refusalBatch(bed, perRun, 0, noBody);
  await refusalBatch(bed, perRun, 0, body);
  const values: number[] = [];
  const withoutBody: number[] = [];
  let answered = 0;
  for (let run = 0; run < options.runs; run += 1) {
    const reference = await refusalBatch(bed, perRun, run * perRun, noBody);
    const refused = await refusalBatch(bed, perRun, run * perRun, body);
    withoutBody.push(reference.cpuMs);
    values.push(refused.cpuMs);
    answered += refused.answered;
    progress(`  run ${run + 1}: ${refused.cpuMs.toFixed(3)} ms of balancer CPU per refusal (${reference.cpuMs.toFixed(3)} ms without a body)`);
  }
  const reference = spreadOf(withoutBody);
  return {
    name: "API CPU refusing an unsigned 2 MB body",
    fleetSize: bed.fleetSize,
    unit: "ms",
    values,
    target: { kind: "atMost", value: 1, of: "figure" },
    how: `balancer process CPU (user + system) per request; ${formatCount(perRun)} POST creates per run with a wrong checksum in the query and a 2 MiB <modules> body sent whole, ${concurrency} at a time, a connection each; every answer checksumError (${formatCount(answered)} of ${formatCount(perRun * options.runs)} read before the balancer reset the connection, the others' writes failed first); the same refusal without a body, paired with each run: ${reference.min.toFixed(2)} / ${reference.median.toFixed(2)} / ${reference.max.toFixed(2)} ms`,
  };
}
