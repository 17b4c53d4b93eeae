import { keys } from "./keys.js";
import type { RedisClient } from "./redisClient.js";

interface Lookup {
  readonly meetingId: string;
  readonly resolve: (nodeId: string | null) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Finds the nodes of tenants' live meetings (the `meetings` hash), the one Redis read of a join. Lookups are sent
 * in batches, one `HMGET` per tenant: a batch goes out when the event loop's turn has read its requests off their
 * sockets (`setImmediate`), and while one batch is at Redis the next one gathers, to go out when its answer is in.
 * Under load each join would otherwise pay a Redis write (on a busy host, waking another process is among the
 * costliest things a request does), a reply to read and parse, and a command object of its own; batches grow
 * with the load by themselves, and a lookup alone waits for nothing (one command, as without batching).
 */
export class MeetingNodeLookups {
  private pending = new Map<string, Lookup[]>();
  private flushScheduled = false;
  private batchInFlight = false;

  constructor(private readonly redis: RedisClient) {}

  nodeOf(tenant: string, meetingId: string): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const lookups = this.pending.get(tenant);
      if (lookups === undefined) this.pending.set(tenant, [{ meetingId, resolve, reject }]);
      else lookups.push({ meetingId, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.batchInFlight || this.pending.size === 0) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    const batches = this.pending;
    this.pending = new Map();
    this.flushScheduled = false;
    this.batchInFlight = true;
    const answered = [...batches].map(([tenant, lookups]) =>
      this.redis.hmget(keys.meetings(tenant), ...lookups.map((lookup) => lookup.meetingId)).then(
        (nodeIds) => lookups.forEach((lookup, i) => lookup.resolve(nodeIds[i] ?? null)),
        (error: unknown) => lookups.forEach((lookup) => lookup.reject(error)),
      ),
    );
    void Promise.all(answered).then(() => {
      this.batchInFlight = false;
      this.scheduleFlush();
    });
  }
}
