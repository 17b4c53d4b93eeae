import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";
import type { Logger } from "../observability/logger.js";
import { checkCallbackUrl, guardedLookup, type CallbackPolicy } from "../webhooks/callbackPolicy.js";

/**
 * CallbackDeliveries of callbacks to tenants' URLs: each on its own, in the background, retried with exponential backoff
 * a bounded number of times. A dead or slow tenant URL costs only its own deliveries: nothing waits for them, and
 * at most `maxPending` are kept (past that a new one is dropped and logged), so no tenant can exhaust the process.
 * A tenant's URL is a request the tenant makes from inside the platform's network: the webhooks' callback policy
 * (`webhooks.allowedCallbackNetworks`) decides which addresses it may reach, checked again on every connection.
 */

export interface DeliverySettings {
  /** Attempts per delivery, the first included. */
  readonly attempts: number;
  /** The wait before the second attempt; each later wait doubles, up to `maxDelayMs`. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** One attempt's limit, connect to last byte. */
  readonly timeoutMs: number;
  readonly maxPending: number;
}

export const defaultDeliverySettings: DeliverySettings = { attempts: 6, firstDelayMs: 2_000, maxDelayMs: 60_000, timeoutMs: 10_000, maxPending: 10_000 };

export interface Delivery {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** What the logs call it (`recording ready`, `analytics`), with the tenant. */
  readonly what: string;
  readonly tenant: string;
}

/**
 * Whether an answer ends the delivery. Like BBB's scripts, a 2xx is done and 404/410 mean the receiver wants none
 * (a deleted meeting); 408, 429 and 5xx are worth another attempt; any other 4xx will not change by retrying.
 */
function settles(status: number): boolean {
  return status < 500 && status !== 408 && status !== 429;
}

export class CallbackDeliveries {
  private readonly pending = new Set<Promise<void>>();
  private readonly closed = new AbortController();
  private readonly agent: Agent;

  constructor(
    private readonly logger: Logger,
    private readonly policy: CallbackPolicy,
    private readonly settings: DeliverySettings = defaultDeliverySettings,
  ) {
    this.agent = new Agent({ connect: { timeout: settings.timeoutMs, lookup: guardedLookup(policy) } });
  }

  /** Starts a delivery; returns at once. A URL the callback policy refuses is dropped and logged. */
  send(delivery: Delivery): void {
    const verdict = checkCallbackUrl(delivery.url, this.policy);
    if (!verdict.ok) {
      this.logger.warn({ tenant: delivery.tenant, what: delivery.what, url: delivery.url, reason: verdict.reason }, "tenant callback refused");
      return;
    }
    if (this.pending.size >= this.settings.maxPending) {
      this.logger.warn({ tenant: delivery.tenant, what: delivery.what, pending: this.pending.size }, "tenant callback dropped: too many pending");
      return;
    }
    const running = this.deliver(delivery).finally(() => this.pending.delete(running));
    this.pending.add(running);
  }

  /** CallbackDeliveries still running or waiting to retry. */
  get size(): number {
    return this.pending.size;
  }

  /** Waits for every pending delivery to settle (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Gives up the retries still waiting; attempts in flight end with their timeout. */
  close(): void {
    this.closed.abort();
    void this.agent.close();
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const { attempts, firstDelayMs, maxDelayMs, timeoutMs } = this.settings;
    const where = { tenant: delivery.tenant, what: delivery.what, url: delivery.url };
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      let outcome: string;
      try {
        const answer = await request(delivery.url, { method: "POST", headers: delivery.headers, body: delivery.body, dispatcher: this.agent, signal: AbortSignal.timeout(timeoutMs) });
        await answer.body.dump();
        if (settles(answer.statusCode)) {
          this.logger.info({ ...where, status: answer.statusCode, attempt }, "tenant callback delivered");
          return;
        }
        outcome = `HTTP ${answer.statusCode}`;
      } catch (error) {
        outcome = error instanceof Error ? error.message : String(error);
      }
      if (attempt === attempts || this.closed.signal.aborted) {
        this.logger.warn({ ...where, attempt, outcome }, "tenant callback failed: giving up");
        return;
      }
      this.logger.info({ ...where, attempt, outcome }, "tenant callback failed: retrying");
      try {
        await sleep(Math.min(maxDelayMs, firstDelayMs * 2 ** (attempt - 1)), undefined, { signal: this.closed.signal });
      } catch {
        this.logger.warn({ ...where, attempt }, "tenant callback abandoned at shutdown");
        return;
      }
    }
  }
}
