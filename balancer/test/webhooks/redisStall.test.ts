import { afterAll, beforeAll, expect, it } from "vitest";
import { NodeClients } from "../../src/nodes/client.js";
import { buildDirectory } from "../../src/tenancy/directory.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { registerOnNode } from "../../src/webhooks/registration.js";
import { field, get, signedUrl, startFleet, tenants, type Fleet } from "../api/harness.js";
import { freePort } from "../support/redis.js";
import { eventsOf, hooksCall, startReceiver, until, withWebhooks, type Receiver } from "./support.js";

/**
 * Redis stalls while a node posts an event: the balancer cannot tell whose hooks get it, so it answers 503 and
 * relays nothing; bbb-webhooks retries (src/out/webhooks/callback-emitter.js), and once Redis answers again the
 * event reaches the tenant's hook, once, in order.
 */

let fleet: Fleet;
let receiver: Receiver;

beforeAll(async () => {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  fleet = await startFleet({ nodeIds: ["n1"], port, publicUrl, configure: withWebhooks() });
  const directory = buildDirectory(fleet.config);
  const clients = new NodeClients(directory.nodes.values(), { timeoutMs: 2_000 });
  expect(await registerOnNode(clients, directory.nodes.get("n1")!, publicUrl)).toBe("created");
  expect(await registerOnNode(clients, directory.nodes.get("n1")!, publicUrl)).toBe("present");
  await clients.close();
  receiver = await startReceiver();
});
afterAll(async () => {
  fleet.redis.resume();
  await receiver.close();
  await fleet.close();
});

it("refuses a node's event while Redis stalls and relays it once the node retries after Redis is back", async () => {
  const balancer = fleet.balancers[0]!;
  expect(field(await hooksCall(balancer, tenants.acme, "create", { callbackURL: receiver.url }), "returncode")).toBe("SUCCESS");
  expect(field((await get(signedUrl(balancer, tenants.acme, "create", { name: "Stalled", meetingID: "stalled" }))).body, "returncode")).toBe("SUCCESS");
  await until(() => receiver.posts.length === 1, "the meeting-created");
  const node = fleet.simulator.node("n1");
  const attemptsBefore = node.webhookAttempts.length;

  fleet.redis.pause();
  node.addAttendees(nodeMeetingId("acme", "stalled"), 1);
  await until(() => node.webhookAttempts.slice(attemptsBefore).some((attempt) => attempt.outcome === 503), "the balancer's 503");
  fleet.redis.resume();

  await until(() => receiver.posts.length === 2, "the user-joined");
  // A later event is the barrier: a second copy of the stalled one would have come before it.
  node.removeAttendees(nodeMeetingId("acme", "stalled"), 1);
  await until(() => receiver.posts.length >= 3, "the user-left");
  expect(eventsOf(receiver.posts).map((event) => [event.data.id, event.data.attributes.meeting["external-meeting-id"]])).toEqual([
    ["meeting-created", "stalled"],
    ["user-joined", "stalled"],
    ["user-left", "stalled"],
  ]);
});
