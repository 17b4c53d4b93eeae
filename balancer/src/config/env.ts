import { z } from "zod";
import { ConfigError, formatIssuePath } from "./schema.js";
import { redisUrlProtocol } from "../store/redisClient.js";

/**
 * What the program runs as: `api` (the BBB API), `poller` (polls the fleet, any number of replicas), `admin`
 * (only the admin server), `importer` (indexes the recordings share and applies retention, any number of
 * replicas), `recording-upload` (receives recordings from the nodes' post-publish hook onto the share), `playback`
 * (serves recordings' playback files from the share, mounted read-only, on the tenants' hosts). Every mode
 * also serves the admin server (probes, metrics, admin API) on ADMIN_PORT.
 */
export const modes = ["api", "poller", "admin", "importer", "recording-upload", "playback"] as const;
export type Mode = (typeof modes)[number];

const hostOrDomain = z.string().regex(/^[a-z0-9.-]+$/i, { error: "must be a host name" });

const envSchema = z.object({
  CONFIG_FILE: z.string().min(1, { error: "must name the balancer config file" }),
  /** One server (`redis://`, `rediss://` for TLS) or a seed node of a Redis Cluster (`redis+cluster://`, `rediss+cluster://`). */
  REDIS_URL: z.url({ protocol: redisUrlProtocol, error: "must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL" }),
  LISTEN_HOST: z.string().min(1).default("0.0.0.0"),
  PORT: z.coerce.number({ error: "must be a port number" }).int().min(0).max(65_535).default(8080),
  /** Tenants are served at `<tenant>.<BASE_DOMAIN>` and at `<BASE_DOMAIN>/t/<tenant>/`. */
  BASE_DOMAIN: hostOrDomain.transform((domain) => domain.toLowerCase()),
  /** Comma-separated IPs and CIDRs whose `X-Forwarded-Host`/`-Proto` are believed. */
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((list) => list.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "")),
  /**
   * The balancer's URL as BBB nodes reach it (end callbacks; webhook events, for which api and poller modes must
   * agree); default `https://<BASE_DOMAIN>` (nodes call `/t/_mediaplane/end` and `/t/_mediaplane/events/<node>`
   * on it, routed on any host). Never taken from a request's Host, which a client can forge.
   */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Key for signing end callback URLs; default derived from the node secrets, so every replica agrees. */
  CALLBACK_SECRET: z.string().min(16, { error: "must be at least 16 characters" }).optional(),
  MODE: z.enum(modes).default("api"),
  /** The admin server (probes, /metrics, /admin/*): never routed by the tenant ingress. */
  ADMIN_HOST: z.string().min(1).default("0.0.0.0"),
  ADMIN_PORT: z.coerce.number({ error: "must be a port number" }).int().min(0).max(65_535).default(9090),
  /** Bearer token of the admin API and /metrics; unset: only the probes answer. */
  ADMIN_TOKEN: z.string().min(16, { error: "must be at least 16 characters" }).optional(),
  /**
   * How long requests in flight may take to finish after SIGTERM; then open connections are closed. Keep it below
   * the pod's termination grace period.
   */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number({ error: "must be a number of seconds" }).min(0).max(600).default(20),
  /** Names this poller in its leases and logs; default: a random ID per process. */
  POLLER_ID: z.string().min(1).optional(),
  /** Where the recordings share is mounted (docs/recordings.md); the importer and recording-upload modes need it. */
  RECORDINGS_DIR: z.string().startsWith("/", { error: "must be an absolute path" }).optional(),
  /** How often the importer walks the share. */
  IMPORT_INTERVAL_SECONDS: z.coerce.number({ error: "must be a number of seconds" }).min(1).max(86_400).default(30),
  /** The largest single file of a recording the upload endpoint takes (a long meeting's webcam video). */
  RECORDING_MAX_FILE_MB: z.coerce.number({ error: "must be a number of megabytes" }).int().min(1).max(1_048_576).default(16_384),
  /** The playback mode's copy of the 2.3 player (bbb-playback's build); unset: recordings' files only. */
  PLAYBACK_PLAYER_DIR: z.string().startsWith("/", { error: "must be an absolute path" }).optional(),
});

export type Env = z.infer<typeof envSchema>;

/** Parses the process environment; a bad or missing variable fails with one message naming it. */
export function parseEnv(env: NodeJS.ProcessEnv): Env {
  const result = envSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = issue === undefined ? "environment" : formatIssuePath(issue.path);
  const message = issue?.code === "invalid_type" && env[name] === undefined ? "is required" : (issue?.message ?? "invalid");
  throw new ConfigError(`environment variable ${name}: ${message}`);
}
