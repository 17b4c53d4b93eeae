import Koa from "koa";
import { callLabel, dispatch } from "./api/dispatch.js";
import type { ApiAnswer, ApiContext } from "./api/context.js";
import { BbbError, bbbErrors } from "./bbb/errors.js";
import type { Versioned } from "./config/versioned.js";
import { failedXml, versionXml, xmlContentType } from "./bbb/xml.js";
import { readBody, readLimited } from "./http/body.js";
import type { CallbackDeliveries } from "./http/delivery.js";
import { handleRecordingCallback } from "./http/recordingCallbacks.js";
import { reindexRecording } from "./recordings/indexing.js";
import type { RecordingCallbackKind } from "./tenancy/recordingCallbacks.js";
import { handleEndCallback } from "./http/endCallback.js";
import { requestHost, route, splitRequestTarget } from "./http/route.js";
import type { TrustedProxies } from "./http/trustedProxies.js";
import type { Logger } from "./observability/logger.js";
import { metrics, observeApiRequest } from "./observability/metrics.js";
import { maxEventPostBytes, type NodeEventOutcome, type NodeEventPost } from "./webhooks/nodeEvents.js";

export interface AppDeps {
  /** The context of the config version in service; each request keeps the one it started with. */
  contexts: Versioned<ApiContext>;
  /** Tenants are `<tenant>.<baseDomain>`. */
  baseDomain: string;
  trustedProxies: TrustedProxies;
  logger: Logger;
  /** Verifies (with the nodes of the request's config version) and relays the events a node's bbb-webhooks posts (`webhooks/nodeEvents.ts`). */
  nodeEvents: (post: NodeEventPost, context: ApiContext) => Promise<NodeEventOutcome>;
  /** Where recording callbacks to tenants' URLs are sent from. */
  callbackDeliveries: CallbackDeliveries;
}

/** A recording-ready form is one JWT; an analytics document grows with the meeting's attendees and polls. */
const callbackBodyLimits: Readonly<Record<RecordingCallbackKind, number>> = { recordingReady: 64 * 1024, analytics: 16 * 1024 * 1024 };

function write(ctx: Koa.Context, answer: ApiAnswer): void {
  // A body left unread (refused before reading, or one the call does not take) is never read: the connection goes.
  const unread = !ctx.req.complete;
  if (unread) ctx.set("Connection", "close");
  switch (answer.kind) {
    case "redirect":
      // Every join ends here: written directly, without Koa's body handling (a type, a text body) a 302 has no use for.
      ctx.res.writeHead(302, unread ? { Location: answer.location, "Content-Length": "0", Connection: "close" } : { Location: answer.location, "Content-Length": "0" }).end();
      ctx.respond = false;
      return;
    case "json":
      ctx.status = 200;
      ctx.type = "application/json";
      ctx.body = answer.body;
      return;
    case "xml":
      ctx.status = 200;
      ctx.set("Content-Type", xmlContentType);
      ctx.body = answer.body;
      return;
    case "preparedXml": {
      const gzip = ctx.acceptsEncodings("gzip", "identity") === "gzip";
      ctx.status = 200;
      ctx.set("Content-Type", xmlContentType);
      ctx.vary("Accept-Encoding");
      if (gzip) ctx.set("Content-Encoding", "gzip");
      ctx.body = gzip ? answer.body.gzipped : answer.body.identity;
    }
  }
}

/** A node's end callback: 200 when genuine (even if Redis failed: the poller will catch up), else 404. */
async function answerEndCallback(ctx: Koa.Context, deps: AppDeps, context: ApiContext, rawQuery: string): Promise<void> {
  const genuine = await handleEndCallback(
    { ...context, key: context.endCallback.key, logger: deps.logger },
    new URLSearchParams(rawQuery),
  ).catch((error: unknown) => {
    deps.logger.error({ err: error }, "end callback failed");
    return true;
  });
  ctx.status = genuine ? 200 : 404;
  ctx.body = genuine ? "OK" : "Not Found";
}

function reindexer(context: ApiContext): ((tenant: string, recordId: string) => Promise<unknown>) | undefined {
  const { shareRoot, logger } = context.recordings;
  if (shareRoot === undefined) return undefined;
  return (tenant, recordId) => reindexRecording({ redis: context.redis, shareRoot, logger }, tenant, recordId);
}

/**
 * A node's recording-ready or analytics callback (POST): 200 when genuine, 404 for anything else (a forged or
 * foreign one), so nothing tells a prober more than an unknown path would.
 */
async function answerRecordingCallback(ctx: Koa.Context, deps: AppDeps, context: ApiContext, kind: RecordingCallbackKind, rawQuery: string): Promise<void> {
  let genuine = false;
  if (ctx.method === "POST") {
    try {
      const body = await readLimited(ctx.req, callbackBodyLimits[kind]);
      genuine = await handleRecordingCallback(
        { directory: context.directory, key: context.endCallback.key, deliveries: deps.callbackDeliveries, logger: deps.logger, now: Date.now, reindex: reindexer(context) },
        kind,
        new URLSearchParams(rawQuery),
        { authorization: ctx.get("Authorization") || undefined, body },
      );
    } catch (error) {
      if (!(error instanceof BbbError)) deps.logger.error({ err: error, kind }, "recording callback failed");
      ctx.set("Connection", "close");
    }
  }
  ctx.status = genuine ? 200 : 404;
  ctx.body = genuine ? "OK" : "Not Found";
}

/**
 * A node's events: 200 once verified and queued for the tenants' hooks; 401 when not the node's own (which
 * bbb-webhooks does not retry); 404 for a node the config does not name. Never the error's details.
 */
async function answerNodeEvents(ctx: Koa.Context, deps: AppDeps, context: ApiContext, nodeId: string, rawQuery: string): Promise<void> {
  let outcome: NodeEventOutcome;
  try {
    const body = ctx.method === "POST" ? (await readLimited(ctx.req, maxEventPostBytes)).toString("utf8") : "";
    outcome = await deps.nodeEvents({ nodeId, rawQuery, authorization: ctx.get("Authorization") || undefined, body }, context);
  } catch (error) {
    if (!(error instanceof BbbError)) deps.logger.error({ err: error, node: nodeId }, "node events not relayed");
    ctx.set("Connection", "close");
    ctx.status = error instanceof BbbError ? 400 : 503;
    ctx.body = error instanceof BbbError ? error.message : "Unavailable";
    return;
  }
  if (outcome.kind === "refused") deps.logger.warn({ node: nodeId, reason: outcome.reason }, "node event refused");
  // A node ID the config does not name is one label, so forged paths cannot grow the label set.
  metrics.nodeEvents.inc({ node: outcome.kind === "unknownNode" ? "unknown" : nodeId, result: outcome.kind });
  ctx.status = outcome.kind === "relayed" ? 200 : outcome.kind === "refused" ? 401 : 404;
  ctx.body = outcome.kind === "relayed" ? "OK" : outcome.kind === "refused" ? "Unauthorized" : "Not Found";
}

/**
 * One BBB API call: its answer, or BBB's XML error for anything thrown; counted by call and result (a join sent
 * to an error page counts as its error).
 */
async function answerApiCall(ctx: Koa.Context, deps: AppDeps, context: ApiContext, tenant: string, callName: string, rawQuery: string): Promise<void> {
  const started = performance.now();
  const call = callLabel(callName);
  const tenantLabel = context.directory.tenants.has(tenant) ? tenant : "unknown";
  let result = "success";
  try {
    const answer = await dispatch(context, {
      tenant: context.directory.tenants.get(tenant),
      call: callName,
      method: ctx.method,
      rawQuery,
      readBody: (use) => readBody(ctx.req, use),
    });
    if (answer.kind === "redirect" && answer.error !== undefined) result = answer.error;
    write(ctx, answer);
  } catch (thrown) {
    if (!(thrown instanceof BbbError)) deps.logger.error({ err: thrown, tenant: tenantLabel, call }, "request failed");
    const error = thrown instanceof BbbError ? thrown : bbbErrors.internal();
    result = error.messageKey;
    write(ctx, { kind: "xml", body: failedXml(error.messageKey, error.message) });
  }
  observeApiRequest({ tenant: tenantLabel, call, result }, (performance.now() - started) / 1000);
}

/**
 * The tenant-facing BBB API as a Koa app. One middleware: route, answer, and turn anything thrown into BBB's
 * XML error (HTTP 200): a client never sees a 500 or a stack trace.
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  // What still reaches Koa (a client hanging up mid-answer) is logged as a line, never printed as a stack.
  app.on("error", (error: unknown) => deps.logger.warn({ err: error }, "connection error"));
  app.use(async (ctx) => {
    const fromTrustedProxy = deps.trustedProxies.trusts(ctx.req.socket.remoteAddress);
    const { path, rawQuery } = splitRequestTarget(ctx.req.url ?? "/");
    const target = route(requestHost(ctx.get("Host") || undefined, ctx.get("X-Forwarded-Host") || undefined, fromTrustedProxy), path, deps.baseDomain);
    switch (target.kind) {
      case "api":
        return deps.contexts.use((context) => answerApiCall(ctx, deps, context, target.tenant, target.call, rawQuery));
      case "version":
        return deps.contexts.use((context) => write(ctx, { kind: "xml", body: versionXml(context.directory.bbbVersion) }));
      case "endCallback":
        return deps.contexts.use((context) => answerEndCallback(ctx, deps, context, rawQuery));
      case "nodeEvents":
        return deps.contexts.use((context) => answerNodeEvents(ctx, deps, context, target.nodeId, rawQuery));
      case "recordingCallback":
        return deps.contexts.use((context) => answerRecordingCallback(ctx, deps, context, target.callback, rawQuery));
      case "notFound":
        ctx.status = 404;
        ctx.body = "Not Found";
    }
  });
  return app;
}
