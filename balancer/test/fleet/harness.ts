import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { parseBalancerConfig, type BalancerConfig, type BalancerConfigInput } from "../../src/config/schema.js";
import { startAdminServer, type RunningAdminServer } from "../../src/admin/adminServer.js";
import { NodeClients } from "../../src/nodes/client.js";
import { createLogger, type Logger } from "../../src/observability/logger.js";
import { fetchNodeReport } from "../../src/poller/nodeReport.js";
import { startPoller, type Poller } from "../../src/poller/poller.js";
import { recordPoll, type PollRecord } from "../../src/poller/recordPoll.js";
import { settledMeetings } from "../../src/poller/settledMeetings.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { nodeMeetingMember } from "../../src/store/meetings.js";
import { syncConfiguredNodes } from "../../src/store/nodeSync.js";
import { keys } from "../../src/store/keys.js";
import { connectRedis, type RedisClient } from "../../src/store/redisClient.js";
import { buildDirectory, type Directory, type NodeEntry } from "../../src/tenancy/directory.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { startRedis, type RedisServer, type SharedRedis } from "../support/redis.js";
import { startFleet as startApiFleet, type Fleet as ApiFleet, type FleetOptions as ApiFleetOptions } from "../api/harness.js";

/** A fleet for the tests: a real redis-server, simulated nodes over HTTP, and the config naming them. */
export interface Fleet<R extends SharedRedis = RedisServer> {
  redisServer: R;
  redis: RedisClient;
  simulator: Simulator;
  config: BalancerConfig;
  /** The config as a file would say it (for a poller started as its own process). */
  configInput: BalancerConfigInput;
  directory: Directory;
  clients: NodeClients;
  logger: Logger;
  node(id: string): NodeEntry;
  /** A poller on this fleet, stopped with the fleet. */
  startPoller(options?: { pollerId?: string }): Poller;
  /**
   * Puts a meeting on a chosen node: created there under its namespaced ID, then mapped in Redis as
   * docs/redis-keys.md lays the mapping out (tests that need placement itself go through the API).
   */
  createMeeting(tenant: string, meetingId: string, nodeId: string): Promise<void>;
  close(): Promise<void>;
}

export const pollIntervalMs = 200;
export const tenantSecret = "tenant-secret-0123456789";
const nodeSecret = (id: string) => `node-secret-${id}-0123456789`;

/** A logger that keeps quiet: tests read outcomes from Redis and the nodes, not from log lines. */
export function silentLogger(): Logger {
  return createLogger({ name: "test", level: "warn", destination: new Writable({ write: (_chunk, _encoding, done) => done() }) });
}

export interface FleetOptions {
  nodes: number;
  withLoadUrl?: boolean;
  config?: Partial<BalancerConfigInput>;
  intervalMs?: number;
}

/** With `redisServer` the fleet uses a Redis the test started (another fleet's, a Redis Cluster) and leaves it running. */
export async function startFleet(options?: FleetOptions & { redisServer?: RedisServer }): Promise<Fleet>;
export async function startFleet<R extends SharedRedis>(options: FleetOptions & { redisServer: R }): Promise<Fleet<R>>;
export async function startFleet(options: FleetOptions & { redisServer?: SharedRedis } = { nodes: 2 }): Promise<Fleet<SharedRedis>> {
  const ownRedis = options.redisServer === undefined ? await startRedis() : undefined;
  const redisServer = options.redisServer ?? ownRedis;
  if (redisServer === undefined) throw new Error("no Redis");
  const nodeIds = Array.from({ length: options.nodes }, (_, i) => `bbb${i + 1}`);
  const simulator = await startSimulator({ nodes: nodeIds.map((id) => ({ id, secret: nodeSecret(id) })), requestLogSize: 100 });
  const configInput: BalancerConfigInput = {
    tenants: [
      { slug: "acme", secrets: [tenantSecret] },
      { slug: "globex", secrets: [`${tenantSecret}-globex`] },
    ],
    nodes: nodeIds.map((id) => {
      const simulated = simulator.node(id);
      return { id, url: simulated.apiUrl, secret: nodeSecret(id), ...(options.withLoadUrl ? { loadUrl: simulated.loadUrl } : {}) };
    }),
    // Generous for a loopback node, so a busy test machine does not fail polls the tests expect to succeed.
    poller: { intervalSeconds: 1, timeoutMs: 1_000, concurrency: 16 },
    ...options.config,
  };
  const config = parseBalancerConfig(configInput);
  const directory = buildDirectory(config);
  const clients = new NodeClients(directory.nodes.values(), { timeoutMs: 1_000 });
  const redis = connectRedis(redisServer.url);
  redis.on("error", () => undefined); // tests stop Redis on purpose; outcomes are asserted, not logged
  await syncConfiguredNodes(redis, config); // as every API replica and poller does at start
  const logger = silentLogger();
  const pollers: Poller[] = [];
  const node = (id: string): NodeEntry => {
    const entry = directory.nodes.get(id);
    if (entry === undefined) throw new Error(`no node ${id}`);
    return entry;
  };
  return {
    redisServer,
    redis,
    simulator,
    config,
    configInput,
    directory,
    clients,
    logger,
    node,
    startPoller(pollerOptions = {}) {
      const poller = startPoller({ redis, config, logger, intervalMs: options.intervalMs ?? pollIntervalMs, ...pollerOptions });
      pollers.push(poller);
      return poller;
    },
    async createMeeting(tenant, meetingId, nodeId) {
      const answer = await clients.call(node(nodeId), "create", new URLSearchParams({ meetingID: nodeMeetingId(tenant, meetingId), name: `Meeting ${meetingId}` }).toString());
      if (!answer.includes("<returncode>SUCCESS</returncode>")) throw new Error(`create failed: ${answer}`);
      await redis.hset(keys.meetings(tenant), meetingId, nodeId);
      await redis.sadd(keys.nodeMeetings(node(nodeId).cluster, nodeId), nodeMeetingMember(tenant, meetingId));
    },
    async close() {
      await Promise.all(pollers.map((poller) => poller.stop()));
      redis.disconnect();
      await clients.close();
      await simulator.close();
      await ownRedis?.close();
    },
  };
}

/** Waits until `check` returns a value other than undefined/false, polling every 25 ms. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}${lastError === undefined ? "" : `: ${String(lastError)}`}`);
}

export async function nodeHash(fleet: Fleet<SharedRedis>, nodeId: string): Promise<Record<string, string>> {
  const node = fleet.node(nodeId);
  return fleet.redis.hgetall(keys.node(node.cluster, node.id));
}

/**
 * Whether a meeting's release is through: its tenant mapping is gone and its node's meeting set no longer holds
 * it. A release deletes the mapping first and the set member second, so a test waiting on the mapping alone
 * can look at the set in between.
 */
export async function meetingReleased(fleet: Fleet<SharedRedis>, tenant: string, meetingId: string, nodeId: string): Promise<boolean> {
  const node = fleet.node(nodeId);
  const [mapping, stillInSet] = await Promise.all([
    fleet.redis.hget(keys.meetings(tenant), meetingId),
    fleet.redis.sismember(keys.nodeMeetings(node.cluster, node.id), nodeMeetingMember(tenant, meetingId)),
  ]);
  return mapping === null && stillInSet === 0;
}

/** What a poll needs: Redis, the config with its directory, and clients for its nodes. */
export type PollTarget = Pick<Fleet<SharedRedis>, "redis" | "config" | "directory" | "clients">;

/** One poll of one node, outside any poller's schedule: for tests that need polls at exact moments. */
export async function pollOnce(target: PollTarget, nodeId: string): Promise<PollRecord> {
  const node = target.directory.nodes.get(nodeId);
  if (node === undefined) throw new Error(`no node ${nodeId} in the config`);
  const { poller } = target.config;
  const tunables = target.directory.clusterLoad.get(node.cluster);
  if (tunables === undefined) throw new Error(`no load tunables for cluster ${node.cluster}`);
  const settled = await settledMeetings(target.redis, node);
  const started = performance.now();
  const report = await fetchNodeReport(target.clients, node, poller.timeoutMs);
  return recordPoll(target.redis, node, report, { thresholds: poller, tunables, now: Date.now(), pollMs: performance.now() - started, settled });
}

/** Polls of the balancer API's fleet, as its poller would make them, through the first replica's Redis connection. */
export function apiFleetPolls(fleet: ApiFleet): PollTarget & { close(): Promise<void> } {
  const directory = buildDirectory(fleet.config);
  const clients = new NodeClients(directory.nodes.values(), { timeoutMs: fleet.config.poller.timeoutMs });
  return { redis: fleet.balancers[0]!.redis, config: fleet.config, directory, clients, close: () => clients.close() };
}

/**
 * Starts a second copy of a mapped meeting on another node, as a create retried elsewhere leaves it: made by the
 * balancer (namespaced ID, tenant metadata), so the next poll of that node finds the meeting on two nodes.
 */
export async function startSecondCopy(fleet: Fleet<SharedRedis>, tenant: string, meetingId: string, nodeId: string): Promise<void> {
  const params = new URLSearchParams({ meetingID: nodeMeetingId(tenant, meetingId), name: `Meeting ${meetingId}`, "meta_mediaplane-tenant": tenant });
  const answer = await fleet.clients.call(fleet.node(nodeId), "create", params.toString());
  if (!answer.includes("<returncode>SUCCESS</returncode>")) throw new Error(`create failed: ${answer}`);
}

export async function poolMembers(fleet: Fleet<SharedRedis>, cluster = "default"): Promise<string[]> {
  return fleet.redis.zrange(keys.pool(cluster), "0", "-1");
}

/** The balancer API's fleet with a poller beside it, polling every `pollIntervalMs`. */
export interface ApiFleetWithPoller {
  readonly fleet: ApiFleet;
  /** The poller's own connection, which the test reads and writes through. */
  readonly redis: Redis;
  /** Stops the poller, then the fleet. */
  close(): Promise<void>;
}

export async function startApiFleetWithPoller(options: ApiFleetOptions = {}): Promise<ApiFleetWithPoller> {
  const fleet = await startApiFleet(options);
  const redis = new Redis(fleet.redis.url);
  redis.on("error", () => undefined);
  const poller = startPoller({ redis, config: fleet.config, logger: silentLogger(), intervalMs: pollIntervalMs });
  return {
    fleet,
    redis,
    async close() {
      await poller.stop();
      redis.disconnect();
      await fleet.close();
    },
  };
}

export const adminToken = "admin-token-0123456789abcdef";

/** A fleet with the balancer's admin server on it. */
export interface FleetWithAdmin {
  readonly fleet: Fleet;
  readonly admin: RunningAdminServer;
  /** Stops the admin server, then the fleet. */
  close(): Promise<void>;
}

/** The admin server asks for `adminToken` unless `token` says otherwise (`undefined`: it is left unset). */
export async function startFleetWithAdmin(options: { nodes?: number; token?: string | undefined } = {}): Promise<FleetWithAdmin> {
  const fleet = await startFleet({ nodes: options.nodes ?? 2 });
  const admin = await startAdminServer({
    config: fleet.config,
    redisUrl: fleet.redisServer.url,
    host: "127.0.0.1",
    port: 0,
    token: "token" in options ? options.token : adminToken,
    logger: fleet.logger,
  });
  return {
    fleet,
    admin,
    async close() {
      await admin.close();
      await fleet.close();
    },
  };
}
