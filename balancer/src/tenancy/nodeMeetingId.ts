import { createHash } from "node:crypto";

/** bbb-web refuses meeting IDs longer than this. */
export const maxMeetingIdLength = 256;

/**
 * The meeting ID a node sees for a tenant's meeting. Tenants share nodes and may pick the same meeting IDs, so
 * the node gets the tenant's slug in front: `<tenant>~<meetingID>`, readable for operators on the node. When that
 * would exceed BBB's length limit, `<tenant>#<sha256 hex of meetingID>` stands in (its reverse lives in Redis,
 * see `keys.longMeetingIds`). Slugs cannot contain `~` or `#`, so both forms parse back unambiguously.
 */
export function nodeMeetingId(tenant: string, meetingId: string): string {
  const readable = `${tenant}~${meetingId}`;
  return readable.length <= maxMeetingIdLength ? readable : `${tenant}#${hashMeetingId(meetingId)}`;
}

export function hashMeetingId(meetingId: string): string {
  return createHash("sha256").update(meetingId).digest("hex");
}

export type ParsedNodeMeetingId =
  | { kind: "readable"; tenant: string; meetingId: string }
  | { kind: "hashed"; tenant: string; meetingIdHash: string };

/** Reads a node's meeting ID back; `undefined` for meetings the balancer did not create (breakouts, manual ones). */
export function parseNodeMeetingId(id: string): ParsedNodeMeetingId | undefined {
  const match = /^([a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)([~#])(.+)$/s.exec(id);
  if (match === null) return undefined;
  const [, tenant, separator, rest] = match as unknown as [string, string, string, string];
  if (separator === "~") return { kind: "readable", tenant, meetingId: rest };
  return /^[0-9a-f]{64}$/.test(rest) ? { kind: "hashed", tenant, meetingIdHash: rest } : undefined;
}
