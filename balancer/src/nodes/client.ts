import { Pool } from "undici";
import { signQuery } from "../bbb/checksum.js";
import { bbbErrors } from "../bbb/errors.js";
import { isBbbResponse } from "../bbb/xml.js";
import type { NodeEntry } from "../tenancy/directory.js";

export interface NodeRequestBody {
  contentType: string;
  data: Buffer;
}

export interface NodeClientSettings {
  /** Time for a node to send its answer's headers, and then its body. */
  timeoutMs: number;
}

/** A node's URL for one call, signed with the node's own secret and hash. */
export function signedNodeUrl(node: NodeEntry, callName: string, params: URLSearchParams): string {
  return `${node.apiUrl}${callName}?${signQuery(callName, params.toString(), node.secret, node.checksumAlgorithm)}`;
}

/**
 * Calls BBB nodes over one keep-alive connection pool per node. Every answer is a BBB document or a thrown
 * `serverUnavailable` error: an unreachable, slow or broken node never reaches the tenant as anything else.
 */
export class NodeClients {
  private readonly pools = new Map<string, { pool: Pool; pathPrefix: string }>();

  constructor(
    nodes: Iterable<NodeEntry>,
    private readonly settings: NodeClientSettings,
  ) {
    for (const node of nodes) {
      const url = new URL(node.apiUrl);
      this.pools.set(node.id, {
        pool: new Pool(url.origin, { connections: 64, keepAliveTimeout: 30_000, headersTimeout: settings.timeoutMs, bodyTimeout: settings.timeoutMs }),
        pathPrefix: url.pathname,
      });
    }
  }

  async call(node: NodeEntry, callName: string, params: URLSearchParams, body?: NodeRequestBody): Promise<string> {
    const target = this.pools.get(node.id);
    if (target === undefined) throw bbbErrors.serverUnreachable();
    const query = signQuery(callName, params.toString(), node.secret, node.checksumAlgorithm);
    let text: string;
    try {
      const answer = await target.pool.request({
        method: body === undefined ? "GET" : "POST",
        path: `${target.pathPrefix}${callName}?${query}`,
        headers: body === undefined ? undefined : { "content-type": body.contentType },
        body: body?.data,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      text = await answer.body.text();
      if (answer.statusCode !== 200) throw new Error(`HTTP ${answer.statusCode}`);
    } catch {
      throw bbbErrors.serverUnreachable();
    }
    if (!isBbbResponse(text)) throw bbbErrors.serverUnreachable();
    return text;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.close()));
  }
}
