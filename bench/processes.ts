import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Every server under test runs in a child process of its own, as it would in a deployment, so the load generator
 * (this process) never shares an event loop with what it measures. A `.ts` entry runs through tsx (helpers whose
 * memory is not measured), a `.js` entry on plain node (the measured servers, compiled as for a deployment).
 */
export interface Child {
  readonly pid: number;
  isRunning(): boolean;
  /** The last few kB the child wrote to stderr, for error messages. */
  stderrTail(): string;
  /** Stops the child (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>;
  /** Resident set size now, from /proc (the balancer runs on Linux in production, and here). */
  rssBytes(): Promise<number>;
  /** Open file descriptors now (sockets, mostly), from /proc. */
  openFiles(): Promise<number>;
  /** CPU time (user + system) the child has used so far, in seconds. */
  cpuSeconds(): Promise<number>;
  /** The next IPC message the child sends. */
  nextMessage<T>(): Promise<T>;
}

export interface SpawnArgs {
  /** The entry point: compiled JavaScript, or TypeScript run through tsx. */
  readonly entry: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** A name for error messages and log prefixes. */
  readonly name: string;
}

const stopGraceMs = 10_000;
const children = new Set<ChildProcess>();

/** Leaves no child behind when the runner fails or is interrupted. */
export function killAllChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

export function spawnChild({ entry, env = {}, nodeFlags = [], name }: SpawnArgs): Child {
  const loader = entry.endsWith(".ts") ? ["--import", "tsx"] : [];
  const child = spawn(process.execPath, [...nodeFlags, ...loader, entry], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  children.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  // Messages are queued as they arrive, so none is lost between two `nextMessage` calls.
  const inbox: unknown[] = [];
  const waiting: Array<{ resolve: (message: unknown) => void; reject: (error: Error) => void }> = [];
  child.on("message", (message: unknown) => {
    const waiter = waiting.shift();
    if (waiter === undefined) inbox.push(message);
    else waiter.resolve(message);
  });
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  const exited = once(child, "exit").then(([code, signal]) => {
    children.delete(child);
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`${name} exited (${String(signal ?? code)}):\n${stderr}`));
  });
  if (child.pid === undefined) throw new Error(`${name}: could not be started`);
  const pid = child.pid;
  return {
    pid,
    isRunning,
    stderrTail: () => stderr,
    async stop() {
      if (!isRunning()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), stopGraceMs);
      await exited;
      clearTimeout(timer);
    },
    async rssBytes() {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
      if (match === null) throw new Error(`${name}: no VmRSS in /proc/${pid}/status`);
      return Number(match[1]) * 1024;
    },
    cpuSeconds: () => processCpuSeconds(pid),
    async openFiles() {
      return (await readdir(`/proc/${pid}/fd`)).length;
    },
    nextMessage<T>() {
      const queued = inbox.shift();
      if (queued !== undefined) return Promise.resolve(queued as T);
      if (!isRunning()) return Promise.reject(new Error(`${name} has exited:\n${stderr}`));
      return new Promise<T>((resolve, reject) => waiting.push({ resolve: resolve as (message: unknown) => void, reject }));
    },
  };
}

/**
 * Node flags that write V8 CPU profiles into `<dir>/<name>/` when the process exits; none without a dir. One
 * directory per process, because a loader thread (tsx) writes a profile of its own: Node's default file names
 * tell the threads apart (the main thread's has thread id 0).
 */
export function cpuProfileFlags(dir: string | undefined, name: string): string[] {
  return dir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${join(dir, name)}`];
}

/** Linux reports process CPU time in clock ticks of 1/100 s on every architecture Node runs on. */
const clockTicksPerSecond = 100;

/** User + system CPU time of any process, from /proc/<pid>/stat. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const [utime, stime] = [Number(fields[11]), Number(fields[12])];
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot read the CPU time of process ${pid}`);
  return (utime + stime) / clockTicksPerSecond;
}

/** Waits until `url` answers at all (any HTTP status), for children that do not speak IPC. */
export async function waitForHttp(url: string, child: Child, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(1_000) });
      return;
    } catch (error) {
      if (!child.isRunning()) throw new Error(`${name} exited before answering ${url}:\n${child.stderrTail()}`);
      if (Date.now() > deadline) throw new Error(`${name} did not answer ${url} within ${timeoutMs} ms: ${String(error)}`);
      await sleep(100);
    }
  }
}
