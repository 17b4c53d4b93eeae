import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { RedisClient } from "../../store/redisClient.js";
import { keys } from "../../store/keys.js";

/** An operator logged in to the console. */
export interface ConsoleSession {
  /** The name the operator gave at login: "who" in the action log. */
  operator: string;
  /** The token every form of this session carries, so another site cannot make the browser act. */
  csrfToken: string;
  createdAt: number;
}

/** A session lasts a working shift; logging out ends it at once. */
export const sessionTtlSeconds = 8 * 60 * 60;

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/** Compares two secrets in time that does not depend on where they differ. */
export function secretsMatch(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Which admin token a session was opened with: changing the token ends every session. */
function tokenFingerprint(adminToken: string): string {
  return createHash("sha256").update(`mediaplane console\n${adminToken}`).digest("hex").slice(0, 16);
}

/** Redis holds only a hash of the session ID, so reading Redis does not give anyone a session. */
function sessionKey(sessionId: string): string {
  return keys.consoleSession(createHash("sha256").update(sessionId).digest("hex"));
}

export function newSecretToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Opens a session in Redis (shared by every admin server replica); answers the ID for the cookie. */
export async function openSession(redis: RedisClient, adminToken: string, operator: string, now = Date.now()): Promise<string> {
  const sessionId = newSecretToken();
  const key = sessionKey(sessionId);
  await redis
    .multi()
    .hset(key, { operator, csrfToken: newSecretToken(), createdAt: String(now), token: tokenFingerprint(adminToken) })
    .expire(key, sessionTtlSeconds)
    .exec();
  return sessionId;
}

export async function readSession(redis: RedisClient, adminToken: string, sessionId: string): Promise<ConsoleSession | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
  const hash = await redis.hgetall(sessionKey(sessionId));
  const { operator, csrfToken, createdAt, token } = hash;
  if (operator === undefined || csrfToken === undefined || createdAt === undefined || token !== tokenFingerprint(adminToken)) return undefined;
  return { operator, csrfToken, createdAt: Number(createdAt) };
}

export async function closeSession(redis: RedisClient, sessionId: string): Promise<void> {
  await redis.del(sessionKey(sessionId));
}
