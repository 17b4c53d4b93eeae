import { loadBalancerConfigFile } from "../../balancer/src/config/schema.js";
import { createLogger } from "../../balancer/src/observability/logger.js";
import { startPoller } from "../../balancer/src/poller/poller.js";
import { connectRedis } from "../../balancer/src/store/redisClient.js";
import { onStop, tellRunner } from "./ipc.js";

/** What the poller child reports after each of its cycles. */
export interface CycleReport {
  readonly type: "cycle";
  readonly slot: number;
  readonly polled: number;
  readonly failed: number;
  /** From the start of the cycle (the slot's start, or the poller's start for its first cycle) to its end. */
  readonly durationMs: number;
}

/**
 * One poller, as `MODE=poller` runs it in production, in a process of its own. The poller starts its cycles at
 * the start of each slot (wall clock), so a cycle's duration is measured from there.
 */
const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is required`);
  return value;
};
const config = await loadBalancerConfigFile(env("CONFIG_FILE"));
const intervalMs = config.poller.intervalSeconds * 1000;
const redis = connectRedis(env("REDIS_URL"), { autoPipelining: true });
const startedAt = Date.now();
const poller = startPoller({ redis, config, logger: createLogger({ name: "poller", level: "warn" }) });
poller.onCycle((summary) => {
  const cycleStart = Math.max(summary.slot * intervalMs, startedAt);
  tellRunner({
    type: "cycle",
    slot: summary.slot,
    polled: summary.polled.length,
    failed: summary.failed,
    durationMs: Date.now() - cycleStart,
  } satisfies CycleReport);
});
onStop(async () => {
  await poller.stop();
  await redis.quit();
});
