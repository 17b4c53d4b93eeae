import { Writable } from "node:stream";
import { request } from "undici";
import { startApiServer } from "../../balancer/src/apiServer.js";
import { parseBalancerConfig } from "../../balancer/src/config/schema.js";
import { createLogger } from "../../balancer/src/observability/logger.js";
import { startPoller } from "../../balancer/src/poller/poller.js";
import { syncConfiguredNodes } from "../../balancer/src/store/nodeSync.js";
import { connectRedis } from "../../balancer/src/store/redisClient.js";
import { startNodeProcess, type NodeProcess } from "../../balancer/test/support/nodeProcess.js";
import { startRedis } from "../../balancer/test/support/redis.js";
import { benchTenants, createPath } from "../fleet.js";
import type { BenchOptions } from "../options.js";
import { progress } from "../progress.js";
import type { Figure } from "../report.js";

/** Creates in flight at once: a busy top of the hour on one tenant. */
const concurrency = 8;
const silent = createLogger({ name: "bench", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });

interface CreateStream {
  sent: number;
  failed: number;
  /** Failed creates that started after the first failure was answered: what the hold-out and retries must make 0. */
  failedAfterFirst: number;
}

/**
 * One run: Redis and three simulated BBB nodes each in a process of its own, the balancer's API and a poller (as
 * in production, 10 s poll interval), a stream of creates of new meetings, and one node killed (-9) a third of the
 * way through. Counts the creates that failed.
 */
async function runWithDeadNode(run: number, durationMs: number): Promise<CreateStream> {
  const redisServer = await startRedis();
  const nodes: NodeProcess[] = await Promise.all(["x", "y", "z"].map((prefix) => startNodeProcess(prefix, `${prefix}-bench-node-secret-0123456789`)));
  const config = parseBalancerConfig({
    tenants: [{ slug: benchTenants.joins.slug, secrets: [benchTenants.joins.secret] }],
    nodes: nodes.map((node) => ({ id: node.id, url: node.apiUrl, secret: node.secret })),
  });
  const redis = connectRedis(redisServer.url);
  redis.on("error", () => undefined);
  await syncConfiguredNodes(redis, config);
  const api = await startApiServer({ config, redisUrl: redisServer.url, host: "127.0.0.1", port: 0, baseDomain: "bench.test", trustedProxies: [], logger: silent });
  const poller = startPoller({ redis, config, logger: silent });
  const stream: CreateStream = { sent: 0, failed: 0, failedAfterFirst: 0 };
  let firstFailureAt: number | undefined;
  try {
    const started = performance.now();
    const until = started + durationMs;
    const killer = new Promise<void>((resolve) => setTimeout(() => void nodes[1]!.kill().then(resolve), durationMs / 3));
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        for (let i = 0; performance.now() < until; i += 1) {
          const sentAt = performance.now();
          stream.sent += 1;
          const answer = await request(`${api.url}${createPath(benchTenants.joins, `dead-${run}-${worker}-${i}`)}`);
          const body = await answer.body.text();
          if (body.includes("<returncode>SUCCESS</returncode>")) continue;
          stream.failed += 1;
          if (firstFailureAt !== undefined && sentAt > firstFailureAt) stream.failedAfterFirst += 1;
          firstFailureAt ??= performance.now();
        }
      }),
    );
    await killer;
  } finally {
    await poller.stop();
    await api.close();
    redis.disconnect();
    await Promise.all(nodes.map((node) => node.close()));
    await redisServer.close();
  }
  return stream;
}

/** Creates that failed while one node of three died, after the first failed one (target: none). */
export async function measureCreatesWithDeadNode(options: BenchOptions): Promise<Figure> {
  const durationMs = options.durationSeconds * 1000;
  const streams: CreateStream[] = [];
  for (let run = 0; run < options.runs; run += 1) {
    const stream = await runWithDeadNode(run, durationMs);
    streams.push(stream);
    progress(`  run ${run + 1}: ${stream.sent} creates, ${stream.failed} failed, ${stream.failedAfterFirst} after the first failure`);
  }
  const total = streams.reduce((sum, stream) => ({ sent: sum.sent + stream.sent, failed: sum.failed + stream.failed }), { sent: 0, failed: 0 });
  return {
    name: "creates failed after the first, one node of three killed",
    fleetSize: 3,
    unit: "creates",
    values: streams.map((stream) => stream.failedAfterFirst),
    target: { kind: "atMost", value: 0, of: "figure" },
    how: `${concurrency} creates of new meetings at a time for ${options.durationSeconds} s per run, one node killed (-9) a third of the way in, default placement settings and a 10 s poller; ${total.failed} of ${total.sent} creates failed in all, first failed tries included`,
  };
}
