import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

/**
 * Keys whose values never reach a log line, wherever they sit in a logged object (two levels deep covers
 * `{ node: { secret } }` and `{ req: { headers: { authorization } } }`). Censoring by configuration, not by
 * every call site remembering to.
 */
const secretKeys = ["secret", "secrets", "checksum", "token", "adminToken", "password", "attendeePW", "moderatorPW", "authorization", "cookie"];

const redactPaths = [
  ...secretKeys,
  ...secretKeys.map((key) => `*.${key}`),
  ...secretKeys.map((key) => `*.*.${key}`),
  'req.headers["x-admin-token"]',
];

/** Signed URLs carry their checksum (and passwords) in the query: keep the call, drop the proof. */
const sensitiveQueryParameter = /([?&](?:checksum|password|attendeePW|moderatorPW)=)[^&#\s"]*/gi;

export function scrubUrl(text: string): string {
  return text.replace(sensitiveQueryParameter, "$1[Redacted]");
}

function scrubStrings(value: unknown, depth: number): unknown {
  if (typeof value === "string") return scrubUrl(value);
  if (depth > 3 || value === null || typeof value !== "object" || Array.isArray(value)) return value;
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = scrubStrings(inner, depth + 1);
  return out;
}

/** Errors from HTTP clients quote the URL they failed on, checksum included. */
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  return scrubStrings(serialized, 0);
}

export interface LoggerSettings {
  /** Component name on every line (`api`, `poller`, `admin`, `cli`). */
  name: string;
  level?: string;
  /** Where lines go; stdout unless a test captures them. */
  destination?: pino.DestinationStream;
}

/** The one way this package makes loggers: JSON lines, secrets redacted by key, checksums scrubbed from URLs. */
export function createLogger({ name, level = process.env["LOG_LEVEL"] ?? "info", destination }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: redactPaths, censor: "[Redacted]" },
    formatters: { log: (object) => scrubStrings(object, 0) as Record<string, unknown> },
    serializers: { err: serializeError },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === "string" ? scrubUrl(arg) : arg));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
