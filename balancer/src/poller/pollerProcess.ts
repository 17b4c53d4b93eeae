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
  publicUrl,
}: {
  config: BalancerConfig;
  redisUrl: string;
  pollerId: string | undefined;
  logger: Logger;
  /** Where nodes post webhook events (`PUBLIC_URL`, else `https://<BASE_DOMAIN>`). */
  publicUrl: string;
}): Promise<{ close(): Promise<void> }> {
  const redis = connectRedis(redisUrl, { autoPipelining: true });
  redis.on("error", (error: Error) => logger.warn({ err: error }, "redis connection error"));
  await syncConfiguredNodes(redis, config);
  const poller = startPoller({ redis, config, logger, publicUrl, ...(pollerId === undefined ? {} : { pollerId }) });
  return {
    async close() {
      await poller.stop();
      redis.disconnect();
    },
  };
}
