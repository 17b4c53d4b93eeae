import type { ConfigSource } from "../config/liveConfig.js";
import type { Logger } from "../observability/logger.js";
import { syncConfiguredNodes, syncNodesOnReload } from "../store/nodeSync.js";
import { connectRedis } from "../store/redisClient.js";
import { startPoller } from "./poller.js";

/**
 * The poller mode: its own Redis connection, the configured nodes synced in (again at every config reload), then
 * a poll every interval with the config version in service.
 */
export async function startPollerProcess({
  config,
  redisUrl,
  pollerId,
  logger,
  publicUrl,
}: {
  config: ConfigSource;
  redisUrl: string;
  pollerId: string | undefined;
  logger: Logger;
  /** Where nodes post webhook events (`PUBLIC_URL`, else `https://<BASE_DOMAIN>`). */
  publicUrl: string;
}): Promise<{ close(): Promise<void> }> {
  const redis = connectRedis(redisUrl, { autoPipelining: true });
  redis.on("error", (error: Error) => logger.warn({ err: error }, "redis connection error"));
  await syncConfiguredNodes(redis, config.current().config);
  const stopSyncing = syncNodesOnReload(redis, config, logger);
  const poller = startPoller({ redis, config, logger, publicUrl, ...(pollerId === undefined ? {} : { pollerId }) });
  return {
    async close() {
      stopSyncing();
      await poller.stop();
      redis.disconnect();
    },
  };
}
