/**
 * The CPU-load agent of a BBB node: serves the node's CPU utilisation as B3LB's node agent does (text, 0..10000,
 * the larger of the last ~10 s and ~60 s averages), so the balancer's load formula can weigh it.
 *
 * It runs on the node as a systemd service with Node's built-in modules only (one file, no npm install on the node):
 * it listens on loopback, and the node's own nginx (bbb-install's site, with the node's certificate) serves it over
 * HTTPS at the path the balancer's `loadUrl` names. Requests must carry the token in the `token` query parameter
 * (the balancer's poller sends a plain GET of `loadUrl`).
 *
 * Environment: LOAD_AGENT_TOKEN (required, at least 16 characters), LOAD_AGENT_LISTEN (`127.0.0.1:9890`),
 * LOAD_AGENT_PATH (`/b3lb/load`), LOAD_AGENT_SHORT_SECONDS (10), LOAD_AGENT_LONG_SECONDS (60),
 * LOAD_AGENT_SAMPLE_MS (1000).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

interface CpuSample {
  readonly at: number;
  /** Jiffies spent on anything but idle and iowait, since boot, all CPUs together. */
  readonly busy: number;
  readonly total: number;
}

interface AgentSettings {
  readonly token: string;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly shortMs: number;
  readonly longMs: number;
  readonly sampleMs: number;
}

/** The aggregate `cpu` line of /proc/stat (proc(5)): user nice system idle iowait irq softirq steal (guest is inside user). */
function readCpu(at: number): CpuSample {
  const line = readFileSync("/proc/stat", "utf8").split("\n").find((entry) => entry.startsWith("cpu "));
  if (line === undefined) throw new Error("/proc/stat has no aggregate cpu line");
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { at, busy: total - idle - iowait, total };
}

/** Utilisation (0..1) between the oldest sample within `windowMs` of the newest and the newest. */
function utilisation(samples: readonly CpuSample[], windowMs: number): number {
  const newest = samples[samples.length - 1];
  const oldest = samples.find((sample) => newest !== undefined && newest.at - sample.at <= windowMs);
  if (newest === undefined || oldest === undefined || newest.total === oldest.total) return 0;
  return Math.min(1, Math.max(0, (newest.busy - oldest.busy) / (newest.total - oldest.total)));
}

/** B3LB's figure: the larger of the short and long averages, 0..10000; undefined until two samples exist. */
function loadFigure(samples: readonly CpuSample[], settings: AgentSettings): number | undefined {
  if (samples.length < 2) return undefined;
  return Math.round(10_000 * Math.max(utilisation(samples, settings.shortMs), utilisation(samples, settings.longMs)));
}

const digest = (value: string): Buffer => createHash("sha256").update(value).digest();

/** Compared as digests, in constant time: the answer time tells nothing about how much of a guess was right. */
function tokenMatches(given: string | null, token: string): boolean {
  return given !== null && timingSafeEqual(digest(given), digest(token));
}

function answer(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
  response.end(`${body}\n`);
}

function handle(request: IncomingMessage, response: ServerResponse, settings: AgentSettings, samples: readonly CpuSample[]): void {
  const url = new URL(request.url ?? "/", "http://agent.invalid");
  if (url.pathname !== settings.path) return answer(response, 404, "not found");
  if (request.method !== "GET" && request.method !== "HEAD") return answer(response, 405, "method not allowed");
  if (!tokenMatches(url.searchParams.get("token"), settings.token)) return answer(response, 403, "missing or wrong token");
  const figure = loadFigure(samples, settings);
  if (figure === undefined) return answer(response, 503, "warming up");
  answer(response, 200, String(figure));
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

function readSettings(env: NodeJS.ProcessEnv): AgentSettings {
  const token = env["LOAD_AGENT_TOKEN"] ?? "";
  if (token.length < 16) throw new Error("LOAD_AGENT_TOKEN must be set to at least 16 characters");
  const listen = /^(.+):(\d{1,5})$/.exec(env["LOAD_AGENT_LISTEN"] ?? "127.0.0.1:9890");
  if (listen === null) throw new Error("LOAD_AGENT_LISTEN must be host:port");
  const path = env["LOAD_AGENT_PATH"] ?? "/b3lb/load";
  if (!path.startsWith("/")) throw new Error("LOAD_AGENT_PATH must start with /");
  const shortMs = 1000 * positiveNumber(env, "LOAD_AGENT_SHORT_SECONDS", 10);
  const longMs = 1000 * positiveNumber(env, "LOAD_AGENT_LONG_SECONDS", 60);
  return { token, host: listen[1] ?? "", port: Number(listen[2]), path, shortMs, longMs, sampleMs: positiveNumber(env, "LOAD_AGENT_SAMPLE_MS", 1000) };
}

function main(): void {
  let settings: AgentSettings;
  try {
    settings = readSettings(process.env);
  } catch (error) {
    process.stderr.write(`load agent: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const samples: CpuSample[] = [readCpu(Date.now())];
  const timer = setInterval(() => {
    const now = Date.now();
    samples.push(readCpu(now));
    // Keep one sample older than the long window, so that window always spans its full length.
    while (samples.length > 2 && now - (samples[1]?.at ?? now) > settings.longMs) samples.shift();
  }, settings.sampleMs);
  const server = createServer((request, response) => handle(request, response, settings, samples));
  server.listen(settings.port, settings.host, () => process.stdout.write(`load agent: serving ${settings.path} on ${settings.host}:${settings.port}\n`));
  const stop = (): void => {
    clearInterval(timer);
    server.close(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
