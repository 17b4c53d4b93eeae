import Koa from "koa";
import { listeningPort, onStop, tellRunner, type Ready } from "./ipc.js";

/**
 * The baseline: a bare Koa hello-world, what Node and Koa can serve on this machine at all. Every throughput figure
 * of the balancer is also reported as a ratio to it.
 */
const app = new Koa();
app.use((ctx) => {
  ctx.body = "Hello World";
});

const server = app.listen(0, "127.0.0.1", () => {
  tellRunner({ type: "ready", port: listeningPort(server) } satisfies Ready);
});
onStop(() => new Promise<void>((resolve) => server.close(() => resolve())));
