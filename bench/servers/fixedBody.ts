import { readFileSync } from "node:fs";
import Koa from "koa";
import { listeningPort, onStop, tellRunner, type Ready } from "./ipc.js";

/**
 * The ceiling for large answers: bare Koa sending a prepared answer, the exact bytes in BENCH_BODY_FILE (the
 * getMeetings answer being measured, as sent on the wire). The same bytes, not just the same size: the load
 * generator decodes every answer as UTF-8 text, which costs far more for gzip bytes than for plain XML.
 */
const file = process.env["BENCH_BODY_FILE"];
if (file === undefined || file === "") throw new Error("BENCH_BODY_FILE must name the file holding the answer to send");
const body = readFileSync(file);

const app = new Koa();
app.use((ctx) => {
  ctx.type = "text/xml";
  ctx.body = body;
});

const server = app.listen(0, "127.0.0.1", () => {
  tellRunner({ type: "ready", port: listeningPort(server) } satisfies Ready);
});
onStop(() => new Promise<void>((resolve) => server.close(() => resolve())));
