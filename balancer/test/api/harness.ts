import { get as httpGet } from "node:http";
import { Writable } from "node:stream";
import { request } from "undici";
import { startApiServer, type RunningApiServer } from "../../src/apiServer.js";
import { computeChecksum } from "../../src/bbb/checksum.js";
import type { DeliverySettings } from "../../src/http/delivery.js";
import { parseBalancerConfig, type BalancerConfig, type BalancerConfigInput, type ChecksumAlgorithm } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { registry } from "../../src/observability/metrics.js";
import { keys } from "../../src/store/keys.js";
import { startSimulator, type RecordingSettings, type Simulator } from "../../src/simulator/index.js";
import { primaries } from "../../src/store/redisClient.js";
import { startRedis, type RedisServer, type SharedRedis } from "../support/redis.js";

export const tenants = {
  acme: { slug: "acme", secret: "acme-secret-0123456789" },
  globex: { slug: "globex", secret: "globex-secret-0123456789" },
} as const;

export const baseDomain = "bbb.test";

export interface Fleet<R extends SharedRedis = RedisServer> {
  redis: R;
  simulator: Simulator;
  config: BalancerConfig;
  /** Balancer replicas sharing Redis and the nodes; `balancers[0]` unless a test starts more. */
  balancers: RunningApiServer[];
  startBalancer(): Promise<RunningApiServer>;
  close(): Promise<void>;
}

export interface FleetOptions {
  nodeIds?: string[];
  /** Changes to the config on top of the two tenants and the nodes. */
  configure?: (config: BalancerConfigInput) => BalancerConfigInput;
  /** How many balancer replicas to start. Default 1. */
  replicas?: number;
  /** Where nodes send end callbacks; default `https://<baseDomain>`, which nodes cannot reach. */
  publicUrl?: string;
  /** The first replica's port (with `publicUrl` on it, callbacks reach it); default a free one. */
  port?: number;
  /** Peers whose `X-Forwarded-*` are believed; default the loopback address the tests send from. */
  trustedProxies?: string[];
  /** Nodes publish recorded meetings there and run the post-publish hook. */
  recordings?: RecordingSettings;
  /** The recordings share the balancers' recording API changes (`RECORDINGS_DIR`). */
  share?: string;
  /** Retries of callbacks to tenants' URLs; default the balancer's own. */
  callbackDeliveries?: DeliverySettings;
}

/** The key the fleet's balancers sign end callback URLs with (which also proves a recording's owner). */
export const callbackSecret = "test-callback-secret-0123";

const silentLogger = createLogger({ name: "test", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });

/**
 * Redis, simulated nodes and balancer replicas over real HTTP, all on free loopback ports. With `redis` the
 * fleet uses a Redis the test started (a Redis Cluster) and leaves it running; otherwise it starts and stops its own.
 */
export async function startFleet(options?: FleetOptions): Promise<Fleet>;
export async function startFleet<R extends SharedRedis>(options: FleetOptions & { redis: R }): Promise<Fleet<R>>;
export async function startFleet(options: FleetOptions & { redis?: SharedRedis } = {}): Promise<Fleet<SharedRedis>> {
  const nodeIds = options.nodeIds ?? ["n1", "n2", "n3"];
  const ownRedis = options.redis === undefined ? await startRedis() : undefined;
  const redis = options.redis ?? ownRedis;
  if (redis === undefined) throw new Error("no Redis");
  const simulator = await startSimulator({
    nodes: nodeIds.map((id) => ({ id, secret: `${id}-node-secret-0123456789` })),
    ...(options.recordings === undefined ? {} : { recordings: options.recordings }),
  });
  const input: BalancerConfigInput = {
    tenants: Object.values(tenants).map((tenant) => ({ slug: tenant.slug, secrets: [tenant.secret] })),
    nodes: nodeIds.map((id) => ({ id, url: simulator.node(id).apiUrl, secret: `${id}-node-secret-0123456789`, loadUrl: simulator.node(id).loadUrl })),
    poller: { timeoutMs: 1_000 },
  };
  const config = parseBalancerConfig(options.configure === undefined ? input : options.configure(input));
  const balancers: RunningApiServer[] = [];
  const startBalancer = async (): Promise<RunningApiServer> => {
    const balancer = await startApiServer({
      config,
      redisUrl: redis.url,
      host: "127.0.0.1",
      port: balancers.length === 0 ? (options.port ?? 0) : 0,
      baseDomain,
      trustedProxies: options.trustedProxies ?? ["127.0.0.1"],
      publicUrl: options.publicUrl,
      callbackSecret,
      logger: silentLogger,
      recordingsDir: options.share,
      callbackDeliveries: options.callbackDeliveries,
    });
    balancers.push(balancer);
    return balancer;
  };
  for (let i = 0; i < (options.replicas ?? 1); i++) await startBalancer();
  return {
    redis,
    simulator,
    config,
    balancers,
    startBalancer,
    async close() {
      await Promise.all(balancers.map((running) => running.close()));
      await simulator.close();
      await ownRedis?.close();
    },
  };
}

/** The tenant's BBB API base as clients are configured with it (path-based, no DNS needed). */
export function apiBase(balancer: RunningApiServer, tenant: string): string {
  return `${balancer.url}/t/${tenant}/bigbluebutton/api/`;
}

/** `query&checksum=...` for a tenant's call. */
export function computeSigned(tenant: { secret: string }, call: string, query: string, algorithm: ChecksumAlgorithm = "sha256"): string {
  return `${query}&checksum=${computeChecksum(algorithm, call, query, tenant.secret)}`;
}

/** A signed call URL as a BBB client builds it. */
export function signedUrl(
  balancer: RunningApiServer,
  tenant: { slug: string; secret: string },
  call: string,
  params: Record<string, string> | string,
  algorithm: ChecksumAlgorithm = "sha256",
): string {
  const query = typeof params === "string" ? params : new URLSearchParams(params).toString();
  const checksum = computeChecksum(algorithm, call, query, tenant.secret);
  return `${apiBase(balancer, tenant.slug)}${call}?${query === "" ? "" : `${query}&`}checksum=${checksum}`;
}

export interface HttpAnswer {
  status: number;
  contentType: string | undefined;
  location: string | undefined;
  body: string;
}

export async function get(url: string, init: { method?: "GET" | "POST"; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpAnswer> {
  const answer = await request(url, { method: init.method ?? "GET", headers: init.headers, body: init.body });
  const header = (name: string): string | undefined => {
    const value = answer.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return { status: answer.statusCode, contentType: header("content-type"), location: header("location"), body: await answer.body.text() };
}

/** A GET whose request target is sent exactly as written (no URL normalisation); answers the body. */
export async function getRaw(url: string): Promise<string> {
  const { host, port } = new URL(url);
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  return new Promise((resolve, reject) => {
    httpGet({ host: host.split(":")[0], port, path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

/** Asserts nothing; reads `<name>` from an XML answer for expectations. */
export function field(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

/** Every key the balancer wrote and its value, to show a request changed nothing. On a cluster, from every master. */
export async function redisState(balancer: RunningApiServer): Promise<Record<string, unknown>> {
  const redis = balancer.redis;
  const state: Record<string, unknown> = {};
  const found = await Promise.all((await primaries(redis)).map((server) => server.keys("mp:*")));
  for (const key of found.flat().sort()) {
    const type = await redis.type(key);
    if (type === "hash") state[key] = await redis.hgetall(key);
    else if (type === "zset") state[key] = await redis.zrange(key, "0", "-1", "WITHSCORES");
    else if (type === "set") state[key] = (await redis.smembers(key)).sort();
    else state[key] = await redis.get(key);
  }
  return state;
}

/**
 * Back to a fresh start between tests: every node answering and empty, Redis empty (every master of a Redis
 * Cluster: FLUSHALL through a cluster client reaches one only), each configured node in its pool at load 0.
 */
export async function resetFleet(fleet: Fleet<SharedRedis>): Promise<void> {
  for (const node of fleet.simulator.nodes.values()) {
    node.setFailure("none");
    node.forgetAllMeetings();
  }
  const redis = fleet.balancers[0]!.redis;
  await Promise.all((await primaries(redis)).map((server) => server.flushall()));
  for (const node of fleet.config.nodes) await redis.zadd(keys.pool(node.cluster), 0, node.id);
}

/** The placement pool of a cluster: each node's load as placement sees it now. */
export async function poolLoads(balancer: RunningApiServer, cluster = "default"): Promise<Record<string, number>> {
  const flat = await balancer.redis.zrange(keys.pool(cluster), "0", "-1", "WITHSCORES");
  const loads: Record<string, number> = {};
  for (let i = 0; i < flat.length; i += 2) loads[flat[i]!] = Number(flat[i + 1]);
  return loads;
}

/** A counter's value for exactly these labels of acme (0 before its first count). */
export async function acmeCount(metricName: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === metricName);
  const wanted = { tenant: "acme", ...labels };
  const value = metric?.values.find((entry) => Object.entries(wanted).every(([name, label]) => entry.labels[name] === label));
  return Number(value?.value ?? 0);
}

/** Meetings on every node, by node ID. */
export function nodeMeetings(fleet: Fleet<SharedRedis>): Record<string, string[]> {
  return Object.fromEntries([...fleet.simulator.nodes.values()].map((node) => [node.id, node.meetings().map((meeting) => meeting.meetingId).sort()]));
}

/** Which node holds a node meeting ID, if any. */
export function hostOf(fleet: Fleet<SharedRedis>, nodeMeetingId: string): string | undefined {
  return [...fleet.simulator.nodes.values()].find((node) => node.meeting(nodeMeetingId) !== undefined)?.id;
}
