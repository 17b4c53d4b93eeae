import { keys } from "./keys.js";
import type { RedisClient } from "./redisClient.js";

interface Lookup {
  readonly meetingId: string;
  readonly resolve: (nodeId: string | null) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Finds the nodes of tenants' live meetings (the `meetings` hash), the one Redis read of a join. Lookups made in
 * the same turn of the event loop share one `HMGET` per tenant: under load, one turn reads many requests off their
 * sockets before any of them waits on Redis, and each would otherwise pay a Redis write, a reply to read and parse,
 * and a command object of its own. The batch goes out when the turn's I/O is done (`setImmediate`), so a lookup
 * waits for nothing but the requests that arrived with it; alone, it is one command as before.
 */
export class MeetingNodeLookups {
  private pending = new Map<string, Lookup[]>();
  private flushScheduled = false;

  constructor(private readonly redis: RedisClient) {}

  nodeOf(tenant: string, meetingId: string): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const lookups = this.pending.get(tenant);
      if (lookups === undefined) this.pending.set(tenant, [{ meetingId, resolve, reject }]);
      else lookups.push({ meetingId, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batches = this.pending;
    this.pending = new Map();
    this.flushScheduled = false;
    for (const [tenant, lookups] of batches) {
      this.redis.hmget(keys.meetings(tenant), ...lookups.map((lookup) => lookup.meetingId)).then(
        (nodeIds) => lookups.forEach((lookup, i) => lookup.resolve(nodeIds[i] ?? null)),
        (error: unknown) => lookups.forEach((lookup) => lookup.reject(error)),
      );
    }
  }
}
