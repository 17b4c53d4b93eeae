/** The state a simulated node keeps, shaped after what bbb-web reports of it. */

export type AttendeeRole = "MODERATOR" | "VIEWER";

/** What a simulated attendee does with audio and video, which getMeetings counts. */
export interface AttendeeMedia {
  /** Shares a webcam (videoCount). */
  readonly video?: boolean;
  /** Joined audio with a microphone (voiceParticipantCount). */
  readonly voice?: boolean;
  /** Joined audio listen-only (listenerCount). */
  readonly listenOnly?: boolean;
}

export interface SimulatedAttendee {
  /** The external user ID (`userID` on join), else the node's internal one. */
  readonly userId: string;
  readonly internalUserId: string;
  readonly fullName: string;
  readonly role: AttendeeRole;
  readonly isPresenter: boolean;
  readonly isListeningOnly: boolean;
  readonly hasJoinedVoice: boolean;
  readonly hasVideo: boolean;
  readonly clientType: string;
  /** `userdata-*` join parameters, prefix dropped. */
  readonly customData: Readonly<Record<string, string>>;
  /** The join parameters as received (empty for attendees added with `addAttendees`). */
  readonly joinParams: Readonly<Record<string, string>>;
}

/** A presentation handed to create or insertDocument in an XML `<modules>` body. */
export interface PresentationSource {
  readonly via: "create" | "insertDocument";
  /** The `url` attribute of a `<document>`, if it named one. */
  readonly url?: string;
  readonly filename?: string;
  /** The `name` attribute of an inline (base64) document. */
  readonly name?: string;
  readonly inline: boolean;
}

export interface SimulatedMeeting {
  readonly meetingId: string;
  readonly internalMeetingId: string;
  readonly name: string;
  readonly attendeePW: string;
  readonly moderatorPW: string;
  readonly createTime: number;
  readonly startTime: number;
  readonly voiceBridge: string;
  readonly dialNumber: string;
  readonly duration: number;
  readonly maxParticipants: number;
  readonly record: boolean;
  /** A moderator started the recording (bbb-web ignores that unless the meeting was created with `record=true`). */
  readonly recordingStarted: boolean;
  readonly isBreakout: boolean;
  readonly hasUserJoined: boolean;
  /** Set by `end`: everyone is out and nobody may join while the node finishes the meeting off. */
  readonly hasBeenForciblyEnded: boolean;
  /** `meta_*` parameters, keys lower-cased and prefix dropped, in the order received. */
  readonly metadata: ReadonlyMap<string, string>;
  /** Every create parameter as received (checksum excluded), for tests of parameter policies. */
  readonly params: Readonly<Record<string, string>>;
  readonly attendees: readonly SimulatedAttendee[];
  readonly presentations: readonly PresentationSource[];
}

/** The node's own, mutable view of a meeting. */
export interface MeetingRecord extends SimulatedMeeting {
  attendees: SimulatedAttendee[];
  presentations: PresentationSource[];
  hasUserJoined: boolean;
  hasBeenForciblyEnded: boolean;
  /** When the last user left (undefined while someone is in, or before anyone joined). */
  emptySince: number | undefined;
  recordingStarted: boolean;
  /** Live captions typed in the meeting, by locale (BBB's caption pads): each locale's name and lines in order. */
  readonly liveCaptions: Map<string, { readonly localeName: string; readonly lines: string[] }>;
  /** Every user who was ever in (a recording's `participants`). */
  readonly participantIds: Set<string>;
}

/** bbb-web's `running`: someone is in the meeting (an unknown meeting is not running). */
export function isRunning(meeting: SimulatedMeeting | undefined): boolean {
  return meeting !== undefined && meeting.attendees.length > 0;
}
