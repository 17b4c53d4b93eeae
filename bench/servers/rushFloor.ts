import Koa from "koa";
import { listeningPort, onStop, tellRunner, type Ready } from "./ipc.js";

/**
 * The floor of the top-of-the-hour rush: bare Koa answering the rush's creates and joins from memory (no checksums,
 * no Redis, no nodes, no pollers), one process for both replicas' share. A create remembers its meeting and answers
 * SUCCESS (duplicateWarning when it knows it); a join of a known meeting gets a 302 to a node, of an unknown one
 * bbb-web's not-yet-created answer, so the early attendees retry exactly as against the balancer. Sent the same
 * schedule right after the balancer, it shows what this machine and load generator allowed at that moment.
 */
const created = new Set<string>();
const xml = (inner: string): string => `<response><returncode>${inner}</response>`;
const notYetCreated = xml("FAILED</returncode><messageKey>invalidMeetingIdentifier</messageKey><message>A meeting with that ID does not exist</message>");

const app = new Koa();
app.use((ctx) => {
  const meetingId = ctx.query["meetingID"];
  if (typeof meetingId !== "string") {
    ctx.status = 400;
    return;
  }
  if (ctx.path.endsWith("/create")) {
    ctx.type = "text/xml";
    ctx.body = xml(created.has(meetingId) ? "SUCCESS</returncode><messageKey>duplicateWarning</messageKey>" : "SUCCESS</returncode>");
    created.add(meetingId);
  } else if (created.has(meetingId)) {
    ctx.res.writeHead(302, { Location: `http://127.0.0.1/floor-node/bigbluebutton/api/join?meetingID=${encodeURIComponent(meetingId)}`, "Content-Length": "0" }).end();
    ctx.respond = false;
  } else {
    ctx.type = "text/xml";
    ctx.body = notYetCreated;
  }
});

const server = app.listen(0, "127.0.0.1", () => {
  tellRunner({ type: "ready", port: listeningPort(server) } satisfies Ready);
});
onStop(() => new Promise<void>((resolve) => server.close(() => resolve())));
