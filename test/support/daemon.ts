import { spawn } from "node:child_process";
import { once } from "node:events";

/** A server process a test started, once it said it is ready. */
export interface StartedDaemon {
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Ends it (SIGTERM), waits for the exit, then runs the cleanup. */
  stop(): Promise<void>;
}

export interface DaemonOptions {
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Whether what it printed so far says it serves. */
  ready: (output: string) => boolean;
  /** What it is waiting for, for the error when it does not come. */
  readyWhat: string;
  timeoutMs: number;
  /** Runs after the process is gone (temp dirs), also when it never got ready. */
  cleanup: () => Promise<void>;
}

/** Starts a daemon in the foreground and resolves once `ready`; rejects (and stops it) on exit or timeout. */
export async function startDaemon(options: DaemonOptions): Promise<StartedDaemon> {
  const child = spawn(options.command, [...options.args], { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, "exit");
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    await options.cleanup();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.command} did not ${options.readyWhat} within ${options.timeoutMs} ms:\n${output}`)), options.timeoutMs);
      const watch = (): void => {
        if (options.ready(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", watch);
      child.stderr.on("data", watch);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${options.command} exited (${code ?? signal}) before it would ${options.readyWhat}:\n${output}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { output: () => output, stop };
}
