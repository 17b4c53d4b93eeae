import Koa from "koa";
import { Redis } from "ioredis";
import { keys } from "@mediaplane/balancer/keys";
import { MeetingNodeLookups } from "@mediaplane/balancer/meetingNodeLookups";
import { listeningPort, onStop, tellRunner, type Ready } from "./ipc.js";

/**
 * The floor of the balancer's join: bare Koa finding the meeting's node with the balancer's own lookup (batched
 * HMGETs, over ioredis configured as the balancer configures it) and answering with a 302 of
 * the balancer's Location length, written as the balancer writes it. What a join costs beyond this is the
 * balancer's own work: routing, the two checksums, the node's query, metrics.
 */
const redisUrl = process.env["REDIS_URL"];
const locationBytes = Number(process.env["BENCH_LOCATION_BYTES"]);
if (redisUrl === undefined || !Number.isInteger(locationBytes) || locationBytes < 1) {
  throw new Error("REDIS_URL and BENCH_LOCATION_BYTES (a positive integer) are required");
}
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
const location = `http://127.0.0.1/${"x".repeat(Math.max(0, locationBytes - 17))}`;
const tenant = "bench-floor";
const lookups = new MeetingNodeLookups(redis);
await redis.hset(keys.meetings(tenant), "meeting", "node");

const app = new Koa();
app.use(async (ctx) => {
  const node = await lookups.nodeOf(tenant, "meeting");
  ctx.res.writeHead(302, { Location: `${location}${node ?? ""}`, "Content-Length": "0" }).end();
  ctx.respond = false;
});

const server = app.listen(0, "127.0.0.1", () => {
  tellRunner({ type: "ready", port: listeningPort(server) } satisfies Ready);
});
onStop(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await redis.quit();
});
