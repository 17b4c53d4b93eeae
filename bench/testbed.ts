import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { startRedis, freePort, type RedisServer } from "../balancer/test/support/redis.js";
import { builtBalancerMain } from "./build.js";
import { pidAccount, type CpuAccount } from "./cpu.js";
import { balancerConfig, benchTenants, fleetNodes } from "./fleet.js";
import { cpuProfileFlags, spawnChild, waitForHttp, type Child } from "./processes.js";
import type { Ready } from "./servers/ipc.js";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** Redis, the simulated fleet and one balancer, each in a process of its own, on loopback. */
export interface Testbed {
  readonly fleetSize: number;
  readonly balancer: Child;
  /** The balancer's RSS once it answers: config loaded, node clients made, no meetings yet. */
  readonly startRssBytes: number;
  /** `http://127.0.0.1:<port>` of the balancer. */
  readonly origin: string;
  /** The runner's own Redis connection: command statistics and checks, never on a measured path. */
  readonly redis: Redis;
  /** Every process on the request path (balancer, simulator, Redis) and the load generator (this process). */
  readonly cpuAccounts: readonly CpuAccount[];
  /** `http://127.0.0.1:<port>` of the simulator serving every node. */
  readonly simulatorOrigin: string;
  /** The balancer's config file, for pollers. */
  readonly configFile: string;
  readonly redisUrl: string;
  close(): Promise<void>;
}

/** Starts a bench child that reports its port over IPC once it listens. */
export async function startChildServer(entry: string, name: string, env: Record<string, string> = {}): Promise<{ child: Child; port: number }> {
  const child = spawnChild({ entry, name, env });
  const ready = await child.nextMessage<Ready>();
  if (ready.type !== "ready") throw new Error(`${name}: expected a ready message, got ${JSON.stringify(ready)}`);
  return { child, port: ready.port };
}

/**
 * The production default for an append-only Redis (the test helper fsyncs every write, which is right for
 * crash tests and wrong for throughput).
 */
async function productionLikePersistence(redis: Redis): Promise<void> {
  await redis.config("SET", "appendfsync", "everysec");
}

async function redisPid(redis: Redis): Promise<number> {
  const match = /^process_id:(\d+)/m.exec(await redis.info("server"));
  if (match === null) throw new Error("INFO server names no process_id");
  return Number(match[1]);
}

export interface BalancerProcessArgs {
  /** For error messages, and the name of its CPU profile's directory. */
  readonly name: string;
  readonly configFile: string;
  readonly redisUrl: string;
  /** `--profile`: write a V8 CPU profile into `<profileDir>/<name>/`. */
  readonly profileDir: string | undefined;
}

/**
 * The balancer's own entry point, compiled, configured by a file and the environment as a deployment runs it, in
 * one of its modes (an API replica, a poller).
 */
export function spawnBalancer(args: BalancerProcessArgs & { readonly env: Readonly<Record<string, string>> }): Child {
  return spawnChild({
    entry: builtBalancerMain,
    name: args.name,
    nodeFlags: cpuProfileFlags(args.profileDir, args.name),
    env: {
      CONFIG_FILE: args.configFile,
      REDIS_URL: args.redisUrl,
      BASE_DOMAIN: "bbb.bench.test",
      ADMIN_HOST: "127.0.0.1",
      ADMIN_PORT: "0",
      LOG_LEVEL: "warn",
      ...args.env,
    },
  });
}

/** An API replica on a free loopback port, once it answers. */
export async function startApiReplica(args: BalancerProcessArgs): Promise<{ child: Child; origin: string }> {
  const port = await freePort();
  const child = spawnBalancer({ ...args, env: { MODE: "api", LISTEN_HOST: "127.0.0.1", PORT: String(port) } });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${origin}/t/${benchTenants.joins.slug}/bigbluebutton/api`, child, args.name);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { child, origin };
}

export interface TestbedOptions {
  readonly fleetSize: number;
  readonly pollIntervalMs: number;
  readonly profileDir: string | undefined;
}

const openTestbeds = new Set<() => Promise<void>>();

/** Closes whatever testbed is still up (an interrupted run), Redis included. */
export async function closeOpenTestbeds(): Promise<void> {
  for (const close of [...openTestbeds]) await close();
}

export async function startTestbed({ fleetSize, pollIntervalMs, profileDir }: TestbedOptions): Promise<Testbed> {
  const closers: Array<() => Promise<unknown>> = [];
  const close = async (): Promise<void> => {
    openTestbeds.delete(close);
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  openTestbeds.add(close);
  try {
    const redisServer: RedisServer = await startRedis();
    closers.push(() => redisServer.close());
    const redis = new Redis(redisServer.url);
    closers.push(() => redis.quit());
    await productionLikePersistence(redis);

    const simulator = await startChildServer(here("./servers/simulator.ts"), "simulator", { BENCH_NODES: String(fleetSize) });
    closers.push(() => simulator.child.stop());

    const dir = await mkdtemp(join(tmpdir(), "mediaplane-bench-"));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const configFile = join(dir, "balancer.json");
    const simulatorOrigin = `http://127.0.0.1:${simulator.port}`;
    const config = { ...balancerConfig(fleetNodes(fleetSize), simulatorOrigin), poller: { intervalSeconds: pollIntervalMs / 1000 } };
    await writeFile(configFile, JSON.stringify(config));

    const { child: balancer, origin } = await startApiReplica({ name: `balancer-${fleetSize}-nodes`, configFile, redisUrl: redisServer.url, profileDir });
    closers.push(() => balancer.stop());
    const startRssBytes = await balancer.rssBytes();
    const cpuAccounts = [
      { name: "balancer", cpuSeconds: () => balancer.cpuSeconds() },
      { name: "simulator", cpuSeconds: () => simulator.child.cpuSeconds() },
      pidAccount("redis", await redisPid(redis)),
      pidAccount("load generator", process.pid),
    ];
    return { fleetSize, balancer, startRssBytes, cpuAccounts, origin, redis, simulatorOrigin, configFile, redisUrl: redisServer.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}
