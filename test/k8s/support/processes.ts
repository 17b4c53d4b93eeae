import { spawn, type ChildProcess } from "node:child_process";

/** A server process a test started, with everything it printed so far. */
export interface StartedProcess {
  readonly process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a program, collecting stdout and stderr; `stop` sends SIGTERM and waits for the exit. */
export function startProcess(command: string, args: string[]): StartedProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Retries `attempt` until it resolves or the deadline passes (servers need a moment to bind). */
export async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
