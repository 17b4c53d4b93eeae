import { once } from "node:events";
import { isIP } from "node:net";
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { ConfigError } from "../config/schema.js";

/**
 * The one place a Redis client is built, for every process (API, poller, admin, CLI, sandbox). `REDIS_URL` says
 * everything: `redis://` or `rediss://` (TLS, as Azure Cache for Redis requires) for one server, and
 * `redis+cluster://` or `rediss+cluster://` naming one seed node of a Redis Cluster (the client learns the other
 * nodes from it). Credentials go in the URL's user part: `rediss://:<password>@host:6380`.
 */

/** A single Redis or a Redis Cluster: every store function takes either. */
export type RedisClient = Redis | Cluster;

export interface RedisEndpoint {
  cluster: boolean;
  tls: boolean;
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  /** Always 0 on a cluster, which has no numbered databases. */
  db: number;
}

const schemes: Record<string, { cluster: boolean; tls: boolean }> = {
  "redis:": { cluster: false, tls: false },
  "rediss:": { cluster: false, tls: true },
  "redis+cluster:": { cluster: true, tls: false },
  "rediss+cluster:": { cluster: true, tls: true },
};

/** The protocols `REDIS_URL` accepts, as a pattern over `URL.protocol` without its colon. */
export const redisUrlProtocol = /^rediss?(\+cluster)?$/;

/** Reads a `REDIS_URL`; a URL the balancer cannot use fails with a message naming what is wrong (never the password). */
export function parseRedisUrl(url: string): RedisEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError("REDIS_URL is not a URL");
  }
  const scheme = schemes[parsed.protocol];
  if (scheme === undefined) throw new ConfigError(`REDIS_URL: unknown scheme "${parsed.protocol}" (redis:, rediss:, redis+cluster:, rediss+cluster:)`);
  if (parsed.hostname === "") throw new ConfigError("REDIS_URL names no host");
  const dbPath = parsed.pathname.replace(/^\//, "");
  if (dbPath !== "" && !/^\d+$/.test(dbPath)) throw new ConfigError(`REDIS_URL: "/${dbPath}" is not a database number`);
  const db = dbPath === "" ? 0 : Number(dbPath);
  if (scheme.cluster && db !== 0) throw new ConfigError("REDIS_URL: a Redis Cluster has only database 0");
  const optional = (value: string): string | undefined => (value === "" ? undefined : decodeURIComponent(value));
  return {
    ...scheme,
    // Brackets of an IPv6 literal are URL syntax, not part of the address.
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    username: optional(parsed.username),
    password: optional(parsed.password),
    db,
  };
}

/** How hard a process insists on Redis; each process picks what suits its callers. */
export interface RedisTuning {
  /** Attempts per command while reconnecting before it fails (ioredis default 20). */
  maxRetriesPerRequest?: number;
  connectTimeoutMs?: number;
  /** Gives up at the first lost connection instead of reconnecting (the CLI: an operator reads the error at once). */
  failFast?: boolean;
  /** Batches commands issued in the same tick into one round trip (per node on a cluster). */
  autoPipelining?: boolean;
  /** Fails a command not answered within this (a stalled server), instead of waiting for the connection to die. */
  commandTimeoutMs?: number;
}

function connectionOptions(endpoint: RedisEndpoint, tuning: RedisTuning): RedisOptions {
  return {
    ...(endpoint.username === undefined ? {} : { username: endpoint.username }),
    ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
    // The certificate is checked against the host the URL names, also on cluster nodes reached by the address
    // they announce. SNI takes host names only, so a URL naming an IP address sends none.
    ...(endpoint.tls ? { tls: isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {} } : {}),
    ...(tuning.maxRetriesPerRequest === undefined ? {} : { maxRetriesPerRequest: tuning.maxRetriesPerRequest }),
    ...(tuning.connectTimeoutMs === undefined ? {} : { connectTimeout: tuning.connectTimeoutMs }),
    ...(tuning.commandTimeoutMs === undefined ? {} : { commandTimeout: tuning.commandTimeoutMs }),
    ...(tuning.failFast ? { retryStrategy: () => null } : {}),
  };
}

/** A client for `REDIS_URL`: a `Redis` for one server, a `Cluster` for a cluster seed. */
export function connectRedis(url: string, tuning: RedisTuning = {}): RedisClient {
  const endpoint = parseRedisUrl(url);
  const connection = connectionOptions(endpoint, tuning);
  const enableAutoPipelining = tuning.autoPipelining ?? false;
  if (!endpoint.cluster) return new Redis({ ...connection, host: endpoint.host, port: endpoint.port, db: endpoint.db, enableAutoPipelining });
  const clusterOptions: ClusterOptions = {
    redisOptions: connection,
    enableAutoPipelining,
    ...(tuning.failFast ? { clusterRetryStrategy: () => null } : {}),
    // The cluster client resolves the seed's host name to an address before connecting, and TLS would then check
    // the certificate against that address: keep the name (a managed cache's certificate names its host).
    ...(endpoint.tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster([{ host: endpoint.host, port: endpoint.port }], clusterOptions);
}

/**
 * The masters of a cluster, or the one server: what a command that walks every key (SCAN) must visit. A cluster
 * client knows its masters only once it has read the slot map, so this waits for that.
 */
export async function primaries(redis: RedisClient): Promise<Redis[]> {
  if (!(redis instanceof Cluster)) return [redis];
  if (redis.status !== "ready") await once(redis, "ready");
  return redis.nodes("master");
}
