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
  /** Time to connect to a node, for it to send its answer's headers, and then its body. */
  timeoutMs: number;
}

/** A node's URL for one call, signed with the node's own secret and hash. */
export function signedNodeUrl(node: NodeEntry, callName: string, params: URLSearchParams): string {
  return `${node.apiUrl}${callName}?${signQuery(callName, params.toString(), node.secret, node.checksumAlgorithm)}`;
}

/**
 * Calls to one node are rare next to joins (a create, an end, a poll): a few connections carry them, and more
 * would only hold sockets and memory on both ends.
 */
const connectionsPerNode = 4;
/**
 * Idle sockets to a node are closed after this, whatever the node's `Keep-Alive` hint says: a fleet of thousands
 * of nodes must not cost the balancer a socket and its buffers per node between polls.
 */
const idleSocketMs = 4_000;

interface NodeTarget {
  readonly origin: string;
  readonly pathPrefix: string;
  /** Created on the first call, so a node never called costs nothing. */
  pool: Pool | undefined;
}

/**
 * Calls BBB nodes over a small keep-alive connection pool per node. Every answer is a BBB document or a thrown
 * `serverUnavailable` error: an unreachable, slow or broken node never reaches the tenant as anything else.
 */
export class NodeClients {
  private readonly targets = new Map<string, NodeTarget>();

  constructor(
    nodes: Iterable<NodeEntry>,
    private readonly settings: NodeClientSettings,
  ) {
    for (const node of nodes) {
      const url = new URL(node.apiUrl);
      this.targets.set(node.id, { origin: url.origin, pathPrefix: url.pathname, pool: undefined });
    }
  }

  private poolOf(target: NodeTarget): Pool {
    target.pool ??= new Pool(target.origin, {
      connections: connectionsPerNode,
      keepAliveTimeout: idleSocketMs,
      keepAliveMaxTimeout: idleSocketMs,
      connectTimeout: this.settings.timeoutMs,
      headersTimeout: this.settings.timeoutMs,
      bodyTimeout: this.settings.timeoutMs,
    });
    return target.pool;
  }

  async call(node: NodeEntry, callName: string, params: URLSearchParams, body?: NodeRequestBody): Promise<string> {
    const target = this.targets.get(node.id);
    if (target === undefined) throw bbbErrors.serverUnreachable();
    const query = signQuery(callName, params.toString(), node.secret, node.checksumAlgorithm);
    let text: string;
    try {
      // The pool's connect, headers and body timeouts bound the call: no timer of its own per call.
      const answer = await this.poolOf(target).request({
        method: body === undefined ? "GET" : "POST",
        path: `${target.pathPrefix}${callName}?${query}`,
        headers: body === undefined ? undefined : { "content-type": body.contentType },
        body: body?.data,
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
    const pools = [...this.targets.values()].flatMap(({ pool }) => (pool === undefined ? [] : [pool]));
    await Promise.all(pools.map((pool) => pool.close()));
  }
}
