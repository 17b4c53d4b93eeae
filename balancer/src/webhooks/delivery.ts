import { setTimeout as sleep } from "node:timers/promises";
import { Agent } from "undici";
import type { WebhookSettings } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { metrics } from "../observability/metrics.js";
import type { RedisClient } from "../store/redisClient.js";
import type { TenantEntry } from "../tenancy/directory.js";
import { callbackChecksum, eventPostBody, signedCallbackUrl } from "./callbackChecksum.js";
import { guardedLookup, refusedLiteral, type CallbackPolicy } from "./callbackPolicy.js";
import { destroyHook, type StoredHook } from "./hookStore.js";

/**
 * Posts events to tenants' hooks the way bbb-webhooks' CallbackEmitter does (src/out/webhooks/callback-emitter.js):
 * one event per post, signed with the tenant's (first) secret, a 2xx or a 401 is delivered, anything else is
 * tried again after each of `retryIntervalsMs`, and a hook that failed them all is removed. Each hook has its own
 * queue, worked one event at a time in arrival order: a hook that hangs or refuses connections holds up only its
 * own events, never another hook's, and its queue is bounded (oldest dropped first).
 */

interface QueuedEvent {
  readonly eventJson: string;
  readonly timestamp: number;
}

interface HookQueue {
  readonly tenant: TenantEntry;
  readonly hook: StoredHook;
  readonly pending: QueuedEvent[];
  working: boolean;
}

export interface DeliveryDeps {
  readonly redis: RedisClient;
  readonly settings: WebhookSettings;
  readonly policy: CallbackPolicy;
  /** `<tenant>.<baseDomain>` is the `domain` field of a tenant's posts. */
  readonly baseDomain: string;
  readonly logger: Logger;
}

export class HookDeliveries {
  private readonly queues = new Map<string, HookQueue>();
  private readonly agent: Agent;
  /** Aborted by `close`: every wait between retries ends, and no queue goes on. */
  private readonly closing = new AbortController();

  constructor(private readonly deps: DeliveryDeps) {
    const timeout = deps.settings.requestTimeoutMs;
    this.agent = new Agent({
      connect: { timeout, lookup: guardedLookup(deps.policy) },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 4_000,
      connections: 2,
    });
  }

  /** Queues an event (already the tenant's view of it) for a hook of the tenant, and starts its queue if idle. */
  enqueue(tenant: TenantEntry, hook: StoredHook, eventJson: string): void {
    if (this.closing.signal.aborted) return;
    const id = `${tenant.slug}\n${hook.hookID}`;
    let queue = this.queues.get(id);
    if (queue === undefined) {
      queue = { tenant, hook, pending: [], working: false };
      this.queues.set(id, queue);
    }
    queue.pending.push({ eventJson, timestamp: Date.now() });
    if (queue.pending.length > this.deps.settings.maxQueuedEventsPerHook) {
      queue.pending.shift();
      metrics.webhookPosts.inc({ tenant: tenant.slug, outcome: "dropped" });
      this.deps.logger.warn({ tenant: tenant.slug, hookID: hook.hookID }, "webhook queue full: oldest event dropped");
    }
    if (!queue.working) void this.work(id, queue);
  }

  /** Hooks with events waiting or on their way (for tests and metrics). */
  get busyHooks(): number {
    return this.queues.size;
  }

  private async work(id: string, queue: HookQueue): Promise<void> {
    queue.working = true;
    for (let event = queue.pending.shift(); event !== undefined && !this.closing.signal.aborted; event = queue.pending.shift()) {
      if (!(await this.deliver(queue, event))) {
        this.queues.delete(id);
        await this.giveUp(queue);
        return;
      }
    }
    queue.working = false;
    if (queue.pending.length === 0) this.queues.delete(id);
  }

  /** Every attempt of one event; false when the last retry failed too. */
  private async deliver(queue: HookQueue, event: QueuedEvent): Promise<boolean> {
    const intervals = this.deps.settings.retryIntervalsMs;
    for (let attempt = 0; !this.closing.signal.aborted; attempt++) {
      if (await this.attempt(queue, event)) {
        metrics.webhookPosts.inc({ tenant: queue.tenant.slug, outcome: "delivered" });
        return true;
      }
      metrics.webhookPosts.inc({ tenant: queue.tenant.slug, outcome: "failed" });
      const wait = intervals[attempt];
      if (wait === undefined) return false;
      await sleep(wait, undefined, { signal: this.closing.signal }).catch(() => undefined);
    }
    return true;
  }

  private async attempt(queue: HookQueue, event: QueuedEvent): Promise<boolean> {
    const { callbackURL } = queue.hook;
    const { settings } = this.deps;
    const body = eventPostBody({ domain: `${queue.tenant.slug}.${this.deps.baseDomain}`, eventJson: event.eventJson, timestamp: event.timestamp });
    const secret = queue.tenant.secrets[0] ?? "";
    const url = signedCallbackUrl(callbackURL, callbackChecksum(settings.checksumAlgorithm, callbackURL, body, secret));
    try {
      const parsed = new URL(url);
      if (refusedLiteral(parsed, this.deps.policy)) return false;
      const answer = await this.agent.request({
        origin: parsed.origin,
        path: `${parsed.pathname}${parsed.search}`,
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
        signal: AbortSignal.timeout(settings.requestTimeoutMs),
      });
      await answer.body.dump();
      // bbb-webhooks counts a 401 as delivered: the receiver got it and said no.
      return (answer.statusCode >= 200 && answer.statusCode < 300) || answer.statusCode === 401;
    } catch (error) {
      this.deps.logger.debug({ err: error, tenant: queue.tenant.slug, hookID: queue.hook.hookID }, "webhook attempt failed");
      return false;
    }
  }

  private async giveUp(queue: HookQueue): Promise<void> {
    metrics.webhookPosts.inc({ tenant: queue.tenant.slug, outcome: "removed" });
    this.deps.logger.warn({ tenant: queue.tenant.slug, hookID: queue.hook.hookID }, "webhook failed every retry: hook removed, as bbb-webhooks does");
    try {
      await destroyHook(this.deps.redis, queue.tenant.slug, queue.hook.hookID);
    } catch (error) {
      this.deps.logger.error({ err: error, tenant: queue.tenant.slug, hookID: queue.hook.hookID }, "failing webhook not removed (Redis unreachable?)");
    }
  }

  /** Stops every queue (events still waiting are dropped) and closes the connections. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.agent.destroy();
  }
}
