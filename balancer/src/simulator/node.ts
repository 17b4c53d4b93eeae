import type { HookView } from "../webhooks/hookXml.js";
import { answerApiCall, type ApiAnswer, type ApiNode, type ApiRequest } from "./api.js";
import { endCallbackUrls, hasRecordingMarks, sendEndCallback, type EndCallbackAttempt } from "./endCallback.js";
import type { AttendeeMedia, AttendeeRole, SimulatedMeeting } from "./model.js";
import { publishRecording, type PublishedRecording, type RecordingSettings } from "./recording.js";
import { sendAnalytics, sendRecordingReady, type RecordingCallbackAttempt } from "./recordingCallbacks.js";
import { RequestLog, type ReceivedRequest } from "./requestLog.js";
import { meetingsXml } from "./responses.js";
import { MeetingStore, type MeetingExpiry } from "./store.js";
import { eventsBetween, snapshotOf } from "./webhookEvents.js";
import { NodeWebhooks, type WebhookAttempt } from "./webhooks.js";

export type FailureMode = "none" | "down" | "error500" | "hang" | "garbage";

export interface SimulatedNodeSpec {
  /** The node's name in its URLs: `http://host:port/<id>/bigbluebutton/api/`. */
  id: string;
  /** The node's shared secret (`bbb-conf --secret`). */
  secret: string;
}

export interface SimulatedNode {
  readonly id: string;
  /** e.g. `http://127.0.0.1:PORT/<id>/bigbluebutton/api/` (with a trailing slash). */
  readonly apiUrl: string;
  /** `http://127.0.0.1:PORT/<id>/b3lb/load`: the CPU figure, 0..10000, as text/plain. */
  readonly loadUrl: string;
  /** Delays every answer of this node; with `call`, only that API call's answers (on top of the node's delay). */
  setLatency(ms: number, call?: string): void;
  /** down: the connection is reset; error500: HTTP 500; hang: never answered; garbage: 200 with a body that is not XML. */
  setFailure(mode: FailureMode): void;
  /** The figure served at `loadUrl`, 0..10000. */
  setCpu(value: number): void;
  /** Live meetings with their attendees and their create parameters as received. */
  meetings(): SimulatedMeeting[];
  meeting(meetingId: string): SimulatedMeeting | undefined;
  /** The last API requests (bounded), oldest first. */
  readonly requests: ReadonlyArray<ReceivedRequest>;
  /** Every end notification the node sent, in order, with what the receiver answered. */
  readonly endCallbacks: ReadonlyArray<EndCallbackAttempt>;
  /** Every recording-ready and analytics callback the node sent, in order, with what the receiver answered. */
  readonly recordingCallbacks: ReadonlyArray<RecordingCallbackAttempt>;
  /** Users join from the client (VIEWER unless told), optionally with webcam, microphone or listen-only audio. */
  addAttendees(meetingId: string, count: number, role?: AttendeeRole, media?: AttendeeMedia): void;
  /** The most recent `count` attendees leave. */
  removeAttendees(meetingId: string, count: number): void;
  /** A moderator presses record: a meeting created with `record=true` will publish a recording when it ends. */
  startRecording(meetingId: string): void;
  /** Someone types a line of live captions in a locale (e.g. `en`, `English`): the recording will carry them. */
  typeCaptions(meetingId: string, locale: string, localeName: string, line: string): void;
  /** Recordings the node published (with `recordings` set on the simulator), oldest first. */
  readonly recordings: ReadonlyArray<PublishedRecording>;
  /**
   * Ends a meeting as a moderator would: it disappears, then the end callbacks are sent, then (recorded, with
   * `recordings` set) the recording is published and the post-publish hook runs; all awaited.
   */
  endMeeting(meetingId: string): Promise<void>;
  /** As a restarted node: every meeting gone, nobody notified. */
  forgetAllMeetings(): void;
  /** The hooks registered on the node's bbb-webhooks. */
  readonly hooks: ReadonlyArray<HookView>;
  /** Every post the node's bbb-webhooks made, in order, with what the receiver answered. */
  readonly webhookAttempts: ReadonlyArray<WebhookAttempt>;
  /** As a node whose bbb-webhooks lost its Redis: every hook gone. */
  forgetHooks(): void;
}

export interface NodeSettings {
  /** `http://host:port/<id>` without a trailing slash. */
  readonly baseUrl: string;
  /** How long after `end` the meeting disappears and the callbacks go out. */
  readonly endDelayMs: number;
  /** How many API requests `requests` keeps. */
  readonly requestLogSize: number;
  /** Where recorded meetings are published, and the post-publish hook; none: nothing is published. */
  readonly recordings?: RecordingSettings;
  /** bbb-webhooks' `retryIntervals` and `requestTimeout`. */
  readonly webhooks: { readonly retryIntervalsMs: readonly number[]; readonly requestTimeoutMs: number };
}

const maxCpu = 10_000;

function attendeeCount(count: number): number {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  return count;
}

export class SimulatedNodeState implements SimulatedNode, ApiNode {
  readonly id: string;
  readonly secret: string;
  readonly apiUrl: string;
  readonly loadUrl: string;
  readonly clientJoinUrl: string;
  readonly defaultLogoutUrl: string;
  readonly store = new MeetingStore();
  readonly webhooks: NodeWebhooks;
  private observing = false;
  private latency = 0;
  private readonly callLatency = new Map<string, number>();
  private failureMode: FailureMode = "none";
  private cpuFigure = 0;
  private readonly log: RequestLog;
  private readonly callbackLog: EndCallbackAttempt[] = [];
  private readonly publishedLog: PublishedRecording[] = [];
  private readonly recordingCallbackLog: RecordingCallbackAttempt[] = [];
  private readonly pendingEnds = new Map<string, NodeJS.Timeout>();
  private readonly inFlightCallbacks = new Set<Promise<void>>();
  private cachedMeetings: { version: number; document: Buffer } | undefined;

  constructor(spec: SimulatedNodeSpec, private readonly settings: NodeSettings) {
    this.id = spec.id;
    this.secret = spec.secret;
    this.apiUrl = `${settings.baseUrl}/bigbluebutton/api/`;
    this.loadUrl = `${settings.baseUrl}/b3lb/load`;
    this.clientJoinUrl = `${settings.baseUrl}/html5client/join`;
    this.defaultLogoutUrl = `${settings.baseUrl}/`;
    this.log = new RequestLog(settings.requestLogSize);
    this.webhooks = new NodeWebhooks({ secret: spec.secret, domain: new URL(settings.baseUrl).host, ...settings.webhooks });
  }

  /** Runs a change of the meetings and posts the events it makes to the hooks (no work while none is registered). */
  private observed<T>(change: () => T): T {
    // A change inside another (an `end` call marking its meeting ended) is told by the outer one, once.
    if (!this.webhooks.active || this.observing) return change();
    this.observing = true;
    const before = snapshotOf(this.store.all());
    try {
      return change();
    } finally {
      this.observing = false;
      for (const event of eventsBetween(before, snapshotOf(this.store.all()), Date.now())) this.webhooks.emit(event);
    }
  }

  get hooks(): ReadonlyArray<HookView> {
    return this.webhooks.registered;
  }

  get webhookAttempts(): ReadonlyArray<WebhookAttempt> {
    return this.webhooks.attempts;
  }

  forgetHooks(): void {
    this.webhooks.forget();
  }

  get failure(): FailureMode {
    return this.failureMode;
  }

  get cpu(): number {
    return this.cpuFigure;
  }

  /** How long an answer to `call` (an API call name, or a path that is none) waits. */
  latencyFor(call: string): number {
    return this.latency + (this.callLatency.get(call) ?? 0);
  }

  setLatency(ms: number, call?: string): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be a non-negative number of ms, got ${ms}`);
    if (call === undefined) this.latency = ms;
    else this.callLatency.set(call, ms);
  }

  setFailure(mode: FailureMode): void {
    this.failureMode = mode;
  }

  setCpu(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > maxCpu) throw new RangeError(`cpu must be an integer in 0..${maxCpu}, got ${value}`);
    this.cpuFigure = value;
  }

  meetings(): SimulatedMeeting[] {
    return [...this.store.all()];
  }

  meeting(meetingId: string): SimulatedMeeting | undefined {
    return this.store.get(meetingId);
  }

  get requests(): ReadonlyArray<ReceivedRequest> {
    return this.log.snapshot();
  }

  get endCallbacks(): ReadonlyArray<EndCallbackAttempt> {
    return [...this.callbackLog];
  }

  get recordingCallbacks(): ReadonlyArray<RecordingCallbackAttempt> {
    return [...this.recordingCallbackLog];
  }

  get recordings(): ReadonlyArray<PublishedRecording> {
    return [...this.publishedLog];
  }

  startRecording(meetingId: string): void {
    const meeting = this.store.get(meetingId);
    if (meeting === undefined) throw new Error(`no meeting ${meetingId} on node ${this.id}`);
    if (meeting.record) meeting.recordingStarted = true;
  }

  typeCaptions(meetingId: string, locale: string, localeName: string, line: string): void {
    const meeting = this.store.get(meetingId);
    if (meeting === undefined) throw new Error(`no meeting ${meetingId} on node ${this.id}`);
    const captions = meeting.liveCaptions.get(locale) ?? { localeName, lines: [] };
    captions.lines.push(line);
    meeting.liveCaptions.set(locale, captions);
  }

  addAttendees(meetingId: string, count: number, role: AttendeeRole = "VIEWER", media: AttendeeMedia = {}): void {
    this.observed(() => this.store.addAttendees(meetingId, attendeeCount(count), role, media));
  }

  removeAttendees(meetingId: string, count: number): void {
    this.observed(() => this.store.removeAttendees(meetingId, attendeeCount(count), Date.now()));
  }

  async endMeeting(meetingId: string): Promise<void> {
    if (this.store.get(meetingId) === undefined) throw new Error(`no meeting ${meetingId} on node ${this.id}`);
    await this.finishMeeting(meetingId);
  }

  forgetAllMeetings(): void {
    for (const timer of this.pendingEnds.values()) clearTimeout(timer);
    this.pendingEnds.clear();
    this.store.clear();
  }

  meetingsDocument(): Buffer {
    if (this.cachedMeetings?.version !== this.store.version) {
      this.cachedMeetings = { version: this.store.version, document: Buffer.from(meetingsXml(this.store.all())) };
    }
    return this.cachedMeetings.document;
  }

  scheduleEnd(meetingId: string): void {
    const meeting = this.store.get(meetingId);
    if (meeting === undefined || this.pendingEnds.has(meetingId)) return;
    this.observed(() => this.store.markEnded(meeting));
    const timer = setTimeout(() => {
      this.pendingEnds.delete(meetingId);
      void this.finishMeeting(meetingId);
    }, this.settings.endDelayMs);
    this.pendingEnds.set(meetingId, timer);
  }

  settleEnded(meetingId: string): void {
    if (this.pendingEnds.has(meetingId)) void this.finishMeeting(meetingId);
  }

  private async finishMeeting(meetingId: string): Promise<void> {
    const pending = this.pendingEnds.get(meetingId);
    if (pending !== undefined) clearTimeout(pending);
    this.pendingEnds.delete(meetingId);
    const meeting = this.observed(() => this.store.remove(meetingId));
    if (meeting === undefined) return;
    const endTime = Date.now();
    const sending = Promise.all(
      endCallbackUrls(meeting).map(async (url) => {
        this.callbackLog.push(await sendEndCallback(meetingId, url));
      }),
    ).then(async () => {
      const analytics = await sendAnalytics(this.secret, meeting, endTime);
      if (analytics !== undefined) this.recordingCallbackLog.push(analytics);
      const { recordings } = this.settings;
      if (recordings === undefined || !hasRecordingMarks(meeting)) return;
      const origin = new URL(this.settings.baseUrl).origin;
      try {
        const published = await publishRecording({ id: this.id, secret: this.secret, origin }, meeting, endTime, recordings);
        this.publishedLog.push(published);
        const ready = await sendRecordingReady(this.secret, meeting, published.recordId);
        if (ready !== undefined) this.recordingCallbackLog.push(ready);
      } catch (error) {
        const failure = error instanceof Error ? error.message : String(error);
        this.publishedLog.push({ meetingId, recordId: meeting.internalMeetingId, format: "presentation", directory: "", failure });
      }
    });
    this.inFlightCallbacks.add(sending);
    try {
      await sending;
    } finally {
      this.inFlightCallbacks.delete(sending);
    }
  }

  answer(request: ApiRequest): ApiAnswer {
    this.log.add({
      at: Date.now(),
      call: request.call,
      method: request.method,
      params: request.params,
      rawQuery: request.rawQuery,
      ...(request.contentType === undefined ? {} : { contentType: request.contentType }),
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    return this.observed(() => answerApiCall(this, request));
  }

  /** Ends, with their callbacks, the meetings bbb-web would have expired by now. */
  endExpired(now: number, expiry: MeetingExpiry): void {
    for (const meeting of this.store.expired(now, expiry)) void this.finishMeeting(meeting.meetingId);
  }

  /** Stops pending ends and waits for callbacks already on their way. */
  async shutdown(): Promise<void> {
    this.webhooks.stop();
    for (const timer of this.pendingEnds.values()) clearTimeout(timer);
    this.pendingEnds.clear();
    await Promise.all(this.inFlightCallbacks);
  }
}
