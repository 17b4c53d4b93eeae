import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import type { ApiContext } from "./api/context.js";
import { createApp } from "./app.js";
import { asConfigSource, type ConfigSource, type ConfigVersion } from "./config/liveConfig.js";
import type { BalancerConfig } from "./config/schema.js";
import { CallbackDeliveries, defaultDeliverySettings, type DeliverySettings } from "./http/delivery.js";
import { Versioned } from "./config/versioned.js";
import { closeGracefully } from "./http/shutdown.js";
import { trustedProxies } from "./http/trustedProxies.js";
import { NodeClients } from "./nodes/client.js";
import type { Logger } from "./observability/logger.js";
import { JoinCharges } from "./store/joinCharges.js";
import { MeetingNodeLookups } from "./store/meetingNodeLookups.js";
import { syncConfiguredNodes, syncNodesOnReload } from "./store/nodeSync.js";
import { connectRedis, type RedisClient } from "./store/redisClient.js";
import { defaultCallbackKey } from "./tenancy/endCallback.js";
import { playbackKey, playbackUrl } from "./playback/links.js";
import { callbackPolicy } from "./webhooks/callbackPolicy.js";
import { HookDeliveries } from "./webhooks/delivery.js";
import { receiveNodeEvents } from "./webhooks/nodeEvents.js";

export interface ApiServerOptions {
  /** A config for life, or a live one whose every new version the server switches to without a restart. */
  config: BalancerConfig | ConfigSource;
  /** `REDIS_URL`: one server, or a cluster seed (`redis+cluster://`); see `store/redisClient.ts`. */
  redisUrl: string;
  host: string;
  /** 0 picks a free port (tests, sandbox). */
  port: number;
  baseDomain: string;
  trustedProxies: readonly string[];
  /** The balancer's URL as nodes reach it, for end callbacks. Default: `https://<baseDomain>` (never a request's Host). */
  publicUrl?: string | undefined;
  /** Signs end callback URLs; every replica must use the same. Default: derived from the node secrets. */
  callbackSecret?: string | undefined;
  logger: Logger;
  /** Retries of callbacks to tenants' URLs (recording ready, analytics); tests shorten them. */
  callbackDeliveries?: DeliverySettings | undefined;
  /** Where the recordings share is mounted (`RECORDINGS_DIR`); the recording API's changes need it. */
  recordingsDir?: string | undefined;
  /** How long requests in flight may take to finish at shutdown (`SHUTDOWN_GRACE_SECONDS`). */
  shutdownGraceMs?: number | undefined;
}

/**
 * Every Redis command of a request is answered or failed within this: a stalled Redis (a failover, a paused
 * process) costs a request an error, not a wait until the connection dies.
 */
export const redisCommandTimeoutMs = 2_000;

export interface RunningApiServer {
  readonly port: number;
  /** `http://<host>:<port>` */
  readonly url: string;
  readonly redis: RedisClient;
  /** Recording callbacks to tenants' URLs still being delivered. */
  readonly callbackDeliveries: CallbackDeliveries;
  /** Stops accepting, lets in-flight requests finish, then closes Redis and the node pools. */
  close(): Promise<void>;
}

/** A key all replicas derive alike from the same config, so callbacks signed by one verify on any other. */
function notifier(logger: Logger, timeoutMs: number): (url: string) => void {
  return (url) => {
    request(url, { signal: AbortSignal.timeout(timeoutMs) })
      .then((answer) => answer.body.dump())
      .catch((error: unknown) => logger.warn({ err: error, url }, "tenant callback failed"));
  };
}

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const { logger } = options;
  const source = asConfigSource(options.config);
  const redis = connectRedis(options.redisUrl, { maxRetriesPerRequest: 2, autoPipelining: true, commandTimeoutMs: redisCommandTimeoutMs });
  redis.on("error", (error: Error) => logger.warn({ err: error }, "redis connection error"));
  await syncConfiguredNodes(redis, source.current().config);
  // The request handler needs the listen address (the default callback base), so it is attached once listening.
  let handle: RequestListener = (_req, res) => res.writeHead(503).end();
  const server: Server = createServer((req, res) => handle(req, res));
  server.keepAliveTimeout = 65_000;
  server.listen(options.port, options.host);
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const displayHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  const url = `http://${displayHost}:${port}`;
  const initial = source.current().config;
  const callbackKey = options.callbackSecret ?? defaultCallbackKey(initial);
  const playback = { baseDomain: options.baseDomain, key: playbackKey(callbackKey), now: Date.now };
  // Hook deliveries queue events across versions: their settings are the ones the process started with.
  const webhooks = { settings: initial.webhooks, policy: callbackPolicy(initial.webhooks.allowedCallbackNetworks) };
  const deliveries = new HookDeliveries({ redis, ...webhooks, baseDomain: options.baseDomain, logger });
  const publicUrl = options.publicUrl ?? `https://${options.baseDomain}`;
  const meetingsCache: ApiContext["meetingsCache"] = new Map();
  const joinCharges = new JoinCharges(redis, (error, charges) => logger.warn({ err: error, charges }, "joins not counted on their nodes' loads (Redis unreachable?)"));
  const contextFor = ({ config, directory }: ConfigVersion): ApiContext => ({
    redis,
    meetingNodes: new MeetingNodeLookups(redis),
    joinCharges,
    directory,
    nodes: new NodeClients(directory.nodes.values(), { timeoutMs: config.poller.timeoutMs }),
    endCallback: { baseUrl: publicUrl, key: options.callbackSecret ?? defaultCallbackKey(config) },
    unconfiguredNodes: new Set(),
    random: Math.random,
    notify: notifier(logger, config.poller.timeoutMs),
    // Summaries of meetings do not depend on the config: the cache outlives versions.
    meetingsCache,
    recordings: { shareRoot: options.recordingsDir, logger, playbackUrl: (tenant, recordId, path) => playbackUrl(playback, tenant, recordId, path) },
    webhooks,
  });
  const callbackDeliveries = new CallbackDeliveries(logger, webhooks.policy, options.callbackDeliveries ?? defaultDeliverySettings);
  const contexts = new Versioned(contextFor(source.current()), (context) => context.nodes.close());
  // Nodes first: a request on the new version must find the pools of its new nodes and clusters.
  const stopSyncing = syncNodesOnReload(redis, source, logger);
  const stopSwitching = source.onChange(async (version) => contexts.replace(contextFor(version)));
  const app = createApp({
    contexts,
    baseDomain: options.baseDomain,
    trustedProxies: trustedProxies(options.trustedProxies),
    logger,
    callbackDeliveries,
    nodeEvents: (post, context) =>
      receiveNodeEvents(
        { redis, directory: context.directory, deliveries, publicUrl, allowedChecksums: context.directory.allowedChecksums, maxEventAgeMs: initial.webhooks.maxEventAgeSeconds * 1_000, logger },
        post,
        Date.now(),
      ),
  });
  handle = app.callback();
  return {
    port,
    url,
    redis,
    callbackDeliveries,
    async close() {
      stopSwitching();
      stopSyncing();
      await closeGracefully(server, options.shutdownGraceMs);
      await deliveries.close();
      callbackDeliveries.close();
      await contexts.close();
      await joinCharges.settled();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
