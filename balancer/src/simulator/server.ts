import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ApiAnswer, ApiRequest } from "./api.js";
import type { SimulatedNodeState } from "./node.js";
import { parseForm } from "./params.js";
import { clientPageHtml, versionXml } from "./responses.js";
import { xmlContentType } from "./xml.js";

/** bbb's nginx caps API bodies (preloaded slides inline) at a few megabytes. */
const maxBodyBytes = 4 * 1024 * 1024;

const versionDocument = Buffer.from(versionXml());

class BodyTooLarge extends Error {}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  response.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-cache", "Content-Length": Buffer.byteLength(body) });
  response.end(body);
}

function sendAnswer(response: ServerResponse, answer: ApiAnswer): void {
  if (answer.kind === "redirect") {
    response.writeHead(302, { Location: answer.location, "Content-Length": 0 });
    response.end();
    return;
  }
  send(response, 200, xmlContentType, answer.body);
}

/** One HTTP server for many nodes, each under its own path prefix `/<id>/`. */
export class SimulatorServer {
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly server: Server;

  constructor(private readonly nodesById: ReadonlyMap<string, SimulatedNodeState>) {
    this.server = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        if (!response.headersSent) send(response, 500, "text/plain;charset=utf-8", "simulator error");
        else response.destroy(error instanceof Error ? error : undefined);
      });
    });
    // Pollers open thousands of keep-alive connections; the defaults would reap them mid-benchmark.
    this.server.keepAliveTimeout = 65_000;
    this.server.maxRequestsPerSocket = 0;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Hanging requests and idle keep-alive sockets would otherwise hold close() open forever.
    this.server.closeAllConnections();
    await closed;
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = request.url ?? "/";
    const queryAt = target.indexOf("?");
    const path = queryAt === -1 ? target : target.slice(0, queryAt);
    const rawQuery = queryAt === -1 ? "" : target.slice(queryAt + 1);
    const slashAt = path.indexOf("/", 1);
    const encodedId = path.slice(1, slashAt === -1 ? undefined : slashAt);
    const rest = slashAt === -1 ? "" : path.slice(slashAt);
    let nodeId: string;
    try {
      nodeId = decodeURIComponent(encodedId);
    } catch {
      nodeId = encodedId;
    }
    const node = this.nodesById.get(nodeId);
    if (node === undefined) {
      send(response, 404, "text/plain;charset=utf-8", "no such node");
      return;
    }

    if (droppedBy(node, request)) return;
    const bodyReading = request.method === "GET" || request.method === "HEAD" ? Promise.resolve(undefined) : readBody(request);
    let body: string | undefined;
    try {
      [body] = await Promise.all([bodyReading, this.delay(node.latencyFor(rest.replace(/^\/bigbluebutton\/api\/?/, "")))]);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        // The rest of the body is still on its way: this connection cannot carry another request.
        // Node may have detached the socket already (it is then closing anyway): typed non-null, but can be null.
        const socket = request.socket as Socket | null;
        response.shouldKeepAlive = false;
        response.once("finish", () => socket?.destroy());
        send(response, 413, "text/plain;charset=utf-8", "request body too large");
        return;
      }
      throw error;
    }
    // The knob may have been turned while this request waited out its latency.
    if (droppedBy(node, request)) return;
    if (node.failure === "error500") {
      send(response, 500, "text/html;charset=utf-8", "<html><body><h1>500 Internal Server Error</h1></body></html>");
      return;
    }
    if (node.failure === "garbage") {
      send(response, 200, xmlContentType, "<respo\u0000nse><returncode>SUCC<<not xml");
      return;
    }

    if (rest === "/bigbluebutton/api" || rest === "/bigbluebutton/api/") {
      send(response, 200, xmlContentType, versionDocument);
    } else if (rest.startsWith("/bigbluebutton/api/")) {
      sendAnswer(response, node.answer(apiRequest(request, rest.slice("/bigbluebutton/api/".length), rawQuery, body)));
    } else if (rest === "/b3lb/load") {
      send(response, 200, "text/plain;charset=utf-8", String(node.cpu));
    } else if (rest === "/html5client/join") {
      const sessionToken = new URLSearchParams(rawQuery).get("sessionToken") ?? "";
      send(response, 200, "text/html;charset=utf-8", clientPageHtml(node.id, sessionToken));
    } else {
      send(response, 404, "text/plain;charset=utf-8", "not found");
    }
  }
}

/** Whether a down or hanging node swallows the request (a reset connection, or no answer at all). */
function droppedBy(node: SimulatedNodeState, request: IncomingMessage): boolean {
  if (node.failure === "down") request.socket.destroy();
  return node.failure === "down" || node.failure === "hang";
}

function apiRequest(request: IncomingMessage, call: string, rawQuery: string, body: string | undefined): ApiRequest {
  const contentType = request.headers["content-type"];
  const formBody = body !== undefined && contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded") === true;
  const params = parseForm(rawQuery);
  if (formBody) {
    // As a servlet's parameter map: the query's values come first, so they win for a name given twice.
    for (const [name, value] of Object.entries(parseForm(body))) if (!Object.hasOwn(params, name)) params[name] = value;
  }
  return {
    call,
    method: request.method ?? "GET",
    rawQuery,
    params,
    formBody,
    ...(contentType === undefined ? {} : { contentType }),
    ...(body === undefined || body === "" ? {} : { body }),
  };
}
