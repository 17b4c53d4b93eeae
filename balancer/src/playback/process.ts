import type { BalancerConfig } from "../config/schema.js";
import { trustedProxies } from "../http/trustedProxies.js";
import type { Logger } from "../observability/logger.js";
import { connectRedis } from "../store/redisClient.js";
import { buildDirectory } from "../tenancy/directory.js";
import { playbackKey } from "./links.js";
import { startPlaybackServer, type RunningPlaybackServer } from "./server.js";

export interface PlaybackProcessOptions {
  readonly config: BalancerConfig;
  readonly redisUrl: string;
  readonly shareRoot: string;
  readonly playerDir: string | undefined;
  readonly baseDomain: string;
  readonly trustedProxies: readonly string[];
  /** The callback key (`CALLBACK_SECRET`), which the API's playback tokens are derived from. */
  readonly callbackKey: string;
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  readonly shutdownGraceMs: number;
}

/** The `playback` mode: the playback server with its own Redis connection (record ID to tenant lookups). */
export async function startPlaybackProcess(options: PlaybackProcessOptions): Promise<RunningPlaybackServer> {
  const redis = connectRedis(options.redisUrl, { maxRetriesPerRequest: 2, commandTimeoutMs: 2_000 });
  redis.on("error", (error: Error) => options.logger.warn({ err: error }, "redis connection error"));
  const server = await startPlaybackServer({
    ...options,
    redis,
    directory: buildDirectory(options.config),
    trustedProxies: trustedProxies(options.trustedProxies),
    key: playbackKey(options.callbackKey),
  });
  return {
    port: server.port,
    async close() {
      await server.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
