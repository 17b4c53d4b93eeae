import type { Server } from "node:http";

/** What a bench child tells the runner once it listens. */
export interface Ready {
  readonly type: "ready";
  readonly port: number;
}

export function listeningPort(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("server is not listening on a TCP port");
  return address.port;
}

/** Sends a message to the runner; a bench child is always started with an IPC channel. */
export function tellRunner(message: unknown): void {
  if (process.send === undefined) throw new Error("this bench child must be started by the bench runner (no IPC channel)");
  process.send(message);
}

/** Runs `cleanup` once when the runner stops the child (SIGTERM) or goes away (IPC channel closed), then exits. */
export function onStop(cleanup: () => Promise<void> | void): void {
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await cleanup();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("disconnect", () => void stop());
}
