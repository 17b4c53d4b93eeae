import type { BalancerConfig } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { syncConfiguredNodes } from "../store/nodeSync.js";
import { connectRedis } from "../store/redisClient.js";
import { startPoller } from "./poller.js";

/** The poller mode: its own Redis connection, the configured nodes synced in, then a poll every interval. */
export async function startPollerProcess({
  config,
  redisUrl,
  pollerId,
  logger,
}: {
  config: BalancerConfig;
  redisUrl: string;
  pollerId: string | undefined;
  logger: Logger;
}): Promise<{ close(): Promise<void> }> {
  const redis = connectRedis(redisUrl, { autoPipelining: true });
  redis.on("error", (error: Error) => logger.warn({ err: error }, "redis connection error"));
  await syncConfiguredNodes(redis, config);
  const poller = startPoller({ redis, config, logger, ...(pollerId === undefined ? {} : { pollerId }) });
  return {
    async close() {
      await poller.stop();
      redis.disconnect();
    },
  };
}
