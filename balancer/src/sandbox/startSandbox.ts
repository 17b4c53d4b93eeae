import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startAdminServer, type RunningAdminServer } from "../admin/adminServer.js";
import { startApiServer, type RunningApiServer } from "../apiServer.js";
import { parseBalancerConfig, type BalancerConfig, type BalancerConfigInput } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { startPoller } from "../poller/poller.js";
import { startImporterProcess } from "../recordings/importerProcess.js";
import { startUploadServer } from "../recordings/uploadServer.js";
import { startSimulator, type Simulator } from "../simulator/index.js";
// The sandbox starts its Redis exactly as the tests do: redis-server from PATH, a temp dir, a free port.
import { startRedis, type RedisServer } from "../../test/support/redis.js";

export interface SandboxOptions {
  /** Port of the tenants' BBB API; 0 picks a free one. */
  apiPort: number;
  /** Port of the admin server (API, console, metrics); 0 picks a free one. */
  adminPort: number;
  pollIntervalSeconds?: number;
  logger: Logger;
}

export interface SandboxTenant {
  slug: string;
  /** The secret printed for BBB clients. */
  secret: string;
  /** A second secret the tenant also accepts, as during a rollover. */
  nextSecret?: string;
  limits?: { maxMeetings?: number; maxAttendees?: number };
}

export interface Sandbox {
  readonly redis: RedisServer;
  readonly simulator: Simulator;
  readonly config: BalancerConfig;
  /** The config written to a file, for `mediaplane-admin` (CONFIG_FILE). */
  readonly configFile: string;
  readonly api: RunningApiServer;
  readonly admin: RunningAdminServer;
  /** Generated at every start: the bearer token of the admin API and the console's login. */
  readonly adminToken: string;
  readonly tenants: readonly SandboxTenant[];
  readonly baseDomain: string;
  /** The recordings share: nodes' recordings arrive here through the upload endpoint, the importer indexes them. */
  readonly recordingsDir: string;
  close(): Promise<void>;
}

export const sandboxTenants: readonly SandboxTenant[] = [
  { slug: "acme", secret: "acme-sandbox-secret-change-me", limits: { maxMeetings: 20, maxAttendees: 200 } },
  { slug: "globex", secret: "globex-sandbox-secret-change-me", nextSecret: "globex-sandbox-next-secret-change-me" },
];
const sandboxNodeIds = ["bbb1", "bbb2", "bbb3"];
const nodeSecret = (id: string): string => `${id}-sandbox-node-secret`;
const hookProgram = fileURLToPath(new URL("../../../components/bbb/recording/mediaplane-recording-upload", import.meta.url));

/**
 * Redis, three simulated BBB nodes, the poller, the balancer's API and its admin server, all on loopback: what
 * `npm run sandbox` runs and what the console's browser tests drive. Tenant `acme` has limits and `globex` a secret
 * in rollover, so every column of the console has something to show.
 */
export async function startSandbox({ apiPort, adminPort, pollIntervalSeconds = 5, logger }: SandboxOptions): Promise<Sandbox> {
  const baseDomain = "localhost";
  const configDir = await mkdtemp(join(tmpdir(), "mediaplane-sandbox-"));
  const redis = await startRedis();
  // One key for the API's signed end callbacks and the upload endpoint's check of a recording's owner.
  const callbackSecret = randomBytes(24).toString("base64url");
  const recordingsDir = join(configDir, "recordings");
  await mkdir(recordingsDir);
  // Recordings go the way they go in production: published on the node, sent by the post-publish hook to the
  // upload endpoint, onto the share, indexed by the importer.
  const upload = await startUploadServer({
    shareRoot: recordingsDir,
    callbackKey: callbackSecret,
    tenants: new Set(sandboxTenants.map((tenant) => tenant.slug)),
    maxFileBytes: 1024 * 1024 * 1024,
    nodeSecret: (nodeId) => (sandboxNodeIds.includes(nodeId) ? nodeSecret(nodeId) : undefined),
    host: "127.0.0.1",
    port: 0,
    logger,
    shutdownGraceMs: 2_000,
  });
  const simulator = await startSimulator({
    nodes: sandboxNodeIds.map((id) => ({ id, secret: nodeSecret(id) })),
    recordings: {
      directory: join(configDir, "nodes"),
      postPublishHook: { command: hookProgram, env: { MEDIAPLANE_UPLOAD_URL: `http://127.0.0.1:${upload.port}`, MEDIAPLANE_UPLOAD_CONFIG: "/nonexistent" } },
    },
  });
  const input: BalancerConfigInput = {
    tenants: sandboxTenants.map(({ slug, secret, nextSecret, limits }) => ({ slug, secrets: nextSecret === undefined ? [secret] : [secret, nextSecret], limits })),
    nodes: [...simulator.nodes.values()].map((node) => ({ id: node.id, url: node.apiUrl, secret: nodeSecret(node.id), loadUrl: node.loadUrl })),
    poller: { intervalSeconds: pollIntervalSeconds },
  };
  const config = parseBalancerConfig(input, "sandbox config");
  const configFile = join(configDir, "balancer.json");
  await writeFile(configFile, JSON.stringify(input, null, 2), { mode: 0o600 });
  const adminToken = randomBytes(24).toString("base64url");
  const api = await startApiServer({ config, redisUrl: redis.url, host: "127.0.0.1", port: apiPort, baseDomain, trustedProxies: [], logger, callbackSecret, recordingsDir });
  const importer = await startImporterProcess({ config, redisUrl: redis.url, shareRoot: recordingsDir, intervalMs: 2_000, logger });
  const admin = await startAdminServer({ config, redisUrl: redis.url, host: "127.0.0.1", port: adminPort, token: adminToken, logger });
  // The poller shares the API's Redis connection here; in production it is its own process (MODE=poller).
  const poller = startPoller({ redis: api.redis, config, logger, pollerId: "sandbox" });
  return {
    redis,
    simulator,
    config,
    configFile,
    api,
    admin,
    adminToken,
    tenants: sandboxTenants,
    baseDomain,
    recordingsDir,
    async close() {
      await importer.close();
      await upload.close();
      await poller.stop();
      await admin.close();
      await api.close();
      await simulator.close();
      await redis.close();
      await rm(configDir, { recursive: true, force: true });
    },
  };
}
