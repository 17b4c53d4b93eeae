/** How the naive join handler (`naiveJoin.ts`) keeps a meeting: one JSON blob per meeting ID, seeded by the runner. */
export const naiveMeetingKey = (meetingId: string): string => `bench:naive:meeting:${meetingId}`;

export interface NaiveMeeting {
  readonly nodeApiUrl: string;
  readonly nodeSecret: string;
  readonly nodeMeetingId: string;
}
