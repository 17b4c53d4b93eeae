import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Protected playback: a playback URL in getRecordings carries `?token=<expiry>.<signature>`, a signature over one
 * record ID and an expiry, so it opens that recording only, and only until it expires. The playback server trades
 * a valid token for a cookie holding one of its own, which every file of the recording is then checked against.
 */

/** The query parameter a protected playback URL carries. */
export const tokenParameter = "token";

/** The cookie a recording's token is kept in: one per recording, so tokens of two recordings never mix. */
export function playbackCookieName(recordId: string): string {
  return `mp_playback_${recordId}`;
}

function signature(key: string, recordId: string, expiresAt: number): string {
  return createHmac("sha256", key).update(`mediaplane playback\n${recordId}\n${expiresAt}`).digest("base64url");
}

/** A token for one recording, valid until `expiresAt` (seconds since the epoch). */
export function playbackToken(key: string, recordId: string, expiresAt: number): string {
  return `${expiresAt}.${signature(key, recordId, expiresAt)}`;
}

/** Whether `token` opens `recordId` at `now` (seconds since the epoch). */
export function verifyPlaybackToken(key: string, recordId: string, token: string, now: number): boolean {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (match === null) return false;
  const expiresAt = Number(match[1]);
  if (expiresAt <= now) return false;
  const expected = Buffer.from(signature(key, recordId, expiresAt));
  const given = Buffer.from(match[2] ?? "");
  return expected.length === given.length && timingSafeEqual(expected, given);
}
