import { Agent } from "undici";
import { signQuery } from "../bbb/checksum.js";
import { bbbErrors } from "../bbb/errors.js";
import { isBbbResponse } from "../bbb/xml.js";
import type { NodeEntry } from "../tenancy/directory.js";

export interface NodeRequestBody {
  contentType: string;
  data: Buffer;
}

export interface NodeClientSettings {
  /** The longest a call may take, from connecting to the last byte of the answer. */
  timeoutMs: number;
}

export interface NodeCallOptions {
  body?: NodeRequestBody | undefined;
  /** A shorter bound than the client's `timeoutMs` (what is left of a create's budget); never a longer one. */
  timeoutMs?: number | undefined;
}

/** A node's URL for one call, signed with the node's own secret and hash. */
export function signedNodeUrl(node: NodeEntry, callName: string, query: string): string {
  return `${node.apiUrl}${callName}?${signQuery(callName, query, node.secret, node.checksumAlgorithm)}`;
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
}

/**
 * Calls BBB nodes over keep-alive connections, a few per node. One agent serves the whole fleet: it holds a
 * node's connection pool only while that pool has a connection, so a node called once (a create) costs nothing
 * once its sockets have been idle for a few seconds, and the balancer's memory does not grow with the fleet.
 * Every answer is a BBB document or a thrown `serverUnavailable` error: an unreachable, slow or broken node never
 * reaches the tenant as anything else.
 */
export class NodeClients {
  private readonly targets = new Map<string, NodeTarget>();
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(nodes: Iterable<NodeEntry>, settings: NodeClientSettings) {
    for (const node of nodes) {
      const url = new URL(node.apiUrl);
      this.targets.set(node.id, { origin: url.origin, pathPrefix: url.pathname });
    }
    this.timeoutMs = settings.timeoutMs;
    this.agent = new Agent({
      connections: connectionsPerNode,
      keepAliveTimeout: idleSocketMs,
      keepAliveMaxTimeout: idleSocketMs,
      connectTimeout: settings.timeoutMs,
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
    });
  }

  /**
   * `query` is the call's parameters, already encoded; it is signed here with the node's secret. The call ends
   * within its timeout whatever the node does: a node that accepts the connection and then stalls, or trickles its
   * answer a byte at a time, costs no more than one that is down.
   */
  async call(node: NodeEntry, callName: string, query: string, options: NodeCallOptions = {}): Promise<string> {
    const target = this.targets.get(node.id);
    if (target === undefined) throw bbbErrors.serverUnreachable();
    const { body } = options;
    const signed = signQuery(callName, query, node.secret, node.checksumAlgorithm);
    const timeoutMs = Math.min(options.timeoutMs ?? this.timeoutMs, this.timeoutMs);
    if (timeoutMs <= 0) throw bbbErrors.serverUnreachable();
    let text: string;
    try {
      const answer = await this.agent.request({
        origin: target.origin,
        method: body === undefined ? "GET" : "POST",
        path: `${target.pathPrefix}${callName}?${signed}`,
        headers: body === undefined ? undefined : { "content-type": body.contentType },
        body: body?.data,
        signal: AbortSignal.timeout(timeoutMs),
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
    await this.agent.close();
  }
}
