import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { connectRedis, primaries } from "../../src/store/redisClient.js";
import type { LocalhostCertificates } from "./certificates.js";
import { freePort, startRedis, type RedisServer } from "./redis.js";

const run = promisify(execFile);

export interface RedisCluster {
  /**
   * `redis+cluster://` naming the first master: the seed a balancer's `REDIS_URL` gives. With TLS,
   * `rediss+cluster://localhost:<its TLS port>`: the certificate's name, while the nodes announce 127.0.0.1.
   */
  readonly url: string;
  readonly masters: readonly RedisServer[];
  /** Deletes every key on every master (FLUSHALL through a cluster client would reach one master only). */
  empty(): Promise<void>;
  /** Stops every node and removes their directories. */
  close(): Promise<void>;
}

/** `redis-cli` arguments that log in when the cluster has a password. */
const authArgs = (password: string | undefined): string[] => (password === undefined ? [] : ["-a", password, "--no-auth-warning"]);

async function clusterState(port: number, password: string | undefined): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...authArgs(password), "cluster", "info"]);
  return /cluster_state:(\w+)/.exec(stdout)?.[1] ?? "unknown";
}

/** Every node must agree the cluster is whole before a client's first command, or it may meet CLUSTERDOWN. */
async function waitUntilClusterOk(masters: readonly RedisServer[], password: string | undefined, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(masters.map((master) => clusterState(master.port, password)));
    if (states.every((state) => state === "ok")) return;
    if (Date.now() > deadline) throw new Error(`Redis Cluster not ok after ${timeoutMs} ms: ${states.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A real Redis Cluster of `masterCount` masters (no replicas), each a redis-server from PATH on free loopback
 * ports (client and cluster bus) with its own temporary directory, joined by `redis-cli --cluster create`.
 * With `password` every node requires it, as a managed cache does; `url` then carries it. With `tls` each node
 * also listens with TLS (and the cluster bus uses it); the cluster is formed, and `url` points, over TLS.
 */
export async function startRedisCluster({
  masterCount = 3,
  password,
  tls,
}: { masterCount?: number; password?: string; tls?: LocalhostCertificates } = {}): Promise<RedisCluster> {
  const masters: RedisServer[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(masters.map((master) => master.close()));
  };
  const tlsPorts: number[] = [];
  try {
    for (let i = 0; i < masterCount; i++) {
      // The bus port is chosen too: the default (port + 10000) may be outside the port range or taken.
      const busPort = await freePort();
      const passwordArgs = password === undefined ? [] : ["--requirepass", password, "--masterauth", password];
      const tlsPort = tls === undefined ? undefined : await freePort();
      if (tlsPort !== undefined) tlsPorts.push(tlsPort);
      const tlsArgs =
        tls === undefined || tlsPort === undefined
          ? []
          : ["--tls-port", String(tlsPort), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-ca-cert-file", tls.ca, "--tls-auth-clients", "no", "--tls-cluster", "yes"];
      masters.push(
        await startRedis(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", String(busPort), "--cluster-node-timeout", "5000", ...passwordArgs, ...tlsArgs]),
      );
    }
    const addresses = tls === undefined ? masters.map((master) => `127.0.0.1:${master.port}`) : tlsPorts.map((port) => `127.0.0.1:${port}`);
    const tlsClientArgs = tls === undefined ? [] : ["--tls", "--cacert", tls.ca];
    await run("redis-cli", [...authArgs(password), ...tlsClientArgs, "--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    await waitUntilClusterOk(masters, password);
  } catch (error) {
    await close();
    throw error;
  }
  const seed = masters[0];
  if (seed === undefined) throw new Error("a Redis Cluster needs at least one master");
  const credentials = password === undefined ? "" : `:${encodeURIComponent(password)}@`;
  const url = tls === undefined ? `redis+cluster://${credentials}127.0.0.1:${seed.port}` : `rediss+cluster://${credentials}localhost:${tlsPorts[0]}`;
  const empty = async (): Promise<void> => {
    const redis = connectRedis(url);
    try {
      await Promise.all((await primaries(redis)).map((master) => master.flushall()));
    } finally {
      await redis.quit();
    }
  };
  return { url, masters, empty, close };
}

/**
 * One emptied Redis Cluster for each test of a file: started before the file's tests, stopped after them (after the
 * file's own `afterAll`s, which vitest runs first), emptied before each test's fleet starts on it.
 */
export function useRedisCluster(): () => Promise<RedisCluster> {
  let cluster: RedisCluster | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
  });
  return async () => {
    if (cluster === undefined) throw new Error("the Redis Cluster did not start");
    await cluster.empty();
    return cluster;
  };
}
