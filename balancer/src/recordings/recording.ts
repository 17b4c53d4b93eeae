/**
 * A recording as the platform indexes it: one record ID with every playback format the share holds for it,
 * read from the `metadata.xml` of each format (BBB writes one per format; bbb-web merges them into one
 * `<recording>` with several `<format>`s, and so do we). Everything is the tenant's view: meeting ID and
 * metadata as the tenant sent them, none of the balancer's own metadata.
 */

/** Where a recording lives on the share; BBB's `published` and `unpublished` directories. */
export const recordingStates = ["published", "unpublished"] as const;
export type RecordingState = (typeof recordingStates)[number];

/** An `<image>` of a format's `<extensions><preview><images>`: attributes as BBB writes them, the URL as a path. */
export interface PreviewImage {
  /** Path (and query) of the image URL: the node's host is dropped, the platform serves it on its own. */
  readonly path: string;
  readonly width?: string;
  readonly height?: string;
  readonly alt?: string;
}

/** One `<playback>` of a format's `metadata.xml`. */
export interface PlaybackFormat {
  /** `<format>`: `presentation`, `video`, `podcast`, `notes`, ... (the directory name on the share). */
  readonly type: string;
  /** Path (and query) of `<link>`, e.g. `/playback/presentation/2.3/<recordID>`; the node's host dropped. */
  readonly path: string;
  /** `<processing_time>`, milliseconds. */
  readonly processingTimeMs: number;
  /** `<duration>`, milliseconds (getRecordings' `<length>` is this in whole minutes). */
  readonly durationMs: number;
  /** `<size>` in bytes; 0 when the node wrote none (bbb-web's default). */
  readonly size: number;
  readonly previewImages: readonly PreviewImage[];
}

/** `<breakout parentMeetingId sequence meetingId/>` of a breakout room's recording. */
export interface BreakoutOf {
  readonly parentMeetingId: string;
  readonly sequence: number;
  readonly meetingId: string;
}

export interface IndexedRecording {
  /** `<id>`: the node's internal meeting ID, `<sha1 of node meeting ID>-<create time ms>`. */
  readonly recordId: string;
  readonly tenant: string;
  /** The tenant's own meeting ID (never the node's `<tenant>~...` form). */
  readonly meetingId: string;
  /** `<meeting id>`, as bbb-web reports `internalMeetingID`. */
  readonly internalMeetingId: string;
  /** `<meeting name>`. */
  readonly name: string;
  readonly isBreakout: boolean;
  readonly breakout?: BreakoutOf;
  /** `<breakoutRooms><breakoutRoom>`: record IDs of this meeting's breakout rooms. */
  readonly breakoutRooms: readonly string[];
  readonly state: RecordingState;
  /** Milliseconds since the epoch. */
  readonly startTime: number;
  readonly endTime: number;
  readonly participants: number;
  /** `<raw_size>` in bytes. */
  readonly rawSize: number;
  /** `<meta>` in document order, the tenant's view: `meetingId` is the tenant's, the balancer's keys dropped. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Sorted by `type`. */
  readonly playback: readonly PlaybackFormat[];
}

/** The sum of the formats' sizes: bbb-web's `<size>` of a recording. */
export function recordingSize(recording: IndexedRecording): number {
  return recording.playback.reduce((total, format) => total + format.size, 0);
}

/** What getRecordings asks of one tenant's index. */
export interface RecordingQuery {
  /** The tenant's meeting IDs; ignored when `recordIds` is non-empty (bbb-web's precedence). */
  readonly meetingIds?: readonly string[];
  /** Record IDs, each matching itself or, as a prefix, every record ID starting with it. */
  readonly recordIds?: readonly string[];
  /** `undefined`: published and unpublished (bbb-web's default and `any` alike: the share holds no others). */
  readonly states?: readonly RecordingState[];
  /** Every `key` must be in the recording's metadata with exactly this value (keys as stored: lower-case). */
  readonly meta?: Readonly<Record<string, string>>;
  readonly offset?: number;
  readonly limit?: number;
}

export interface RecordingPage {
  /** Ordered by start time, then record ID. */
  readonly recordings: readonly IndexedRecording[];
  /** How many matched before `offset`/`limit`. */
  readonly total: number;
}
