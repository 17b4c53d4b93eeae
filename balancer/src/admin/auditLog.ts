import type { RedisClient } from "../store/redisClient.js";
import { keys } from "../store/keys.js";

/** One operator action, as the console's action log shows it. */
export interface AuditEntry {
  /** ISO time. */
  at: string;
  /** The operator's name (console) or `admin API` (bearer token), with the client address. */
  who: string;
  /** e.g. `cordon`, `end meeting`. */
  action: string;
  /** e.g. `bbb1`, `acme/weekly`. */
  target: string;
  /** What came of it, in a few words. */
  outcome: string;
}

/** Enough for a shift's worth of actions; older ones remain in the logs. */
export const auditLogLength = 200;

/** Adds an action to the log every admin replica shares (newest first, bounded). */
export async function recordAction(redis: RedisClient, entry: AuditEntry): Promise<void> {
  await redis.multi().lpush(keys.consoleAudit(), JSON.stringify(entry)).ltrim(keys.consoleAudit(), 0, auditLogLength - 1).exec();
}

function isAuditEntry(value: unknown): value is AuditEntry {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return ["at", "who", "action", "target", "outcome"].every((field) => typeof entry[field] === "string");
}

export async function recentActions(redis: RedisClient, count: number): Promise<AuditEntry[]> {
  const lines = await redis.lrange(keys.consoleAudit(), 0, count - 1);
  return lines.flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return isAuditEntry(parsed) ? [parsed] : [];
    } catch {
      return [];
    }
  });
}
