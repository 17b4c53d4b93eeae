import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { asConfigSource, type ConfigSource, type ConfigVersion } from "../config/liveConfig.js";
import type { BalancerConfig } from "../config/schema.js";
import { Versioned } from "../config/versioned.js";
import { NodeClients } from "../nodes/client.js";
import type { Logger } from "../observability/logger.js";
import { connectRedis } from "../store/redisClient.js";
import { closeGracefully } from "../http/shutdown.js";
import { createAdminApp, type ConfigInService } from "./adminApp.js";

export interface AdminServerOptions {
  /** A config for life, or the process's live one: the admin API switches with it and reports on it. */
  config: BalancerConfig | ConfigSource;
  redisUrl: string;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  token: string | undefined;
  logger: Logger;
  /** How long requests in flight may take to finish at shutdown (default: `defaultShutdownGraceMs`). */
  shutdownGraceMs?: number | undefined;
}

export interface RunningAdminServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the admin API and the probes beside whatever the process does (API or poller). */
export async function startAdminServer({ config, redisUrl, host, port, token, logger, shutdownGraceMs }: AdminServerOptions): Promise<RunningAdminServer> {
  // Few retries: a probe or an operator must hear "Redis unreachable" quickly, not wait on a queue.
  const redis = connectRedis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on("error", (error: Error) => logger.debug({ err: error }, "redis connection error"));
  const source = asConfigSource(config);
  const inService = (version: ConfigVersion): ConfigInService => ({
    version,
    clients: new NodeClients(version.directory.nodes.values(), { timeoutMs: version.config.poller.timeoutMs }),
  });
  const versions = new Versioned(inService(source.current()), ({ clients }) => clients.close());
  const stopFollowing = source.onChange(async (version) => versions.replace(inService(version)));
  const app = createAdminApp({ redis, versions, configReport: () => source.report(), token, logger });
  const server = createServer(app.callback());
  server.listen(port, host);
  await once(server, "listening");
  const actualPort = (server.address() as AddressInfo).port;
  if (token === undefined) logger.warn("no ADMIN_TOKEN: admin calls are refused, only the probes answer");
  return {
    port: actualPort,
    url: `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${actualPort}`,
    async close() {
      stopFollowing();
      await closeGracefully(server, shutdownGraceMs);
      await versions.close();
      redis.disconnect();
    },
  };
}
