import { createHash } from "node:crypto";
import Koa from "koa";
import { Redis } from "ioredis";
import { listeningPort, onStop, tellRunner, type Ready } from "./ipc.js";
import { naiveMeetingKey, type NaiveMeeting } from "./naiveMeeting.js";

/**
 * The issue's calibration: a join handler as one would first write it. Koa, one JSON blob per meeting in Redis
 * (`GET` and `JSON.parse`), the client's checksum checked and the node's URL signed with `createHash`, the node's
 * query re-encoded through `URLSearchParams`, `ctx.redirect`. It answers the benchmark's joins as the balancer
 * does (a 302 to the node's signed join URL); what it lacks is the balancer's design.
 */
const redisUrl = process.env["REDIS_URL"];
const tenantSecret = process.env["BENCH_TENANT_SECRET"];
if (redisUrl === undefined || tenantSecret === undefined) throw new Error("REDIS_URL and BENCH_TENANT_SECRET are required");
const redis = new Redis(redisUrl);
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

const app = new Koa();
app.use(async (ctx) => {
  const params = new URLSearchParams(ctx.querystring);
  const covered = ctx.querystring.replace(/&?checksum=[^&]*/, "");
  const blob = sha256(`join${covered}${tenantSecret}`) === params.get("checksum") ? await redis.get(naiveMeetingKey(params.get("meetingID") ?? "")) : null;
  if (blob === null) {
    ctx.type = "text/xml";
    ctx.body = "<response><returncode>FAILED</returncode><messageKey>notFound</messageKey></response>";
    return;
  }
  const meeting = JSON.parse(blob) as NaiveMeeting;
  params.delete("checksum");
  params.set("meetingID", meeting.nodeMeetingId);
  const query = params.toString();
  ctx.redirect(`${meeting.nodeApiUrl}join?${query}&checksum=${sha256(`join${query}${meeting.nodeSecret}`)}`);
});

const server = app.listen(0, "127.0.0.1", () => {
  tellRunner({ type: "ready", port: listeningPort(server) } satisfies Ready);
});
onStop(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await redis.quit();
});
