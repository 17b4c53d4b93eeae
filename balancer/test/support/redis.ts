import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  server.close();
  await once(server, "close");
  return address.port;
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
