import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { startAdminServer, type RunningAdminServer } from "../../src/admin/adminServer.js";
import { startApiServer, type RunningApiServer } from "../../src/apiServer.js";
import { LiveConfig, versionId, type ConfigReport } from "../../src/config/liveConfig.js";
import { renderBalancerConfigFile, type BalancerConfigInput } from "../../src/config/schema.js";
import { watchConfigFile } from "../../src/config/watchConfigFile.js";
import { createLogger, type Logger } from "../../src/observability/logger.js";
import { startPoller, type Poller } from "../../src/poller/poller.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { keys } from "../../src/store/keys.js";
import { connectRedis, type RedisClient } from "../../src/store/redisClient.js";
import { field, get, signedUrl } from "../api/harness.js";
import { adminToken, waitFor } from "../fleet/harness.js";
import { projectedVolume, type ProjectedVolume } from "../support/projectedVolume.js";
import { freePort, startRedis, type RedisServer } from "../support/redis.js";

/**
 * Config changes without a restart, as they reach pods: the balancer's Secret is mounted as a directory the
 * kubelet updates by swapping its `..data` symlink (`support/projectedVolume.ts`). Two API replicas and a poller,
 * each with its own watcher on the file as separate pods have, share a real Redis and simulated nodes.
 */

const oldAcme = { slug: "acme", secret: "acme-secret-0123456789" };
const newAcme = { slug: "acme", secret: "acme-rotated-secret-0123456789" };
const globex = { slug: "globex", secret: "globex-secret-0123456789" };
const initech = { slug: "initech", secret: "initech-secret-0123456789" };
const nodeSecret = (id: string): string => `${id}-node-secret-0123456789`;

let redisServer: RedisServer | undefined;
let simulator: Simulator | undefined;
let volume: ProjectedVolume | undefined;
let redis: RedisClient | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  redis?.disconnect();
  await simulator?.close();
  await redisServer?.close();
  await volume?.remove();
  redis = undefined;
  simulator = undefined;
  redisServer = undefined;
  volume = undefined;
});

/** A logger whose lines the test reads (the report of a refused file is one). */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter((text) => text !== "")) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ name: "test", level: "info", destination }), lines };
}

function baseConfig(sim: Simulator): BalancerConfigInput {
  return {
    tenants: [
      { slug: oldAcme.slug, secrets: [oldAcme.secret] },
      { slug: globex.slug, secrets: [globex.secret] },
    ],
    nodes: ["n1", "n2"].map((id) => ({ id, url: sim.node(id).apiUrl, secret: nodeSecret(id) })),
    poller: { timeoutMs: 1_000 },
  };
}

/** The change an operator makes: a new tenant on a new cluster with a new node, and acme's secret replaced. */
function changedConfig(sim: Simulator): BalancerConfigInput {
  const base = baseConfig(sim);
  return {
    ...base,
    tenants: [{ slug: newAcme.slug, secrets: [newAcme.secret] }, { slug: globex.slug, secrets: [globex.secret] }, { slug: initech.slug, secrets: [initech.secret], clusters: ["big"] }],
    clusters: [{ name: "default" }, { name: "big" }],
    nodes: [...(base.nodes ?? []), { id: "n3", url: sim.node("n3").apiUrl, secret: nodeSecret("n3"), cluster: "big" }],
  };
}

async function startFleet(): Promise<{ sim: Simulator; volume: ProjectedVolume; redisUrl: string }> {
  redisServer = await startRedis();
  simulator = await startSimulator({ nodes: ["n1", "n2", "n3"].map((id) => ({ id, secret: nodeSecret(id) })) });
  volume = await projectedVolume("config.yaml", renderBalancerConfigFile(baseConfig(simulator)));
  redis = connectRedis(redisServer.url);
  redis.on("error", () => undefined);
  return { sim: simulator, volume, redisUrl: redisServer.url };
}

/** The file's config as one pod holds it: loaded at start, reloaded by its own watcher. */
async function watchedConfig(file: string, logger: Logger): Promise<LiveConfig> {
  const live = await LiveConfig.load(file, logger);
  const watcher = watchConfigFile(file, () => void live.reload(), { debounceMs: 50, recheckMs: 0 });
  cleanups.push(() => watcher.close());
  return live;
}

interface Replica {
  live: LiveConfig;
  api: RunningApiServer;
}

async function startReplica(file: string, redisUrl: string, logger: Logger): Promise<Replica> {
  const live = await watchedConfig(file, logger);
  const api = await startApiServer({ config: live, redisUrl, host: "127.0.0.1", port: 0, baseDomain: "bbb.test", trustedProxies: ["127.0.0.1"], callbackSecret: "test-callback-secret-0123", logger });
  cleanups.push(() => api.close());
  return { live, api };
}

async function startAdmin(live: LiveConfig, redisUrl: string, logger: Logger): Promise<RunningAdminServer> {
  const admin = await startAdminServer({ config: live, redisUrl, host: "127.0.0.1", port: 0, token: adminToken, logger });
  cleanups.push(() => admin.close());
  return admin;
}

function startWatchedPoller(live: LiveConfig, logger: Logger): Poller {
  if (redis === undefined) throw new Error("no Redis");
  const poller = startPoller({ redis, config: live, logger, intervalMs: 200 });
  cleanups.push(() => poller.stop());
  return poller;
}

async function adminGet<T>(admin: RunningAdminServer, path: string): Promise<T> {
  const answer = await fetch(`${admin.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
  const text = await answer.text();
  return (path === "/metrics" ? text : JSON.parse(text)) as T;
}

const create = (api: RunningApiServer, tenant: { slug: string; secret: string }, meetingId: string) =>
  get(signedUrl(api, tenant, "create", { meetingID: meetingId, name: meetingId, moderatorPW: "mod", attendeePW: "att" }));

const joinAnswer = (api: RunningApiServer, tenant: { slug: string; secret: string }, meetingId: string) =>
  get(signedUrl(api, tenant, "join", { meetingID: meetingId, fullName: "Ada", role: "VIEWER", redirect: "false" }));

const switched = (processes: readonly LiveConfig[], text: string) => () => processes.every((live) => live.current().id === versionId(text));

function metricValue(metrics: string, name: string): number {
  const line = metrics.split("\n").find((entry) => entry.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

describe("a config file updated in place", () => {
  it("is taken into service when the kubelet swaps the ..data symlink of the mounted Secret", async () => {
    const { sim, volume } = await startFleet();
    const { logger, lines } = capturingLogger();
    const live = await watchedConfig(volume.file, logger);
    const changed = renderBalancerConfigFile(changedConfig(sim));
    await volume.update(changed);
    await waitFor(switched([live], changed), "the new version in service");
    expect(live.current().directory.tenants.has("initech")).toBe(true);
    expect(lines.find((line) => line["msg"] === "config reloaded: new requests and polls use it")).toMatchObject({ tenantsAdded: ["initech"], nodesAdded: ["n3"] });
  });

  it("is taken into service when a plain file is overwritten, as on a host without Kubernetes", async () => {
    const { sim } = await startFleet();
    const dir = await mkdtemp(join(tmpdir(), "mediaplane-config-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "balancer.yaml");
    await writeFile(file, renderBalancerConfigFile(baseConfig(sim)));
    const live = await watchedConfig(file, capturingLogger().logger);
    const changed = renderBalancerConfigFile(changedConfig(sim));
    await writeFile(file, changed);
    await waitFor(switched([live], changed), "the new version in service");
  });
});

describe("a valid config change", () => {
  it("reaches both API replicas and the poller, and no request made meanwhile fails", async () => {
    const { sim, volume, redisUrl } = await startFleet();
    const { logger } = capturingLogger();
    const replicas = [await startReplica(volume.file, redisUrl, logger), await startReplica(volume.file, redisUrl, logger)];
    const pollerConfig = await watchedConfig(volume.file, logger);
    startWatchedPoller(pollerConfig, logger);
    // Creates take a while at the node, so many are in flight at the moment of the swap.
    for (const id of ["n1", "n2"]) sim.node(id).setLatency(60, "create");

    // Joins go to meetings polled before the load: a join racing the poll that first sees its meeting is not
    // what this test is about.
    const steady = Array.from({ length: 6 }, (_, w) => `steady-${w}`);
    for (const meetingId of steady) expect(field((await create(replicas[0]!.api, globex, meetingId)).body, "returncode")).toBe("SUCCESS");
    await waitFor(async () => Number((await redis!.hget(keys.node("default", "n1"), "meetings")) ?? 0) + Number((await redis!.hget(keys.node("default", "n2"), "meetings")) ?? 0) === steady.length, "the meetings polled");

    const failures: string[] = [];
    let answered = 0;
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const api = replicas[(w + i) % 2]!.api;
        const meetingId = `load-${w}-${i}`;
        const created = await create(api, globex, meetingId);
        const joined = await joinAnswer(replicas[(w + i + 1) % 2]!.api, globex, steady[w]!);
        for (const [call, answer] of [["create", created], ["join", joined]] as const) {
          if (field(answer.body, "returncode") !== "SUCCESS") failures.push(`${call} ${meetingId}: ${field(answer.body, "messageKey") ?? answer.body}`);
        }
        answered += 2;
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    await waitFor(() => answered >= 30, "load under way");

    const changed = renderBalancerConfigFile(changedConfig(sim));
    const before = answered;
    await volume.update(changed);
    await waitFor(switched([...replicas.map((replica) => replica.live), pollerConfig], changed), "every process on the new version");
    await waitFor(() => answered >= before + 30, "load after the swap");
    stop = true;
    await Promise.all(workers);
    expect(failures).toEqual([]);

    for (const { api } of replicas) {
      // The new tenant places on its own cluster's node; the rotated secret is the only one of acme's that verifies.
      const created = await create(api, initech, `first-${api.port}`);
      expect(field(created.body, "returncode")).toBe("SUCCESS");
      expect(await redis!.hget(keys.meetings("initech"), `first-${api.port}`)).toBe("n3");
      expect(field((await create(api, newAcme, `rotated-${api.port}`)).body, "returncode")).toBe("SUCCESS");
      expect(field((await create(api, oldAcme, `stale-${api.port}`)).body, "messageKey")).toBe("checksumError");
    }
    // The poller polls the new node and records it in its cluster.
    await waitFor(async () => (await redis!.hget(keys.node("big", "n3"), "health")) === "healthy", "n3 polled");
  });

  it("lets a request that started on the old version finish on it, node calls made after the swap included", async () => {
    const { sim, volume, redisUrl } = await startFleet();
    const { logger } = capturingLogger();
    const replica = await startReplica(volume.file, redisUrl, logger);
    // The create goes to n1 first (n2 looks busier), n1 hangs past its timeout, and the create moves on to n2
    // after the swap: it must still reach n2 with the clients of the version it started on.
    await redis!.zadd(keys.pool("default"), 1_000, "n2");
    sim.node("n1").setFailure("hang");
    const straddling = create(replica.api, oldAcme, "straddles-the-swap");
    await waitFor(async () => (await redis!.hget(keys.creating("acme"), "straddles-the-swap"))?.startsWith("n1"), "the create sent to n1");
    const changed = renderBalancerConfigFile(changedConfig(sim));
    await volume.update(changed);
    await waitFor(switched([replica.live], changed), "the new version in service");
    const answer = await straddling;
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(await redis!.hget(keys.meetings("acme"), "straddles-the-swap")).toBe("n2");
    // Requests from now on are the new version's: the secret the straddling create was signed with is gone.
    expect(field((await create(replica.api, oldAcme, "after")).body, "messageKey")).toBe("checksumError");
  });
});

describe("an invalid config change", () => {
  it("is refused: the old version keeps serving, and the log, the metrics and the admin API report it", async () => {
    const { sim, volume, redisUrl } = await startFleet();
    const { logger, lines } = capturingLogger();
    const replicas = [await startReplica(volume.file, redisUrl, logger), await startReplica(volume.file, redisUrl, logger)];
    const admin = await startAdmin(replicas[0]!.live, redisUrl, logger);
    const serving = replicas[0]!.live.current().id;
    const refusedBefore = metricValue(await adminGet<string>(admin, "/metrics"), 'mediaplane_config_reloads_total{outcome="refused"}') || 0;

    const broken = renderBalancerConfigFile(baseConfig(sim)).replace(nodeSecret("n2"), "short");
    await volume.update(broken);
    const report = await waitFor(async () => {
      const body = await adminGet<ConfigReport>(admin, "/admin/config");
      return body.refused === undefined ? undefined : body;
    }, "the refusal reported");
    expect(report).toEqual({
      file: volume.file,
      version: serving,
      loadedAt: expect.any(String),
      refused: { version: versionId(broken), at: expect.any(String), problem: `${volume.file}: nodes[1].secret: must be at least 16 characters` },
    });
    await waitFor(() => lines.filter((line) => line["msg"] === "config file refused: still serving the previous version").length === 2, "each replica's log line");
    const metrics = await adminGet<string>(admin, "/metrics");
    expect(metricValue(metrics, "mediaplane_config_last_reload_successful")).toBe(0);
    expect(metricValue(metrics, 'mediaplane_config_reloads_total{outcome="refused"}')).toBe(refusedBefore + 2);
    expect(metrics).toContain(`mediaplane_config_info{version="${serving}"} 1`);

    for (const { api, live } of replicas) {
      expect(live.current().id).toBe(serving);
      expect(field((await create(api, oldAcme, `still-${api.port}`)).body, "returncode")).toBe("SUCCESS");
    }

    // Fixed: taken into service, and the report clears.
    const fixed = renderBalancerConfigFile(changedConfig(sim));
    await volume.update(fixed);
    await waitFor(switched(replicas.map((replica) => replica.live), fixed), "the fixed file in service");
    expect(await adminGet<ConfigReport>(admin, "/admin/config")).toEqual({ file: volume.file, version: versionId(fixed), loadedAt: expect.any(String) });
    expect(metricValue(await adminGet<string>(admin, "/metrics"), "mediaplane_config_last_reload_successful")).toBe(1);
  });

  it.each([
    ["not YAML", "tenants: [unclosed", "not valid YAML or JSON"],
    ["a tenant on an unknown cluster", (text: string) => text.replace("- slug: globex", "- slug: globex\n    clusters: [nowhere]"), 'tenants[1].clusters[0]: unknown cluster "nowhere"'],
    ["a policy the schema allows but the balancer cannot apply", (text: string) => `${text}policies:\n  create:\n    meetingID: { mode: block }\n`, "policies.create.meetingID"],
  ] as const)("is refused when it is %s", async (_what, change, problem) => {
    const { sim, volume } = await startFleet();
    const live = await watchedConfig(volume.file, capturingLogger().logger);
    const serving = live.current().id;
    const base = renderBalancerConfigFile(baseConfig(sim));
    await volume.update(typeof change === "string" ? change : change(base));
    const refused = await waitFor(() => live.report().refused, "the refusal");
    expect(refused.problem).toContain(problem);
    expect(live.current().id).toBe(serving);
  });

  it("is reported once, and no longer once the file is put back as it was", async () => {
    const { sim, volume } = await startFleet();
    const { logger, lines } = capturingLogger();
    const live = await watchedConfig(volume.file, logger);
    const good = renderBalancerConfigFile(baseConfig(sim));
    await volume.update("tenants: []\n");
    await waitFor(() => live.report().refused, "the refusal");
    expect(await live.reload()).toBe("unchanged");
    await volume.update(good);
    await waitFor(() => live.report().refused === undefined, "the refusal cleared");
    expect(lines.filter((line) => line["msg"] === "config file refused: still serving the previous version")).toHaveLength(1);
    expect(live.current().id).toBe(versionId(good));
  });
});

describe("the program as its pod runs it", () => {
  it("switches to a new Secret version and refuses a broken one, without a restart", async () => {
    const { sim, volume, redisUrl } = await startFleet();
    const [port, adminPort] = [await freePort(), await freePort()];
    const packageDir = fileURLToPath(new URL("../..", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", join(packageDir, "src/main.ts")], {
      env: { ...process.env, MODE: "api", CONFIG_FILE: volume.file, REDIS_URL: redisUrl, PORT: String(port), LISTEN_HOST: "127.0.0.1", BASE_DOMAIN: "bbb.test", TRUSTED_PROXIES: "127.0.0.1", ADMIN_HOST: "127.0.0.1", ADMIN_PORT: String(adminPort), ADMIN_TOKEN: adminToken },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    cleanups.push(async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    });
    const admin = { url: `http://127.0.0.1:${adminPort}` } as RunningAdminServer;
    const api = { url: `http://127.0.0.1:${port}` } as RunningApiServer;
    await waitFor(() => output.includes("admin server listening"), "the program started", 20_000).catch((error: Error) => {
      throw new Error(`${error.message}:\n${output}`);
    });

    const changed = renderBalancerConfigFile(changedConfig(sim));
    await volume.update(changed);
    await waitFor(async () => (await adminGet<ConfigReport>(admin, "/admin/config")).version === versionId(changed), "the new version in service");
    expect(field((await create(api, initech, "after-the-switch")).body, "returncode")).toBe("SUCCESS");

    await volume.update(changed.replace(nodeSecret("n3"), "short"));
    const report = await waitFor(async () => (await adminGet<ConfigReport>(admin, "/admin/config")).refused, "the refusal");
    expect(report.problem).toBe(`${volume.file}: nodes[2].secret: must be at least 16 characters`);
    expect(field((await create(api, initech, "still-served")).body, "returncode")).toBe("SUCCESS");
    expect(output).toContain("config file refused: still serving the previous version");
    expect(child.exitCode).toBeNull();
  });
});
