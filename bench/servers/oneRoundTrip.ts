import Koa from "koa";
import { Redis } from "ioredis";
import { listeningPort, onStop, tellRunner, type Ready } from "./ipc.js";

/**
 * The floor of any join with one Redis round trip: bare Koa reading one hash field (the meeting's node) over
 * ioredis, configured as the balancer configures it, and answering with a 302 of the balancer's Location length.
 * What a join costs beyond this is the balancer's own work (checksums, parameters, signing).
 */
const redisUrl = process.env["REDIS_URL"];
const locationBytes = Number(process.env["BENCH_LOCATION_BYTES"]);
if (redisUrl === undefined || !Number.isInteger(locationBytes) || locationBytes < 1) {
  throw new Error("REDIS_URL and BENCH_LOCATION_BYTES (a positive integer) are required");
}
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
const location = `http://127.0.0.1/${"x".repeat(Math.max(0, locationBytes - 17))}`;
const hashKey = "bench:one-round-trip";
await redis.hset(hashKey, "meeting", "node");

const app = new Koa();
app.use(async (ctx) => {
  const node = await redis.hget(hashKey, "meeting");
  ctx.status = 302;
  ctx.set("Location", `${location}${node ?? ""}`);
  ctx.body = "";
});

const server = app.listen(0, "127.0.0.1", () => {
  tellRunner({ type: "ready", port: listeningPort(server) } satisfies Ready);
});
onStop(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await redis.quit();
});
