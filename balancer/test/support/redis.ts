import { spawn, type ChildProcess } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";

/*
 * Ports between the media servers' fixed ranges in the tests (Janus RTP 20000-20999) and the kernel's ephemeral
 * range (Linux: 32768-60999, net.ipv4.ip_local_port_range). A port the kernel hands out for a listener and takes
 * back is ephemeral, and any outgoing connection of a test running beside this one may take it as its local port
 * before the caller binds it (EADDRINUSE); a port below that range is never taken that way.
 */
const freePortRange = { min: 21000, max: 32767 };
const handedOut = new Set<number>();

/** A loopback port that was free when checked and that no outgoing connection can take meanwhile. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomInt(freePortRange.min, freePortRange.max + 1);
    if (handedOut.has(port)) continue;
    // Reserved before the check, so concurrent callers in this process never get the same port.
    handedOut.add(port);
    if (await bindable(port)) return port;
    handedOut.delete(port);
  }
  throw new Error(`no free loopback port in ${freePortRange.min}-${freePortRange.max} after 100 tries`);
}

async function bindable(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, "127.0.0.1");
    // Rejects on the listener's error (EADDRINUSE, EACCES).
    await once(server, "listening");
  } catch {
    return false;
  }
  server.close();
  await once(server, "close");
  return true;
}

/** A Redis a test started itself and shares with fleets (a Redis Cluster, say); clients reach it by its URL. */
export interface SharedRedis {
  readonly url: string;
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Kills the server (SIGKILL when `hard`); its data directory stays for `restart`. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and directory, with what it persisted (nothing, with `empty`: a lost Redis). */
  restart(options?: { empty?: boolean }): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered, as in a stall or a failover. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT). */
  resume(): void;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

async function waitUntilReady(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

/**
 * Starts a real redis-server (from PATH) on a free loopback port with its own temporary directory.
 * `appendonly` is on so a restart keeps what was written, as a production Redis with persistence does.
 * `extraArgs` adds or overrides server settings (a cluster node's, for instance).
 */
export async function startRedis(extraArgs: readonly string[] = []): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "mediaplane-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", ...extraArgs],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    await waitUntilReady(child);
  };
  const stop = async (hard = false): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = once(running, "exit");
    running.kill(hard ? "SIGKILL" : "SIGTERM");
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    restart: async ({ empty = false } = {}) => {
      if (empty) {
        for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
      }
      await start();
    },
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
