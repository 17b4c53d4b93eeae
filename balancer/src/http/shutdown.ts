import type { Server } from "node:http";

/** Within Kubernetes' default 30 s termination grace period, with room for Redis and the node pools to close. */
export const defaultShutdownGraceMs = 20_000;

/**
 * Stops a server the way a rolling update needs: no new connections, each keep-alive connection closed as soon as
 * its last answer is out, requests in flight given `graceMs` to finish. Then every connection still open (a
 * client that sent half a request, a request still waiting on a node) is closed, so a stop never waits on a
 * client: the process exits within the pod's termination grace period.
 */
export async function closeGracefully(server: Server, graceMs = defaultShutdownGraceMs): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweeper = setInterval(() => server.closeIdleConnections(), 50);
  const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
  server.closeIdleConnections();
  try {
    await closed;
  } finally {
    clearInterval(sweeper);
    clearTimeout(deadline);
  }
}
