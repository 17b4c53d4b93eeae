import { createHash, randomInt } from "node:crypto";
import type { AttendeeMedia, AttendeeRole, MeetingRecord, PresentationSource, SimulatedAttendee } from "./model.js";
import type { BbbError, BbbErrorList, CreateOutcome } from "./responses.js";

const alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Commons-lang `RandomStringUtils.randomAlphanumeric`, as bbb-web uses for passwords and tokens. */
function randomAlphanumeric(length: number): string {
  const codes = new Array<number>(length);
  for (let i = 0; i < length; i++) codes[i] = alphanumerics.charCodeAt(randomInt(alphanumerics.length));
  return String.fromCharCode(...codes);
}

function internalMeetingIdOf(meetingId: string, createTime: number): string {
  return `${createHash("sha1").update(meetingId).digest("hex")}-${createTime}`;
}

/** The meetingID rules every call that takes one applies (bbb-web's MeetingIDConstraint). */
export function checkMeetingId(meetingId: string | undefined): { ok: true; meetingId: string } | { ok: false; error: BbbError } {
  const invalid = (message: string) => ({ ok: false, error: { key: "validationError", message } }) as const;
  if (meetingId === undefined || meetingId === "") return { ok: false, error: { key: "missingParamMeetingID", message: "You must provide a meeting ID" } };
  if (meetingId.length < 2 || meetingId.length > 256) return invalid("Meeting ID must be between 2 and 256 characters");
  if (meetingId.includes(",")) return invalid("Meeting ID cannot contain ','");
  if (/\p{Cc}/u.test(meetingId)) return invalid("Invalid meeting ID");
  return { ok: true, meetingId };
}

function meetingNameError(name: string | undefined): BbbError | undefined {
  if (name === undefined || name === "") return { key: "validationError", message: "You must provide a meeting name" };
  if (name.length < 2 || name.length > 256) return { key: "validationError", message: "Meeting name must be between 2 and 256 characters" };
  return undefined;
}

const isBooleanText = (value: string): boolean => /^(true|false)$/i.test(value);

/** bbb-web's IsBooleanConstraint: an absent flag is fine, a present one must say true or false. */
function booleanFlagError(params: Readonly<Record<string, string>>, name: string, message: string): BbbError | undefined {
  const value = params[name];
  return value === undefined || isBooleanText(value) ? undefined : { key: "validationError", message };
}

/** Integer parameters bbb-web reads leniently: anything unparsable falls back to the default. */
function integerParam(params: Readonly<Record<string, string>>, name: string, fallback: number): number {
  const value = params[name];
  return value !== undefined && /^-?\d+$/.test(value.trim()) ? Number.parseInt(value, 10) : fallback;
}

/** bbb-web's isMetaValid: other `meta_` names (with `_`, `.`, a leading digit…) are silently dropped. */
const validMetaName = /^meta_[a-zA-Z][a-zA-Z0-9-]*$/;

function metadataOf(params: Readonly<Record<string, string>>): Map<string, string> {
  const metadata = new Map<string, string>();
  for (const [name, value] of Object.entries(params)) {
    if (validMetaName.test(name)) metadata.set(name.slice("meta_".length).toLowerCase(), value);
  }
  return metadata;
}

/**
 * bbb-web keeps `userdata-<key>` when the name splits on `-` into exactly two parts; the key must also be an
 * XML name here, since it becomes an element of `<customdata>` and a real node would write broken XML.
 */
const validUserDataName = /^userdata-([A-Za-z_][A-Za-z0-9_.]*)$/;

function customDataOf(params: Readonly<Record<string, string>>): Record<string, string> {
  const customData: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const key = validUserDataName.exec(name)?.[1];
    if (key !== undefined) customData[key] = value;
  }
  return customData;
}

/** The default `dialNumber` of a stock bbb-web (`defaultDialAccessNumber`). */
const defaultDialNumber = "613-555-1234";

/**
 * When a node ends meetings by itself (bbb-web's meetingExpireIfNoUserJoinedInMinutes, default 5 min, and
 * meetingExpireWhenLastUserLeftInMinutes, default 1 min), scaled down for tests.
 */
export interface MeetingExpiry {
  readonly noUserJoinedMs: number;
  readonly lastUserLeftMs: number;
}

export type CreateResult =
  | { ok: true; meeting: MeetingRecord; outcome?: CreateOutcome }
  | { ok: false; error: BbbError | BbbErrorList };

export interface JoinRequest {
  readonly params: Readonly<Record<string, string>>;
}

export type JoinResult =
  | { ok: true; meeting: MeetingRecord; attendee: SimulatedAttendee; authToken: string; sessionToken: string }
  /** `redirectable: false`: bbb-web answers these as XML even to a browser (its role/password checks). */
  | { ok: false; error: BbbError; redirectable: boolean };

/** Shared by every simulated attendee, so thousands of nodes full of them stay light. */
const noParams: Readonly<Record<string, string>> = Object.freeze({});

const roleByParam: ReadonlyMap<string, AttendeeRole> = new Map([
  ["moderator", "MODERATOR"],
  ["viewer", "VIEWER"],
]);

/**
 * The meetings of one node and the rules bbb-web applies to create and join them. Synchronous and free of
 * I/O: the HTTP layer and the end callbacks live elsewhere.
 */
export class MeetingStore {
  private readonly byId = new Map<string, MeetingRecord>();
  private readonly voiceBridges = new Set<string>();
  private changes = 0;

  /** Bumped on every change, so renderings can be cached until the next one. */
  get version(): number {
    return this.changes;
  }

  all(): IterableIterator<MeetingRecord> {
    return this.byId.values();
  }

  get(meetingId: string): MeetingRecord | undefined {
    return this.byId.get(meetingId);
  }

  create(params: Readonly<Record<string, string>>, presentations: readonly PresentationSource[], now: number): CreateResult {
    const checkedId = checkMeetingId(params["meetingID"]);
    if (!checkedId.ok) return { ok: false, error: checkedId.error };
    const meetingId = checkedId.meetingId;
    const invalid =
      meetingNameError(params["name"]) ??
      (params["voiceBridge"] !== undefined && !/^\d+$/.test(params["voiceBridge"])
        ? { key: "validationError", message: "Voice bridge must be an integral value" }
        : undefined) ??
      booleanFlagError(params, "record", "Record must be a boolean value (true or false)") ??
      booleanFlagError(params, "isBreakoutRoom", "You must provide a boolean value (true or false) for the breakout room");
    if (invalid !== undefined) return { ok: false, error: invalid };

    const existing = this.byId.get(meetingId);
    if (existing !== undefined) {
      // A repeated create is how clients make sure a meeting exists: both passwords the same, or neither given.
      const samePasswords =
        (params["attendeePW"] === existing.attendeePW && params["moderatorPW"] === existing.moderatorPW) ||
        (!params["attendeePW"] && !params["moderatorPW"]);
      if (!samePasswords) {
        return { ok: false, error: { key: "idNotUnique", message: "A meeting already exists with that meeting ID.  Please use a different meeting ID." } };
      }
      return {
        ok: true,
        meeting: existing,
        outcome: { messageKey: "duplicateWarning", message: "This conference was already in existence and may currently be in progress." },
      };
    }

    const requestedBridge = params["voiceBridge"];
    if (requestedBridge !== undefined && requestedBridge !== "" && this.voiceBridges.has(requestedBridge)) {
      return { ok: false, error: { errors: [{ key: "nonUniqueVoiceBridge", message: "The selected voice bridge is already in use." }] } };
    }
    const voiceBridge = requestedBridge !== undefined && requestedBridge !== "" ? requestedBridge : this.freeVoiceBridge();

    const meeting: MeetingRecord = {
      meetingId,
      internalMeetingId: internalMeetingIdOf(meetingId, now),
      name: stripControlChars(params["name"] ?? ""),
      attendeePW: params["attendeePW"] || randomAlphanumeric(8),
      moderatorPW: params["moderatorPW"] || randomAlphanumeric(8),
      createTime: now,
      startTime: now,
      voiceBridge,
      dialNumber: params["dialNumber"] ?? defaultDialNumber,
      duration: Math.max(0, integerParam(params, "duration", 0)),
      maxParticipants: Math.max(0, integerParam(params, "maxParticipants", 0)),
      record: params["record"]?.toLowerCase() === "true",
      // bbb-web validates `isBreakoutRoom` but reads `isBreakout`; either makes a breakout room here.
      isBreakout: params["isBreakout"]?.toLowerCase() === "true" || params["isBreakoutRoom"]?.toLowerCase() === "true",
      hasUserJoined: false,
      hasBeenForciblyEnded: false,
      emptySince: undefined,
      recordingStarted: false,
      liveCaptions: new Map(),
      participantIds: new Set(),
      metadata: metadataOf(params),
      params: { ...params },
      attendees: [],
      presentations: [...presentations],
    };
    this.byId.set(meetingId, meeting);
    this.voiceBridges.add(voiceBridge);
    this.changes++;
    return { ok: true, meeting };
  }

  private freeVoiceBridge(): string {
    // Five digits as bbb-web's processTelVoice draws them; a full node of 90,000 meetings is not a case to simulate.
    for (;;) {
      const candidate = String(randomInt(10_000, 100_000));
      if (!this.voiceBridges.has(candidate)) return candidate;
    }
  }

  join({ params }: JoinRequest): JoinResult {
    const refuse = (error: BbbError): JoinResult => ({ ok: false, error, redirectable: true });
    const checkedId = checkMeetingId(params["meetingID"]);
    if (!checkedId.ok) return refuse(checkedId.error);
    const meeting = this.byId.get(checkedId.meetingId);
    if (meeting === undefined) return refuse({ key: "invalidMeetingIdentifier", message: "A meeting with that ID does not exist" });
    if (meeting.hasBeenForciblyEnded) {
      return refuse({ key: "meetingForciblyEnded", message: "You can not re-join a meeting that has already been forcibly ended." });
    }
    const fullName = params["fullName"];
    if (fullName === undefined || fullName === "") return refuse({ key: "missingParamFullName", message: "You must provide your name" });
    const createTime = params["createTime"];
    if (createTime !== undefined && createTime !== String(meeting.createTime)) {
      return refuse({ key: "mismatchCreateTimeParam", message: "The createTime parameter submitted mismatches with the current meeting." });
    }

    const role = roleOf(meeting, params);
    if (!role.ok) return { ok: false, error: role.error, redirectable: false };

    const userId = params["userID"] || undefined;
    if (this.isFull(meeting, userId)) {
      return refuse({ key: "maxParticipantsReached", message: "The number of participants allowed for this meeting has been reached." });
    }

    const internalUserId = `w_${randomAlphanumeric(12).toLowerCase()}`;
    const attendee = this.admit(meeting, {
      userId: userId ?? internalUserId,
      internalUserId,
      fullName: stripControlChars(fullName),
      role: role.role,
      customData: customDataOf(params),
      joinParams: { ...params },
    });
    return {
      ok: true,
      meeting,
      attendee,
      authToken: randomAlphanumeric(12).toLowerCase(),
      sessionToken: randomAlphanumeric(16).toLowerCase(),
    };
  }

  /** bbb-web counts distinct external user IDs, and lets a user who is already in come back. */
  private isFull(meeting: MeetingRecord, userId: string | undefined): boolean {
    if (meeting.maxParticipants <= 0) return false;
    if (userId !== undefined && meeting.attendees.some((a) => a.userId === userId)) return false;
    return new Set(meeting.attendees.map((a) => a.userId)).size >= meeting.maxParticipants;
  }

  private admit(
    meeting: MeetingRecord,
    user: Pick<SimulatedAttendee, "userId" | "internalUserId" | "fullName" | "role" | "customData" | "joinParams">,
    media: AttendeeMedia = {},
  ): SimulatedAttendee {
    // The first moderator in becomes presenter, as the HTML5 client assigns it.
    const isPresenter = user.role === "MODERATOR" && !meeting.attendees.some((a) => a.isPresenter);
    // Listed field by field: an object spread here made V8 keep every attendee as a dictionary, 2.5 times the memory.
    const attendee: SimulatedAttendee = {
      userId: user.userId,
      internalUserId: user.internalUserId,
      fullName: user.fullName,
      role: user.role,
      customData: user.customData,
      joinParams: user.joinParams,
      isPresenter,
      isListeningOnly: media.listenOnly === true,
      hasJoinedVoice: media.voice === true,
      hasVideo: media.video === true,
      clientType: "HTML5",
    };
    meeting.attendees.push(attendee);
    meeting.participantIds.add(attendee.userId);
    meeting.hasUserJoined = true;
    meeting.emptySince = undefined;
    this.changes++;
    return attendee;
  }

  addAttendees(meetingId: string, count: number, role: AttendeeRole, media: AttendeeMedia = {}): void {
    const meeting = this.live(meetingId);
    for (let i = 0; i < count; i++) {
      const internalUserId = `w_${randomAlphanumeric(12).toLowerCase()}`;
      this.admit(
        meeting,
        {
          userId: internalUserId,
          internalUserId,
          fullName: `Simulated ${role.toLowerCase()} ${meeting.attendees.length + 1}`,
          role,
          customData: noParams,
          joinParams: noParams,
        },
        media,
      );
    }
  }

  /** The most recent `count` attendees leave (all of them if fewer are in). */
  removeAttendees(meetingId: string, count: number, now: number): void {
    const meeting = this.live(meetingId);
    meeting.attendees.splice(Math.max(0, meeting.attendees.length - count));
    if (meeting.attendees.length === 0 && meeting.emptySince === undefined) meeting.emptySince = now;
    this.changes++;
  }

  /** Meetings bbb-web would end by itself by now: nobody ever joined, or the last user left, long enough ago. */
  expired(now: number, expiry: MeetingExpiry): MeetingRecord[] {
    const due: MeetingRecord[] = [];
    for (const meeting of this.byId.values()) {
      if (meeting.hasBeenForciblyEnded) continue;
      const neverJoined = !meeting.hasUserJoined && now - meeting.createTime >= expiry.noUserJoinedMs;
      const leftEmpty = meeting.emptySince !== undefined && now - meeting.emptySince >= expiry.lastUserLeftMs;
      if (neverJoined || leftEmpty) due.push(meeting);
    }
    return due;
  }

  private live(meetingId: string): MeetingRecord {
    const meeting = this.byId.get(meetingId);
    if (meeting === undefined) throw new Error(`no meeting ${meetingId} on this node`);
    return meeting;
  }

  addPresentations(meeting: MeetingRecord, presentations: readonly PresentationSource[]): void {
    meeting.presentations.push(...presentations);
    this.changes++;
  }

  /** What `end` does at once: everyone is sent out and the meeting is marked ended until it is removed. */
  markEnded(meeting: MeetingRecord): void {
    meeting.hasBeenForciblyEnded = true;
    meeting.attendees = [];
    this.changes++;
  }

  remove(meetingId: string): MeetingRecord | undefined {
    const meeting = this.byId.get(meetingId);
    if (meeting === undefined) return undefined;
    this.byId.delete(meetingId);
    this.voiceBridges.delete(meeting.voiceBridge);
    this.changes++;
    return meeting;
  }

  clear(): void {
    this.byId.clear();
    this.voiceBridges.clear();
    this.changes++;
  }
}

/**
 * bbb-web 2.7's order: a valid `role` decides; else the password must be one of the meeting's. Its failures
 * carry the odd messageKey "Params required", exactly as bbb-web writes it.
 */
function roleOf(meeting: MeetingRecord, params: Readonly<Record<string, string>>): { ok: true; role: AttendeeRole } | { ok: false; error: BbbError } {
  const byParam = roleByParam.get(params["role"]?.toLowerCase() ?? "");
  if (byParam !== undefined) return { ok: true, role: byParam };
  const password = params["password"];
  if (password === undefined || password === "") {
    return {
      ok: false,
      error: { key: "Params required", message: "You must either send the valid role of the user, or the password, sould the meeting has one." },
    };
  }
  if (password === meeting.moderatorPW) return { ok: true, role: "MODERATOR" };
  if (password === meeting.attendeePW) return { ok: true, role: "VIEWER" };
  return { ok: false, error: { key: "Params required", message: "You must enter a valid password" } };
}

/** bbb-web's ParamsUtil.stripControlChars on display names. */
function stripControlChars(text: string): string {
  return text.replace(/\p{Cc}/gu, "");
}
