import { createHash } from "node:crypto";
import type Koa from "koa";
import { isStateVerb, type StateVerb } from "../../fleet/nodeState.js";
import type { NodeEntry } from "../../tenancy/directory.js";
import type { AdminDeps } from "../adminApp.js";
import { recordAction } from "../auditLog.js";
import { changeNodeStateAs, endMeetingAs, type OperatorDeps } from "../operatorActions.js";
import { consoleAsset } from "./assets.js";
import { cookieHeader, loginCookie, readCookie, sessionCookie } from "./cookies.js";
import { FormError, readForm } from "./form.js";
import type { SafeHtml } from "./html.js";
import { consoleBase, consolePage, type ConsolePage } from "./layout.js";
import { loadFleetView, parseFleetQuery, renderFleet, renderFleetToolbar, renderNodeConfirmation } from "./fleetPage.js";
import { renderLoginPage, renderRefusal } from "./loginPage.js";
import { loadMeetingRows, parseMeetingsQuery, renderEndConfirmation, renderMeetings, renderMeetingsToolbar } from "./meetingsPage.js";
import { consoleSecurityHeaders } from "./securityHeaders.js";
import { closeSession, newSecretToken, openSession, readSession, secretsMatch, sessionTtlSeconds, type ConsoleSession } from "./session.js";
import { loadTenantRows, renderTenants } from "./tenantsPage.js";

/** How often pages ask for fresh data: a poll interval of the fleet is seconds, so is the operator's view. */
const refreshMs = 2_000;

/**
 * Sets the answer's ETag, and answers 304 when the request already holds it. Koa's `ctx.fresh` cannot serve here:
 * it treats every request with `Cache-Control: no-cache` as a reload, and fetch() sends exactly that with any
 * `If-None-Match` it is given, so the live refresh would never see a 304.
 */
export function answerUnchanged(ctx: Koa.Context, etag: string): void {
  const quoted = `"${etag}"`;
  ctx.set("ETag", quoted);
  const held = ctx.get("if-none-match").split(",").map((tag) => tag.trim().replace(/^W\//, ""));
  if (held.includes(quoted)) {
    ctx.status = 304;
    ctx.body = null;
  }
}

/** A browser names the page a form was posted from in `Origin`; a request without one is not a cross-site form post. */
function sameOriginOrNone(origin: string, host: string): boolean {
  if (origin === "") return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

const operatorName = /^[\p{L}\p{N} ._@'-]{1,64}$/u;

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new Refusal(400, "Bad request", "malformed path");
  }
}

/** The console's pages, forms and files under `/admin/console/`, behind a login with the admin token. */
export function createConsoleHandler(deps: AdminDeps): (ctx: Koa.Context) => Promise<void> {
  const operator: OperatorDeps = deps;

  function page(ctx: Koa.Context, body: SafeHtml, status = 200): void {
    ctx.status = status;
    ctx.type = "text/html; charset=utf-8";
    ctx.body = body.markup;
  }

  /** A data page answers 304 while its content is what the browser already has: the live refresh's ETag. */
  function livePage(ctx: Koa.Context, body: SafeHtml): void {
    page(ctx, body);
    answerUnchanged(ctx, createHash("sha256").update(body.markup).digest("base64url").slice(0, 27));
  }

  function frame(session: ConsoleSession, pageName: ConsolePage, toolbar?: SafeHtml) {
    return { page: pageName, operator: session.operator, csrfToken: session.csrfToken, refreshMs, ...(toolbar === undefined ? {} : { toolbar }) };
  }

  async function currentSession(ctx: Koa.Context, token: string): Promise<{ id: string; session: ConsoleSession } | undefined> {
    const id = readCookie(ctx.get("cookie"), sessionCookie.name);
    if (id === undefined) return undefined;
    const session = await readSession(deps.redis, token, id);
    return session === undefined ? undefined : { id, session };
  }

  /** Every state-changing request: a form from this console's origin carrying the session's CSRF token. */
  async function checkedForm(ctx: Koa.Context, session: ConsoleSession): Promise<URLSearchParams> {
    if (!sameOriginOrNone(ctx.get("origin"), ctx.host)) throw new Refusal(403, "Refused", "the request came from another site");
    const form = await readForm(ctx.req);
    if (!secretsMatch(form.get("csrf") ?? "", session.csrfToken)) throw new Refusal(403, "Refused", "missing or wrong CSRF token: reload the page and try again");
    return form;
  }

  const who = (ctx: Koa.Context, session: ConsoleSession): string => `${session.operator} (console, ${ctx.ip})`;

  function knownNode(id: string): NodeEntry {
    const node = deps.directory.nodes.get(id);
    if (node === undefined) throw new Refusal(404, "Not found", `unknown node "${id}"`);
    return node;
  }

  function knownVerb(verb: string): StateVerb {
    if (!isStateVerb(verb)) throw new Refusal(404, "Not found", `unknown action "${verb}"`);
    return verb;
  }

  async function login(ctx: Koa.Context, token: string): Promise<void> {
    if (ctx.method === "GET") {
      const nonce = newSecretToken();
      ctx.set("Set-Cookie", cookieHeader(loginCookie, nonce, 600));
      page(ctx, renderLoginPage(nonce));
      return;
    }
    const form = await readForm(ctx.req);
    const nonce = form.get("nonce") ?? "";
    const expectedNonce = readCookie(ctx.get("cookie"), loginCookie.name);
    const retry = (status: number, problem: string): void => {
      const fresh = newSecretToken();
      ctx.set("Set-Cookie", cookieHeader(loginCookie, fresh, 600));
      page(ctx, renderLoginPage(fresh, problem), status);
    };
    if (expectedNonce === undefined || !secretsMatch(nonce, expectedNonce)) return retry(403, "The login form expired or came from elsewhere: try again.");
    const name = (form.get("operator") ?? "").trim();
    if (!operatorName.test(name)) return retry(400, "Give your name (letters, digits, spaces, . _ @ ' -; up to 64): the action log records who acted.");
    if (!secretsMatch(form.get("token") ?? "", token)) {
      deps.logger.warn({ operator: name, ip: ctx.ip }, "console login refused: wrong token");
      return retry(401, "Wrong admin token.");
    }
    const sessionId = await openSession(deps.redis, token, name);
    await recordAction(deps.redis, { at: new Date().toISOString(), who: `${name} (console, ${ctx.ip})`, action: "log in", target: "console", outcome: "session opened" });
    ctx.set("Set-Cookie", [cookieHeader(sessionCookie, sessionId, sessionTtlSeconds), cookieHeader(loginCookie, "", 0)]);
    ctx.redirect(`${consoleBase}/fleet`);
    ctx.status = 303;
  }

  async function signedIn(ctx: Koa.Context, path: string, current: { id: string; session: ConsoleSession }): Promise<void> {
    const { session } = current;
    const get = ctx.method === "GET" || ctx.method === "HEAD";
    const post = ctx.method === "POST";
    if (path === "" || path === "/") {
      ctx.redirect(`${consoleBase}/fleet`);
      return;
    }
    if (path === "/logout" && post) {
      await checkedForm(ctx, session);
      await closeSession(deps.redis, current.id);
      await recordAction(deps.redis, { at: new Date().toISOString(), who: who(ctx, session), action: "log out", target: "console", outcome: "session closed" });
      ctx.set("Set-Cookie", cookieHeader(sessionCookie, "", 0));
      ctx.redirect(`${consoleBase}/login`);
      ctx.status = 303;
      return;
    }
    if (path === "/fleet" && get) {
      const query = parseFleetQuery(new URLSearchParams(ctx.querystring));
      const view = await loadFleetView(deps.redis, deps.config, deps.directory);
      return livePage(ctx, consolePage(frame(session, "fleet", renderFleetToolbar(query)), renderFleet(view, query)));
    }
    if (path === "/tenants" && get) {
      const rows = await loadTenantRows(deps.redis, deps.config, deps.directory);
      return livePage(ctx, consolePage(frame(session, "tenants"), renderTenants(rows)));
    }
    if (path === "/meetings" && get) {
      const query = parseMeetingsQuery(new URLSearchParams(ctx.querystring), deps.directory);
      const rows = await loadMeetingRows(deps.redis, deps.directory, query);
      return livePage(ctx, consolePage(frame(session, "meetings", renderMeetingsToolbar(query, deps.directory)), renderMeetings(rows)));
    }
    const nodeAction = /^\/fleet\/([^/]+)\/([a-z]+)$/.exec(path);
    if (nodeAction !== null && (get || post)) {
      const node = knownNode(decodeSegment(nodeAction[1] ?? ""));
      const verb = knownVerb(nodeAction[2] ?? "");
      if (post) {
        await checkedForm(ctx, session);
        await changeNodeStateAs(operator, node, verb, who(ctx, session));
        ctx.redirect(`${consoleBase}/fleet`);
        ctx.status = 303;
        return;
      }
      const row = (await loadFleetView(deps.redis, deps.config, deps.directory)).rows.find((candidate) => candidate.id === node.id);
      if (row === undefined) throw new Refusal(404, "Not found", `unknown node "${node.id}"`);
      return page(ctx, consolePage(frame(session, "fleet"), renderNodeConfirmation(verb, row, session.csrfToken)));
    }
    const meetingEnd = /^\/meetings\/([^/]+)\/([^/]+)\/end$/.exec(path);
    if (meetingEnd !== null && (get || post)) {
      const tenant = decodeSegment(meetingEnd[1] ?? "");
      const meetingId = decodeSegment(meetingEnd[2] ?? "");
      if (!deps.directory.tenants.has(tenant)) throw new Refusal(404, "Not found", `unknown tenant "${tenant}"`);
      if (post) {
        await checkedForm(ctx, session);
        await endMeetingAs(operator, tenant, meetingId, who(ctx, session));
        ctx.redirect(`${consoleBase}/meetings?tenant=${encodeURIComponent(tenant)}`);
        ctx.status = 303;
        return;
      }
      const row = (await loadMeetingRows(deps.redis, deps.directory, { tenant, text: meetingId })).find((candidate) => candidate.meetingId === meetingId);
      if (row === undefined) throw new Refusal(404, "Not found", `no meeting "${meetingId}" of ${tenant} now`);
      return page(ctx, consolePage(frame(session, "meetings"), renderEndConfirmation(row, session.csrfToken)));
    }
    throw new Refusal(404, "Not found", "no such page");
  }

  return async (ctx) => {
    for (const [name, value] of Object.entries(consoleSecurityHeaders)) ctx.set(name, value);
    const path = ctx.path.slice(consoleBase.length);
    try {
      const asset = path.startsWith("/assets/") ? await consoleAsset(path.slice("/assets/".length)) : undefined;
      if (asset !== undefined && (ctx.method === "GET" || ctx.method === "HEAD")) {
        ctx.type = asset.type;
        ctx.set("Cache-Control", "no-cache");
        ctx.body = asset.body;
        answerUnchanged(ctx, asset.etag);
        return;
      }
      const token = deps.token;
      if (token === undefined) throw new Refusal(403, "Console disabled", "no ADMIN_TOKEN is configured: the console and the admin API refuse everything");
      if (path === "/login" && (ctx.method === "GET" || ctx.method === "POST")) return await login(ctx, token);
      const current = await currentSession(ctx, token);
      if (current === undefined) {
        if (ctx.method === "GET" && !path.startsWith("/assets/")) {
          ctx.redirect(`${consoleBase}/login`);
          ctx.status = 303;
          return;
        }
        throw new Refusal(401, "Not logged in", "log in with the admin token first");
      }
      await signedIn(ctx, path, current);
    } catch (error) {
      if (error instanceof Refusal) return page(ctx, renderRefusal(error.title, error.message), error.status);
      if (error instanceof FormError) return page(ctx, renderRefusal("Bad request", error.message), 400);
      deps.logger.error({ err: error, path: ctx.path }, "console request failed");
      page(ctx, renderRefusal("Unavailable", "the request could not be completed (is Redis reachable?)"), 503);
    }
  };
}
