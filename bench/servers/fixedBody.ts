import Koa from "koa";
import { listeningPort, onStop, tellRunner, type Ready } from "./ipc.js";

/**
 * The ceiling for large answers: bare Koa sending a prepared answer of BENCH_BODY_BYTES bytes (the size of the
 * getMeetings answer being measured). No server can send that answer faster than this one sends its bytes.
 */
const bytes = Number(process.env["BENCH_BODY_BYTES"]);
if (!Number.isInteger(bytes) || bytes < 1) throw new Error(`BENCH_BODY_BYTES must be a positive integer, got ${process.env["BENCH_BODY_BYTES"]}`);
const body = Buffer.alloc(bytes, "x");

const app = new Koa();
app.use((ctx) => {
  ctx.type = "text/xml";
  ctx.body = body;
});

const server = app.listen(0, "127.0.0.1", () => {
  tellRunner({ type: "ready", port: listeningPort(server) } satisfies Ready);
});
onStop(() => new Promise<void>((resolve) => server.close(() => resolve())));
