import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether an `Authorization: Bearer <token>` header carries the admin token. Both sides are hashed first, so the
 * comparison takes the same time whatever the length or the first wrong character of a guess.
 */
export function bearerTokenMatches(authorization: string | undefined, adminToken: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (match?.[1] === undefined) return false;
  const digest = (text: string): Buffer => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(match[1]), digest(adminToken));
}
