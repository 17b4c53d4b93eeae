import { TLSSocket } from "node:tls";
import Koa from "koa";
import { type IncomingCall, callLabel, dispatch } from "./api/dispatch.js";
import type { ApiAnswer, ApiContext } from "./api/context.js";
import { BbbError, bbbErrors } from "./bbb/errors.js";
import { failedXml, versionXml, xmlContentType } from "./bbb/xml.js";
import { readBody } from "./http/body.js";
import { handleEndCallback } from "./http/endCallback.js";
import { requestHost, requestOrigin, route, splitRequestTarget, type RequestHeaders } from "./http/route.js";
import type { TrustedProxies } from "./http/trustedProxies.js";
import type { Logger } from "./observability/logger.js";
import { observeApiRequest } from "./observability/metrics.js";

export interface AppDeps {
  context: ApiContext;
  /** Tenants are `<tenant>.<baseDomain>`. */
  baseDomain: string;
  trustedProxies: TrustedProxies;
  logger: Logger;
}

function write(ctx: Koa.Context, answer: ApiAnswer): void {
  switch (answer.kind) {
    case "redirect":
      // Every join ends here: written directly, without Koa's body handling (a type, a text body) a 302 has no use for.
      ctx.res.writeHead(302, { Location: answer.location, "Content-Length": "0" }).end();
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

/** A POST's parameters or XML document, added to its call. */
async function withBody(ctx: Koa.Context, incoming: IncomingCall): Promise<IncomingCall> {
  const body = await readBody(ctx.req);
  if (body.kind === "form") incoming.form = body.params;
  if (body.kind === "xml") incoming.xmlBody = body.body;
  return incoming;
}

/** A node's end callback: 200 when genuine (even if Redis failed: the poller will catch up), else 404. */
async function answerEndCallback(ctx: Koa.Context, deps: AppDeps, rawQuery: string): Promise<void> {
  const genuine = await handleEndCallback(
    { ...deps.context, key: deps.context.endCallback.key, logger: deps.logger },
    new URLSearchParams(rawQuery),
  ).catch((error: unknown) => {
    deps.logger.error({ err: error }, "end callback failed");
    return true;
  });
  ctx.status = genuine ? 200 : 404;
  ctx.body = genuine ? "OK" : "Not Found";
}

/** One BBB API call: its answer, or BBB's XML error for anything thrown; counted by call and result. */
async function answerApiCall(ctx: Koa.Context, deps: AppDeps, headers: RequestHeaders, tenant: string, callName: string, rawQuery: string): Promise<void> {
  const started = performance.now();
  const call = callLabel(callName);
  const tenantLabel = deps.context.directory.tenants.has(tenant) ? tenant : "unknown";
  let result = "success";
  try {
    const incoming: IncomingCall = {
      tenant: deps.context.directory.tenants.get(tenant),
      call: callName,
      rawQuery,
      origin: () => requestOrigin(headers),
    };
    write(ctx, await dispatch(deps.context, ctx.method === "POST" ? await withBody(ctx, incoming) : incoming));
  } catch (thrown) {
    if (!(thrown instanceof BbbError)) deps.logger.error({ err: thrown, tenant: tenantLabel, call }, "request failed");
    const error = thrown instanceof BbbError ? thrown : bbbErrors.internal();
    result = error.messageKey;
    write(ctx, { kind: "xml", body: failedXml(error.messageKey, error.message) });
    // An unread oversize body: do not keep the connection for the rest of it.
    if (!ctx.req.complete) ctx.set("Connection", "close");
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
    const headers: RequestHeaders = {
      host: ctx.get("Host") || undefined,
      forwardedHost: ctx.get("X-Forwarded-Host") || undefined,
      forwardedProto: ctx.get("X-Forwarded-Proto") || undefined,
      encrypted: ctx.req.socket instanceof TLSSocket,
      fromTrustedProxy: deps.trustedProxies.trusts(ctx.req.socket.remoteAddress),
    };
    const { path, rawQuery } = splitRequestTarget(ctx.req.url ?? "/");
    const target = route(requestHost(headers.host, headers.forwardedHost, headers.fromTrustedProxy), path, deps.baseDomain);
    switch (target.kind) {
      case "api":
        return answerApiCall(ctx, deps, headers, target.tenant, target.call, rawQuery);
      case "version":
        return write(ctx, { kind: "xml", body: versionXml });
      case "endCallback":
        return answerEndCallback(ctx, deps, rawQuery);
      case "notFound":
        ctx.status = 404;
        ctx.body = "Not Found";
    }
  });
  return app;
}
