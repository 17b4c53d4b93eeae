import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { closeGracefully } from "../http/shutdown.js";
import type { Logger } from "../observability/logger.js";
import { commitUpload, receiveFile, UploadRefusal, type UploadSettings } from "./upload.js";
import { authenticateUpload } from "./uploadAuth.js";

/**
 * The `recording-upload` mode: the endpoint nodes' post-publish hook sends recordings to (docs/recordings.md).
 *   PUT  /_mediaplane/recordings/<format>/<recordID>/files/<path>   one file of the published format directory
 *   POST /_mediaplane/recordings/<format>/<recordID>/commit         the manifest (`sha256sum` output); publishes
 * Every request is signed by the node (uploadAuth.ts). It writes only to the share: the importer indexes.
 */

export const uploadPathPrefix = "/_mediaplane/recordings/";
const maxManifestBytes = 1024 * 1024;

export interface UploadServerOptions extends UploadSettings {
  /** A configured node's secret, `undefined` for any other node ID. */
  readonly nodeSecret: (nodeId: string) => string | undefined;
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  readonly shutdownGraceMs: number;
  readonly now?: () => number;
}

export interface RunningUploadServer {
  readonly port: number;
  close(): Promise<void>;
}

type Route = { kind: "file"; format: string; recordId: string; path: string } | { kind: "commit"; format: string; recordId: string };

function route(method: string, path: string): Route | undefined {
  if (!path.startsWith(uploadPathPrefix)) return undefined;
  const [format, recordId, action, ...rest] = path.slice(uploadPathPrefix.length).split("/");
  if (format === undefined || recordId === undefined) return undefined;
  if (method === "PUT" && action === "files" && rest.length > 0) return { kind: "file", format, recordId, path: rest.join("/") };
  if (method === "POST" && action === "commit" && rest.length === 0) return { kind: "commit", format, recordId };
  return undefined;
}

async function readSmallBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > limit) throw new UploadRefusal(413, `body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new UploadRefusal(400, "the file path is not valid percent-encoding");
  }
}

function answer(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: status >= 400 ? "close" : "keep-alive" });
  response.end(`${text}\n`);
}

export async function startUploadServer(options: UploadServerOptions): Promise<RunningUploadServer> {
  const now = options.now ?? Date.now;
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? "GET";
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const target = route(method, path);
    if (target === undefined) return answer(response, 404, "not an upload path");
    const auth = authenticateUpload(request.headers, method, path, Math.floor(now() / 1000), options.nodeSecret);
    if (!auth.ok) {
      options.logger.warn({ path, reason: auth.reason, node: request.headers["x-mediaplane-node"] }, "recording upload refused");
      return answer(response, 401, auth.reason);
    }
    const upload = { nodeId: auth.nodeId, format: target.format, recordId: target.recordId };
    if (target.kind === "file") {
      await receiveFile(options, upload, decodedPath(target.path), request, auth.contentSha256);
      return answer(response, 200, "stored");
    }
    const manifest = await readSmallBody(request, maxManifestBytes);
    const outcome = await commitUpload(options, upload, manifest);
    options.logger.info({ node: auth.nodeId, tenant: outcome.tenant, recordId: target.recordId, format: target.format, outcome: outcome.kind }, "recording upload committed");
    return answer(response, 200, outcome.kind);
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof UploadRefusal) {
        options.logger.warn({ url: request.url, status: error.status, reason: error.message }, "recording upload refused");
        answer(response, error.status, error.message);
      } else {
        options.logger.error({ err: error, url: request.url }, "recording upload failed");
        answer(response, 500, "the upload could not be stored; retry");
      }
      request.resume();
    });
  });
  server.listen(options.port, options.host);
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: () => closeGracefully(server, options.shutdownGraceMs),
  };
}
