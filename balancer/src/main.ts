import { parseEnv, type Env, type Mode } from "./config/env.js";
import { LiveConfig } from "./config/liveConfig.js";
import { ConfigError } from "./config/schema.js";
import { watchConfigFile } from "./config/watchConfigFile.js";
import { startApiServer } from "./apiServer.js";
import { startAdminServer } from "./admin/adminServer.js";
import { startPollerProcess } from "./poller/pollerProcess.js";
import { startImporterProcess } from "./recordings/importerProcess.js";
import { startUploadServer } from "./recordings/uploadServer.js";
import { defaultCallbackKey } from "./tenancy/endCallback.js";
import { startPlaybackProcess } from "./playback/process.js";
import { createLogger, type Logger } from "./observability/logger.js";

/** Something a mode started; `close` ends it gracefully (SIGTERM). */
interface Running {
  close(): Promise<void>;
}

type ModeRunner = (env: Env, config: LiveConfig, logger: Logger) => Promise<Running>;

/** Where a mode's own HTTP server listens, and how it stops. */
function listening(env: Env, logger: Logger): { host: string; port: number; logger: Logger; shutdownGraceMs: number } {
  return { host: env.LISTEN_HOST, port: env.PORT, logger, shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1_000 };
}

const runners: Record<Mode, ModeRunner> = {
  api: async (env, config, logger) => {
    const server = await startApiServer({
      config,
      redisUrl: env.REDIS_URL,
      host: env.LISTEN_HOST,
      port: env.PORT,
      baseDomain: env.BASE_DOMAIN,
      trustedProxies: env.TRUSTED_PROXIES,
      publicUrl: env.PUBLIC_URL,
      callbackSecret: env.CALLBACK_SECRET,
      recordingsDir: env.RECORDINGS_DIR,
      logger,
      shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1_000,
    });
    const { id, config: initial } = config.current();
    logger.info({ port: server.port, config: id, tenants: initial.tenants.length, nodes: initial.nodes.length }, "BBB API listening");
    return server;
  },
  poller: async (env, config, logger) =>
    startPollerProcess({ config, redisUrl: env.REDIS_URL, pollerId: env.POLLER_ID, logger, publicUrl: env.PUBLIC_URL ?? `https://${env.BASE_DOMAIN}` }),
  admin: async () => ({ close: async () => undefined }),
  // The recording and playback modes keep the config they started with (a tenant added later needs their restart).
  importer: async (env, config, logger) =>
    startImporterProcess({ config: config.current().config, redisUrl: env.REDIS_URL, shareRoot: recordingsDir(env), intervalMs: env.IMPORT_INTERVAL_SECONDS * 1_000, logger }),
  "recording-upload": async (env, live, logger) => {
    const { config } = live.current();
    const secrets = new Map(config.nodes.map((node) => [node.id, node.secret]));
    const server = await startUploadServer({
      shareRoot: recordingsDir(env),
      callbackKey: env.CALLBACK_SECRET ?? defaultCallbackKey(config),
      tenants: new Set(config.tenants.map((tenant) => tenant.slug)),
      maxFileBytes: env.RECORDING_MAX_FILE_MB * 1024 * 1024,
      nodeSecret: (nodeId) => secrets.get(nodeId),
      ...listening(env, logger),
    });
    logger.info({ port: server.port }, "recording upload endpoint listening");
    return server;
  },
  playback: async (env, live, logger) => {
    const { config } = live.current();
    const server = await startPlaybackProcess({
      config,
      redisUrl: env.REDIS_URL,
      shareRoot: recordingsDir(env),
      playerDir: env.PLAYBACK_PLAYER_DIR,
      baseDomain: env.BASE_DOMAIN,
      trustedProxies: env.TRUSTED_PROXIES,
      callbackKey: env.CALLBACK_SECRET ?? defaultCallbackKey(config),
      ...listening(env, logger),
    });
    logger.info({ port: server.port }, "playback listening");
    return server;
  },
};

function recordingsDir(env: Env): string {
  if (env.RECORDINGS_DIR === undefined) throw new ConfigError(`environment variable RECORDINGS_DIR: is required in mode ${env.MODE} (where the recordings share is mounted)`);
  return env.RECORDINGS_DIR;
}

async function main(): Promise<void> {
  const env = parseEnv(process.env);
  const logger = createLogger({ name: env.MODE });
  const config = await LiveConfig.load(env.CONFIG_FILE, logger);
  // The mode first: the admin server's /readyz must not answer before the API listens.
  const mode = await runners[env.MODE](env, config, logger);
  const admin = await startAdminServer({ config, redisUrl: env.REDIS_URL, host: env.ADMIN_HOST, port: env.ADMIN_PORT, token: env.ADMIN_TOKEN, logger, shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1_000 });
  logger.info({ port: admin.port }, "admin server listening");
  // Every module switches to a changed file that validates; one that does not is reported and the old one serves.
  const reload = (): void => {
    config.reload().catch((error: unknown) => logger.error({ err: error }, "config reload failed"));
  };
  const watcher = watchConfigFile(env.CONFIG_FILE, reload, {
    onWatchError: (error) => logger.warn({ err: error, file: env.CONFIG_FILE }, "config directory not watched: changes are found by the periodic recheck"),
  });
  reload(); // a file changed while the process started
  const running: Running = {
    close: async () => {
      watcher.close();
      await mode.close();
      await admin.close();
    },
  };
  const stop = (signal: string): void => {
    logger.info({ signal }, "stopping: finishing in-flight requests");
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "unclean stop");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((error: unknown) => {
  // A bad config or environment is one line for the operator, not a stack trace.
  process.stderr.write(`${error instanceof ConfigError ? error.message : String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
