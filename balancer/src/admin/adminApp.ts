import type { RedisClient } from "../store/redisClient.js";
import Koa from "koa";
import type { ConfigReport, ConfigVersion } from "../config/liveConfig.js";
import type { BalancerConfig } from "../config/schema.js";
import type { Versioned } from "../config/versioned.js";
import { nodeMeetings, tenantMeetings } from "../fleet/meetingList.js";
import { isStateVerb, stateVerbs } from "../fleet/nodeState.js";
import type { NodeClients } from "../nodes/client.js";
import type { Logger } from "../observability/logger.js";
import { metrics, registry, setFleetGauges } from "../observability/metrics.js";
import { collectFleetStats } from "../observability/stats.js";
import { recentDuplicates } from "../poller/adopt.js";
import type { Directory } from "../tenancy/directory.js";
import { createConsoleHandler } from "./console/consoleApp.js";
import { consoleBase } from "./console/layout.js";
import { changeNodeStateAs, describeEndOutcome, endMeetingAs } from "./operatorActions.js";
import { bearerTokenMatches } from "./token.js";

/** What one admin request works with: the config version in service when it started, and that version's node clients. */
export interface AdminDeps {
  redis: RedisClient;
  config: BalancerConfig;
  directory: Directory;
  clients: NodeClients;
  /** Bearer token for everything but the probes; without one, admin calls are refused (fail closed). */
  token: string | undefined;
  logger: Logger;
  configReport: () => ConfigReport;
}

export interface ConfigInService {
  version: ConfigVersion;
  clients: NodeClients;
}

export interface AdminAppDeps {
  redis: RedisClient;
  versions: Versioned<ConfigInService>;
  configReport: () => ConfigReport;
  token: string | undefined;
  logger: Logger;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Handler = (ctx: Koa.Context, params: string[]) => Promise<void>;

interface Route {
  method: "GET" | "POST";
  path: RegExp;
  /** Probes answer without the token: kubelet sends none. */
  open?: boolean;
  handle: Handler;
}

/** Redis answers a PING within this, or the process is not ready for traffic. */
const readinessTimeoutMs = 1_000;

async function redisReachable(redis: RedisClient): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), readinessTimeoutMs)));
  try {
    return await Promise.race([redis.ping().then((answer) => answer === "PONG"), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Times one PING for `mediaplane_redis_ping_seconds`; a failed one leaves no sample, so the gap shows. */
async function measureRedisPing(redis: RedisClient): Promise<void> {
  metrics.redisPing.reset();
  const started = performance.now();
  await redis.ping();
  metrics.redisPing.set((performance.now() - started) / 1000);
}

function routes({ redis, config, directory, clients, logger, configReport }: AdminDeps): Route[] {
  const nodeEntry = (id: string) => {
    const node = directory.nodes.get(id);
    if (node === undefined) throw new HttpError(404, `unknown node "${id}"`);
    return node;
  };
  const knownTenant = (slug: string): void => {
    if (!directory.tenants.has(slug)) throw new HttpError(404, `unknown tenant "${slug}"`);
  };
  return [
    {
      method: "GET",
      path: /^\/livez$/,
      open: true,
      handle: async (ctx) => {
        ctx.body = { status: "ok" };
      },
    },
    {
      method: "GET",
      path: /^\/readyz$/,
      open: true,
      handle: async (ctx) => {
        const ready = await redisReachable(redis);
        ctx.status = ready ? 200 : 503;
        ctx.body = { status: ready ? "ready" : "redis unreachable" };
      },
    },
    {
      method: "GET",
      path: /^\/metrics$/,
      handle: async (ctx) => {
        // Counters are this process's; the fleet gauges come from Redis, so any replica reports the whole fleet.
        try {
          await measureRedisPing(redis);
          setFleetGauges(await collectFleetStats(redis, config));
        } catch (error) {
          logger.warn({ err: error }, "fleet gauges not refreshed");
        }
        ctx.type = registry.contentType;
        ctx.body = await registry.metrics();
      },
    },
    {
      method: "GET",
      path: /^\/admin\/config$/,
      handle: async (ctx) => {
        ctx.body = configReport();
      },
    },
    {
      method: "GET",
      path: /^\/admin\/stats$/,
      handle: async (ctx) => {
        ctx.body = await collectFleetStats(redis, config);
      },
    },
    {
      method: "GET",
      path: /^\/admin\/nodes$/,
      handle: async (ctx) => {
        ctx.body = (await collectFleetStats(redis, config)).nodes;
      },
    },
    {
      method: "GET",
      path: /^\/admin\/nodes\/([^/]+)$/,
      handle: async (ctx, [id = ""]) => {
        nodeEntry(id);
        ctx.body = (await collectFleetStats(redis, config)).nodes.find((node) => node.id === id);
      },
    },
    {
      method: "POST",
      path: /^\/admin\/nodes\/([^/]+)\/([a-z]+)$/,
      handle: async (ctx, [id = "", verb = ""]) => {
        const node = nodeEntry(id);
        if (!isStateVerb(verb)) throw new HttpError(404, `unknown action "${verb}" (actions: ${Object.keys(stateVerbs).join(", ")})`);
        ctx.body = await changeNodeStateAs({ redis, clients, directory, logger }, node, verb, `admin API (${ctx.ip})`);
      },
    },
    {
      method: "GET",
      path: /^\/admin\/duplicates$/,
      handle: async (ctx) => {
        ctx.body = await recentDuplicates(redis);
      },
    },
    {
      method: "GET",
      path: /^\/admin\/nodes\/([^/]+)\/meetings$/,
      handle: async (ctx, [id = ""]) => {
        ctx.body = await nodeMeetings(redis, nodeEntry(id));
      },
    },
    {
      method: "GET",
      path: /^\/admin\/tenants\/([^/]+)\/meetings$/,
      handle: async (ctx, [slug = ""]) => {
        knownTenant(slug);
        // The tenant is in the path already; JSON leaves out what a summary did not say.
        ctx.body = (await tenantMeetings(redis, slug)).map(({ meetingId, node, name, attendees }) => ({ meetingId, node, name, attendees }));
      },
    },
    {
      method: "POST",
      path: /^\/admin\/tenants\/([^/]+)\/meetings\/([^/]+)\/end$/,
      handle: async (ctx, [slug = "", meetingId = ""]) => {
        knownTenant(slug);
        const outcome = await endMeetingAs({ redis, clients, directory, logger }, slug, meetingId, `admin API (${ctx.ip})`);
        // Only an end the node accepted (or a node no longer configured) released the mapping.
        if (outcome.kind === "notMapped") throw new HttpError(404, `no meeting "${meetingId}" of ${slug} now`);
        ctx.status = outcome.kind === "failed" ? 502 : 200;
        ctx.body = { tenant: slug, meetingId, outcome: outcome.kind, node: outcome.node, result: describeEndOutcome(outcome) };
      },
    },
  ];
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `malformed path segment "${part}"`);
  }
}

/**
 * The admin HTTP API, on its own port (`ADMIN_PORT`) so the ingress never routes to it; JSON throughout.
 * Probes (`/livez`, `/readyz`) are open; `/metrics` and `/admin/*` need `Authorization: Bearer <ADMIN_TOKEN>`;
 * the operator console (`/admin/console/`) logs in with the same token into a session cookie.
 */
export function createAdminApp(appDeps: AdminAppDeps): Koa {
  const app = new Koa();
  app.use(async (ctx) =>
    appDeps.versions.use(async ({ version, clients }) => {
      const deps: AdminDeps = { ...appDeps, config: version.config, directory: version.directory, clients };
      if (ctx.path === consoleBase || ctx.path.startsWith(`${consoleBase}/`)) return createConsoleHandler(deps)(ctx);
      await answerAdminCall(ctx, deps);
    }),
  );
  return app;
}

async function answerAdminCall(ctx: Koa.Context, deps: AdminDeps): Promise<void> {
  try {
    const path = ctx.path;
    const matches = routes(deps)
      .map((route) => ({ route, match: route.path.exec(path) }))
      .filter(({ match }) => match !== null);
    const found = matches.find(({ route }) => route.method === ctx.method);
    if (matches.length === 0) throw new HttpError(404, "not found");
    if (found === undefined) throw new HttpError(405, `method ${ctx.method} not allowed`);
    if (found.route.open !== true) {
      if (deps.token === undefined) throw new HttpError(403, "admin API disabled: no ADMIN_TOKEN configured");
      if (!bearerTokenMatches(ctx.get("authorization") || undefined, deps.token)) {
        ctx.set("WWW-Authenticate", 'Bearer realm="mediaplane-admin"');
        throw new HttpError(401, "missing or wrong bearer token");
      }
    }
    await found.route.handle(ctx, (found.match ?? []).slice(1).map(decodePathPart));
  } catch (error) {
    if (error instanceof HttpError) {
      ctx.status = error.status;
      ctx.body = { error: error.message };
      return;
    }
    deps.logger.error({ err: error, path: ctx.path }, "admin request failed");
    ctx.status = 503;
    ctx.body = { error: "the request could not be completed (is Redis reachable?)" };
  }
}
