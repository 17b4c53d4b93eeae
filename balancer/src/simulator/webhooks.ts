import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { callbackChecksum, eventPostBody, signedCallbackUrl } from "../webhooks/callbackChecksum.js";
import { hookCreatedXml, hookDestroyedXml, hookDuplicatedXml, hookErrors, hookFailureXml, hookListXml, type HookView } from "../webhooks/hookXml.js";
import type { WebhookEvent } from "./webhookEvents.js";

/**
 * A node's bbb-webhooks (v3.4.0): its API (`hooks/create|list|destroy`, checksummed with the node's secret over
 * `hooks/<call>`) and its emitter. Each event goes to the global hooks and the hooks of its meeting, as a form
 * post signed `sha1(callbackURL + body + secret)`; a hook is retried after each of `retryIntervalsMs` and removed
 * once it has failed them all (src/out/webhooks/web-hooks.js). Posts to one hook go one at a time, in order, as
 * bbb-webhooks does with its queue at concurrency 1.
 */

/** One post the node made to a hook, and how it went. */
export interface WebhookAttempt {
  readonly hookID: string;
  readonly callbackURL: string;
  readonly eventId: string;
  /** The HTTP status, or `error` when the request failed (refused, reset, timed out). */
  readonly outcome: number | "error";
  readonly at: number;
}

export interface NodeWebhookSettings {
  readonly secret: string;
  /** bbb-webhooks' `bbb.serverDomain`. */
  readonly domain: string;
  readonly retryIntervalsMs: readonly number[];
  readonly requestTimeoutMs: number;
}

interface Hook extends HookView {
  readonly queue: WebhookEvent[];
  sending: boolean;
}

export class NodeWebhooks {
  private readonly hooks = new Map<string, Hook>();
  private readonly log: WebhookAttempt[] = [];
  private readonly stopping = new AbortController();

  constructor(private readonly settings: NodeWebhookSettings) {}

  get registered(): HookView[] {
    return [...this.hooks.values()].map(({ queue: _queue, sending: _sending, ...view }) => view);
  }

  get attempts(): ReadonlyArray<WebhookAttempt> {
    return [...this.log];
  }

  get active(): boolean {
    return this.hooks.size > 0;
  }

  /** Answers hooks/create, hooks/list or hooks/destroy (checksum already verified). */
  answer(call: string, params: Readonly<Record<string, string>>): string {
    if (call === "hooks/create") return this.create(params);
    if (call === "hooks/destroy") return this.destroy(params["hookID"]);
    const meetingID = params["meetingID"];
    const hooks = this.registered;
    return hookListXml(meetingID === undefined ? hooks : hooks.filter((hook) => hook.meetingID === undefined || hook.meetingID === meetingID).sort((a, b) => (a.hookID < b.hookID ? -1 : 1)));
  }

  private create(params: Readonly<Record<string, string>>): string {
    const callbackURL = params["callbackURL"];
    if (callbackURL === undefined) return hookFailureXml(hookErrors.missingParamCallbackURL);
    const existing = [...this.hooks.values()].find((hook) => hook.callbackURL === callbackURL);
    if (existing !== undefined) return hookDuplicatedXml(existing.hookID);
    const getRaw = params["getRaw"]?.toLowerCase();
    if (getRaw !== undefined && getRaw !== "true" && getRaw !== "false") return hookFailureXml(hookErrors.createHookError);
    const hook: Hook = {
      hookID: randomUUID(),
      callbackURL,
      meetingID: params["meetingID"],
      eventID: params["eventID"]?.toLowerCase().split(","),
      permanentHook: false,
      rawData: getRaw === "true",
      queue: [],
      sending: false,
    };
    this.hooks.set(hook.hookID, hook);
    return hookCreatedXml(hook);
  }

  private destroy(hookID: string | undefined): string {
    if (hookID === undefined) return hookFailureXml(hookErrors.missingParamHookID);
    return this.hooks.delete(hookID) ? hookDestroyedXml : hookFailureXml(hookErrors.destroyMissingHook);
  }

  /** Queues an event for every hook that takes it (raw-data hooks get BBB's raw messages, which are not simulated). */
  emit(event: WebhookEvent): void {
    const meeting = event.data.attributes["meeting"] as Record<string, unknown> | undefined;
    const meetingID = meeting?.["external-meeting-id"];
    for (const hook of this.hooks.values()) {
      if (hook.rawData || (hook.meetingID !== undefined && hook.meetingID !== meetingID)) continue;
      if (hook.eventID !== undefined && !hook.eventID.includes(event.data.id.toLowerCase())) continue;
      hook.queue.push(event);
      if (!hook.sending) void this.drain(hook);
    }
  }

  /** As a node whose Redis lost bbb-webhooks' data: no hook is left. */
  forget(): void {
    for (const hook of this.hooks.values()) hook.queue.length = 0;
    this.hooks.clear();
  }

  private async drain(hook: Hook): Promise<void> {
    hook.sending = true;
    for (let event = hook.queue.shift(); event !== undefined && !this.stopping.signal.aborted; event = hook.queue.shift()) {
      if (!(await this.sendWithRetries(hook, event))) {
        this.hooks.delete(hook.hookID);
        break;
      }
    }
    hook.sending = false;
  }

  private async sendWithRetries(hook: Hook, event: WebhookEvent): Promise<boolean> {
    const timestamp = Date.now();
    for (const wait of [...this.settings.retryIntervalsMs, undefined]) {
      if (this.stopping.signal.aborted || !this.hooks.has(hook.hookID)) return true;
      if (await this.post(hook, event, timestamp)) return true;
      if (wait === undefined) return false;
      await sleep(wait, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
    return false;
  }

  private async post(hook: Hook, event: WebhookEvent, timestamp: number): Promise<boolean> {
    const body = eventPostBody({ domain: this.settings.domain, eventJson: `[${JSON.stringify(event)}]`, timestamp });
    const url = signedCallbackUrl(hook.callbackURL, callbackChecksum("sha1", hook.callbackURL, body, this.settings.secret));
    let outcome: number | "error";
    try {
      const answer = await request(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
        signal: AbortSignal.timeout(this.settings.requestTimeoutMs),
      });
      await answer.body.dump();
      outcome = answer.statusCode;
    } catch {
      outcome = "error";
    }
    this.log.push({ hookID: hook.hookID, callbackURL: hook.callbackURL, eventId: event.data.id, outcome, at: Date.now() });
    return outcome !== "error" && ((outcome >= 200 && outcome < 300) || outcome === 401);
  }

  stop(): void {
    this.stopping.abort();
  }
}
