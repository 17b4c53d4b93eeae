import { once } from "node:events";
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, sep } from "node:path";
import { cookieHeader, readCookie } from "../admin/console/cookies.js";
import { closeGracefully } from "../http/shutdown.js";
import { requestHost } from "../http/route.js";
import type { TrustedProxies } from "../http/trustedProxies.js";
import type { Logger } from "../observability/logger.js";
import { recordingTenant } from "../recordings/index.js";
import { formatDirectory } from "../recordings/share.js";
import type { RedisClient } from "../store/redisClient.js";
import type { Directory } from "../tenancy/directory.js";
import { parsePlaybackPath, type PlaybackPath } from "./paths.js";
import { playbackCookieName, tokenParameter, verifyPlaybackToken } from "./token.js";

/**
 * The `playback` mode: recordings' playback files from the share, mounted read-only, on the tenants' hosts in the
 * paths BBB's players use (`paths.ts`). Only published recordings, only on their own tenant's host. A tenant with
 * `protectedPlayback` gets files only for a request with a valid token for that recording (`?token=`, from
 * getRecordings) or the cookie the first such request set, scoped to that recording's files; anything else is 403.
 */

export interface PlaybackServerOptions {
  readonly shareRoot: string;
  /** The bbb-playback build (`/var/bigbluebutton/playback/presentation/2.3` of a node); unset: no player page. */
  readonly playerDir?: string | undefined;
  readonly redis: RedisClient;
  readonly directory: Directory;
  readonly baseDomain: string;
  readonly trustedProxies: TrustedProxies;
  /** Signs and checks playback tokens (`links.ts`: `playbackKey`). */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  readonly shutdownGraceMs: number;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

export interface RunningPlaybackServer {
  readonly port: number;
  close(): Promise<void>;
}

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".xml": "application/xml",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webm": "video/webm",
  ".mp4": "video/mp4",
  ".m4a": "audio/mp4",
  ".ogg": "audio/ogg",
  ".vtt": "text/vtt; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

class Refusal extends Error {
  constructor(readonly status: 403 | 404) {
    super(status === 403 ? "Forbidden" : "Not Found");
  }
}

/** Where a recording's files are served from, for the cookie's scope. */
const filesPrefix = (format: string, recordId: string): string => (format === "video" ? `/playback/video/${recordId}/` : `/presentation/${recordId}/`);

/** A file inside `root`, symlinks resolved: anything leading out of it (or not a plain file) is unknown. */
async function fileWithin(root: string, segments: readonly string[]): Promise<{ path: string; size: number }> {
  try {
    const realRoot = await realpath(root);
    const path = await realpath(join(realRoot, ...segments));
    if (!path.startsWith(realRoot + sep)) throw new Refusal(404);
    const info = await stat(path);
    if (!info.isFile()) throw new Refusal(404);
    return { path, size: info.size };
  } catch (error) {
    if (error instanceof Refusal) throw error;
    throw new Refusal(404);
  }
}

/** One `bytes=a-b` range (the players' seeking); anything else is the whole file. */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header ?? "");
  if (match === null || (match[1] === "" && match[2] === "")) return undefined;
  const start = match[1] === "" ? Math.max(0, size - Number(match[2])) : Number(match[1]);
  const end = match[1] === "" || match[2] === "" ? size - 1 : Math.min(size - 1, Number(match[2]));
  return start <= end ? { start, end } : undefined;
}

function sendFile(request: IncomingMessage, response: ServerResponse, file: { path: string; size: number }, headers: Record<string, string>): void {
  const range = byteRange(request.headers.range, file.size);
  const type = contentTypes[extname(file.path).toLowerCase()] ?? "application/octet-stream";
  const common = { ...headers, "content-type": type, "accept-ranges": "bytes", "x-content-type-options": "nosniff" };
  if (range === undefined) {
    response.writeHead(200, { ...common, "content-length": String(file.size) });
  } else {
    response.writeHead(206, { ...common, "content-length": String(range.end - range.start + 1), "content-range": `bytes ${range.start}-${range.end}/${file.size}` });
  }
  if (request.method === "HEAD") {
    response.end();
    return;
  }
  createReadStream(file.path, range ?? {}).on("error", () => response.destroy()).pipe(response);
}

export async function startPlaybackServer(options: PlaybackServerOptions): Promise<RunningPlaybackServer> {
  const now = options.now ?? Date.now;

  /** The recording's tenant, if it is published and the request came to that tenant's host. */
  async function owningTenant(request: IncomingMessage, recordId: string): Promise<string> {
    const tenant = await recordingTenant(options.redis, recordId);
    const fromProxy = options.trustedProxies.trusts(request.socket.remoteAddress);
    const host = requestHost(request.headers.host, request.headers["x-forwarded-host"] as string | undefined, fromProxy);
    if (tenant === undefined || host !== `${tenant}.${options.baseDomain}`) throw new Refusal(404);
    return tenant;
  }

  /**
   * Whether a protecting tenant's request may have this recording's files: a valid token (then the cookie is set
   * for the recording's files) or the cookie. Returns the headers to answer with.
   */
  function access(request: IncomingMessage, tenant: string, recordId: string, format: string): Record<string, string> {
    const protection = options.directory.tenants.get(tenant)?.config.protectedPlayback;
    if (protection === undefined) return {};
    const seconds = Math.floor(now() / 1000);
    const token = new URL(request.url ?? "/", "http://playback").searchParams.get(tokenParameter);
    const cookie = { name: playbackCookieName(recordId), path: filesPrefix(format, recordId) };
    if (token !== null && verifyPlaybackToken(options.key, recordId, token, seconds)) {
      const expiresAt = Number(token.split(".")[0]);
      return { "set-cookie": cookieHeader(cookie, token, expiresAt - seconds), "cache-control": "private, no-store" };
    }
    const kept = readCookie(request.headers.cookie, cookie.name);
    if (kept !== undefined && verifyPlaybackToken(options.key, recordId, kept, seconds)) return { "cache-control": "private, no-store" };
    throw new Refusal(403);
  }

  async function serve(request: IncomingMessage, response: ServerResponse, target: PlaybackPath): Promise<void> {
    if (target.kind === "playerAsset") {
      if (options.playerDir === undefined) throw new Refusal(404);
      return sendFile(request, response, await fileWithin(options.playerDir, target.path), { "cache-control": "public, max-age=3600" });
    }
    const tenant = await owningTenant(request, target.recordId);
    if (target.kind === "player") {
      const headers = access(request, tenant, target.recordId, "presentation");
      if (options.playerDir === undefined) throw new Refusal(404);
      return sendFile(request, response, await fileWithin(options.playerDir, ["index.html"]), headers);
    }
    const headers = access(request, tenant, target.recordId, target.format);
    const root = formatDirectory(options.shareRoot, tenant, "published", target.format, target.recordId);
    return sendFile(request, response, await fileWithin(root, target.path), headers);
  }

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const target = request.method === "GET" || request.method === "HEAD" ? parsePlaybackPath(path) : undefined;
    const answer = (status: number, text: string): void => {
      if (!response.headersSent) response.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(`${text}\n`);
    };
    if (target === undefined) return answer(404, "Not Found");
    serve(request, response, target).catch((error: unknown) => {
      if (error instanceof Refusal) return answer(error.status, error.message);
      options.logger.error({ err: error, path }, "playback request failed");
      answer(503, "Unavailable");
    });
  });
  server.listen(options.port, options.host);
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: () => closeGracefully(server, options.shutdownGraceMs),
  };
}
