import { keys } from "./keys.js";
import type { RedisClient } from "./redisClient.js";

/**
 * Joins counted on their nodes' loads (Scalelite bumps a node per join), so a burst of joins to one node does not
 * keep drawing new meetings to it; the next poll sets the load to what the node reports. A node out of the pool
 * stays out (`XX`).
 *
 * Off the join's path: a join is answered once its node is found, and the charges of one turn of the event loop
 * go to Redis together, summed per node, when that turn is over. Awaited in the join, each charge was a second
 * Redis round trip before every redirect. The load is advisory (placement reads it; the poller overwrites it), so
 * a charge Redis refuses is reported, not retried.
 */
export class JoinCharges {
  private pending = new Map<string, { readonly cluster: string; readonly nodeId: string; cost: number }>();
  private flushScheduled = false;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly onFailure: (error: unknown, charges: number) => void,
  ) {}

  charge(node: { readonly id: string; readonly cluster: string }, cost: number): void {
    if (cost <= 0) return;
    // Node and cluster names are DNS labels and config names: neither holds a newline.
    const key = `${node.cluster}\n${node.id}`;
    const pending = this.pending.get(key);
    if (pending === undefined) this.pending.set(key, { cluster: node.cluster, nodeId: node.id, cost });
    else pending.cost += cost;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Resolves once every charge made so far has reached Redis, or failed (before the connection is closed). */
  async settled(): Promise<void> {
    if (this.flushScheduled) this.flush();
    await Promise.all(this.inFlight);
  }

  private flush(): void {
    const charges = [...this.pending.values()];
    this.pending = new Map();
    this.flushScheduled = false;
    if (charges.length === 0) return;
    // Sent in one turn, so an auto-pipelining client writes them to Redis at once.
    const sent = Promise.all(charges.map(({ cluster, nodeId, cost }) => this.redis.zadd(keys.pool(cluster), "XX", "INCR", cost, nodeId))).then(
      () => undefined,
      (error: unknown) => this.onFailure(error, charges.length),
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }
}
