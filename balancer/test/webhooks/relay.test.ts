import { Writable } from "node:stream";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.js";
import { registry } from "../../src/observability/metrics.js";
import { startPoller, type Poller } from "../../src/poller/poller.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { callbackChecksum, eventPostBody, signedCallbackUrl } from "../../src/webhooks/callbackChecksum.js";
import { nodeEventsUrl } from "../../src/webhooks/nodeEvents.js";
import { field, get, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "../api/harness.js";
import { freePort } from "../support/redis.js";
import { eventsOf, hooksCall, startReceiver, until, withWebhooks, type Receiver } from "./support.js";

/**
 * Events from the nodes' bbb-webhooks to the tenants' hooks, end to end over real HTTP: simulated nodes post to
 * the hook the poller registered on them, the balancer relays each event to the hooks of the tenant that owns
 * the meeting. Wire format and signatures as bbb-webhooks v3.4.0 (src/out/webhooks/callback-emitter.js).
 */

const silent = createLogger({ name: "test", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });
const retryIntervalsMs = [40, 80, 160];
let fleet: Fleet;
let poller: Poller;
let publicUrl: string;
const receivers: Receiver[] = [];

beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  fleet = await startFleet({ nodeIds: ["n1"], port, publicUrl, configure: withWebhooks({ retryIntervalsMs, requestTimeoutMs: 30_000 }) });
  poller = startPoller({ redis: fleet.balancers[0]!.redis, config: fleet.config, logger: silent, publicUrl, intervalMs: 250 });
});
afterAll(async () => {
  await poller.stop();
  await fleet.close();
});
beforeEach(async () => {
  await resetFleet(fleet);
  await until(() => node().hooks.length === 1, "the balancer's hook on the node");
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

const balancer = (): Fleet["balancers"][number] => fleet.balancers[0]!;
const node = (): ReturnType<Fleet["simulator"]["node"]> => fleet.simulator.node("n1");

async function receiver(behaviour: Receiver["behaviour"] = "ok"): Promise<Receiver> {
  const started = await startReceiver(behaviour);
  receivers.push(started);
  return started;
}

async function hookFor(tenant: { slug: string; secret: string }, target: Receiver | string, params: Record<string, string> = {}): Promise<string> {
  const xml = await hooksCall(balancer(), tenant, "create", { callbackURL: typeof target === "string" ? target : target.url, ...params });
  expect(field(xml, "returncode")).toBe("SUCCESS");
  return field(xml, "hookID") ?? "";
}

async function createMeeting(tenant: { slug: string; secret: string }, meetingID: string, extra: Record<string, string> = {}): Promise<void> {
  const answer = await get(signedUrl(balancer(), tenant, "create", { name: "Webhook room", meetingID, ...extra }));
  expect(field(answer.body, "returncode")).toBe("SUCCESS");
}

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const value = metric?.values.find((entry) => Object.entries(labels).every(([label, wanted]) => entry.labels[label] === wanted));
  return Number(value?.value ?? 0);
}

const meetingIdsOf = (target: Receiver): unknown[] => eventsOf(target.posts).map((event) => event.data.attributes.meeting["external-meeting-id"]);

describe("the balancer's hook on the nodes", () => {
  it("is registered by the poller on every node, pointing at the balancer's node events endpoint", () => {
    expect(node().hooks.map((hook) => hook.callbackURL)).toEqual([nodeEventsUrl(publicUrl, "n1")]);
  });

  it("is registered again after a node forgot it", async () => {
    node().forgetHooks();
    await until(() => node().hooks.length === 1, "the hook registered again");
    expect(node().hooks[0]!.callbackURL).toBe(nodeEventsUrl(publicUrl, "n1"));
  });
});

describe("relaying events to tenants", () => {
  it("sends an event of tenant A's meeting to A's hooks only, with A's meeting ID and a checksum of A's secret", async () => {
    const acme = await receiver();
    const globex = await receiver();
    await hookFor(tenants.acme, acme);
    await hookFor(tenants.globex, globex);
    await createMeeting(tenants.acme, "planning", { "meta_course": "math" });
    await until(() => acme.posts.length === 1, "acme's meeting-created");
    // globex's own meeting is the barrier: once its event is in, anything of acme's would have been too.
    await createMeeting(tenants.globex, "standup");
    await until(() => globex.posts.length === 1, "globex's meeting-created");
    expect(meetingIdsOf(acme)).toEqual(["planning"]);
    expect(meetingIdsOf(globex)).toEqual(["standup"]);

    const [post] = acme.posts;
    const checksum = new URLSearchParams(post!.url.split("?")[1]).get("checksum");
    expect(checksum).toBe(callbackChecksum("sha1", acme.url, post!.body, tenants.acme.secret));
    expect(checksum).not.toBe(callbackChecksum("sha1", acme.url, post!.body, tenants.globex.secret));
    const form = new URLSearchParams(post!.body);
    expect(form.get("domain")).toBe("acme.bbb.test");
    const meeting = eventsOf(acme.posts)[0]!.data.attributes.meeting;
    expect(meeting["metadata"]).toEqual({ course: "math" });
    expect(JSON.stringify(meeting)).not.toMatch(/acme~|_mediaplane|mediaplane-/);
  });

  it("keeps two tenants' meetings of the same ID apart", async () => {
    const acme = await receiver();
    const globex = await receiver();
    await hookFor(tenants.acme, acme, { meetingID: "shared" });
    await hookFor(tenants.globex, globex, { meetingID: "shared" });
    await createMeeting(tenants.acme, "shared");
    await createMeeting(tenants.globex, "shared");
    node().addAttendees(nodeMeetingId("acme", "shared"), 2);
    node().addAttendees(nodeMeetingId("globex", "shared"), 1);
    await until(() => acme.posts.length === 3 && globex.posts.length === 2, "each tenant's events");
    const internalId = (tenant: string): string | undefined => node().meeting(nodeMeetingId(tenant, "shared"))?.internalMeetingId;
    expect(eventsOf(acme.posts).map((event) => event.data.id)).toEqual(["meeting-created", "user-joined", "user-joined"]);
    expect(eventsOf(globex.posts).map((event) => event.data.id)).toEqual(["meeting-created", "user-joined"]);
    expect(new Set(eventsOf(acme.posts).map((event) => event.data.attributes.meeting["internal-meeting-id"]))).toEqual(new Set([internalId("acme")]));
    expect(new Set(eventsOf(globex.posts).map((event) => event.data.attributes.meeting["internal-meeting-id"]))).toEqual(new Set([internalId("globex")]));
    expect(new Set([...meetingIdsOf(acme), ...meetingIdsOf(globex)])).toEqual(new Set(["shared"]));
  });

  it("gives a global hook every meeting of its tenant, a meeting hook only its meeting, an eventID hook only those events", async () => {
    const global = await receiver();
    const scoped = await receiver();
    const endings = await receiver();
    await hookFor(tenants.acme, global);
    await hookFor(tenants.acme, scoped, { meetingID: "two" });
    await hookFor(tenants.acme, endings, { eventID: "meeting-ended" });
    await createMeeting(tenants.acme, "one");
    await createMeeting(tenants.acme, "two");
    await node().endMeeting(nodeMeetingId("acme", "one"));
    await until(() => global.posts.length === 3 && endings.posts.length === 1 && scoped.posts.length === 1, "the events");
    expect(meetingIdsOf(global)).toEqual(["one", "two", "one"]);
    expect(meetingIdsOf(scoped)).toEqual(["two"]);
    expect(eventsOf(endings.posts).map((event) => [event.data.id, event.data.attributes.meeting["external-meeting-id"]])).toEqual([["meeting-ended", "one"]]);
  });

  it("maps a meeting ID too long for the node back to the tenant's", async () => {
    const acme = await receiver();
    await hookFor(tenants.acme, acme);
    const longId = `long-${"x".repeat(250)}`;
    await createMeeting(tenants.acme, longId);
    await until(() => acme.posts.length === 1, "the meeting-created");
    expect(meetingIdsOf(acme)).toEqual([longId]);
  });
});

describe("hooks that fail", () => {
  it("does not let a dead hook or a hanging hook hold up a healthy hook's events", async () => {
    const hanging = await receiver("hang");
    const healthy = await receiver();
    await hookFor(tenants.acme, `http://127.0.0.1:${await freePort()}/nobody-listens`);
    await hookFor(tenants.acme, hanging);
    await hookFor(tenants.acme, healthy);
    await createMeeting(tenants.acme, "busy");
    node().addAttendees(nodeMeetingId("acme", "busy"), 3);
    node().removeAttendees(nodeMeetingId("acme", "busy"), 1);
    await until(() => healthy.posts.length === 5, "the healthy hook's five events");
    expect(eventsOf(healthy.posts).map((event) => event.data.id)).toEqual(["meeting-created", "user-joined", "user-joined", "user-joined", "user-left"]);
    // The hanging hook still holds its first event, unanswered: nothing after it has gone to it.
    expect(hanging.held).toBe(1);
    expect(hanging.posts).toHaveLength(1);
  });

  it("retries a failing hook after each configured wait with the same signed post, then removes it and stops", async () => {
    const failing = await receiver("fail");
    const witness = await receiver();
    const hookID = await hookFor(tenants.globex, failing);
    await hookFor(tenants.globex, witness);
    const removedBefore = await counter("mediaplane_webhook_posts_total", { tenant: "globex", outcome: "removed" });
    await createMeeting(tenants.globex, "flaky");
    await until(async () => !(await hooksCall(balancer(), tenants.globex, "list")).includes(hookID), "the failing hook removed");
    expect(failing.posts).toHaveLength(retryIntervalsMs.length + 1);
    const gaps = failing.posts.slice(1).map((post, i) => post.at - failing.posts[i]!.at);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(retryIntervalsMs[i]! - 5));
    expect(new Set(failing.posts.map((post) => `${post.url} ${post.body}`)).size).toBe(1);
    expect(await counter("mediaplane_webhook_posts_total", { tenant: "globex", outcome: "removed" })).toBe(removedBefore + 1);
    // A later event reaches the witness, and never the removed hook.
    node().addAttendees(nodeMeetingId("globex", "flaky"), 1);
    await until(() => witness.posts.length === 2, "the witness's second event");
    expect(failing.posts).toHaveLength(retryIntervalsMs.length + 1);
  });
});

describe("events not from a node", () => {
  const nodeSecret = "n1-node-secret-0123456789";

  function forgedPost(meetingId: string, timestamp = Date.now()): string {
    const event = { data: { type: "event", id: "meeting-ended", attributes: { meeting: { "internal-meeting-id": "f00", "external-meeting-id": nodeMeetingId("acme", meetingId) } }, event: { ts: timestamp } } };
    return eventPostBody({ domain: "n1", eventJson: `[${JSON.stringify(event)}]`, timestamp });
  }

  async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<number> {
    const answer = await request(`${balancer().url}${path}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body });
    await answer.body.dump();
    return answer.statusCode;
  }

  const eventsPath = "/t/_mediaplane/events/n1";
  const signedPath = (body: string, secret: string, algorithm: "sha1" | "sha256" = "sha1"): string =>
    signedCallbackUrl(eventsPath, callbackChecksum(algorithm, nodeEventsUrl(publicUrl, "n1"), body, secret));

  it("refuses posts not signed with the node's secret, stale or to an unknown node, and relays none of them", async () => {
    const acme = await receiver();
    await hookFor(tenants.acme, acme);
    const refusedBefore = await counter("mediaplane_node_events_total", { node: "n1", result: "refused" });
    const body = forgedPost("forged");
    expect(await post(eventsPath, body)).toBe(401);
    expect(await post(signedPath(body, tenants.acme.secret), body)).toBe(401);
    expect(await post(signedPath(body, nodeSecret), forgedPost("other"))).toBe(401);
    expect(await post(signedPath(body, "n1-node-secret-0123456780"), body)).toBe(401);
    const stale = forgedPost("stale", Date.now() - 3_600_000);
    expect(await post(signedPath(stale, nodeSecret), stale)).toBe(401);
    expect(await post(eventsPath, body, { authorization: `Bearer ${tenants.acme.secret}` })).toBe(401);
    expect(await post(signedPath(body, nodeSecret).replace("/n1", "/n9"), body)).toBe(404);
    expect(await counter("mediaplane_node_events_total", { node: "n1", result: "refused" })).toBe(refusedBefore + 6);
    // A genuine post goes out after them on the same hook's queue: had any forged one been relayed, it came first.
    const genuine = forgedPost("genuine");
    expect(await post(signedPath(genuine, nodeSecret, "sha256"), genuine)).toBe(200);
    await until(() => acme.posts.length === 1, "the genuine event");
    expect(meetingIdsOf(acme)).toEqual(["genuine"]);
  });

  it("accepts the node's secret as a bearer token (bbb-webhooks' auth2_0)", async () => {
    const acme = await receiver();
    await hookFor(tenants.acme, acme);
    const body = forgedPost("bearer");
    expect(await post(eventsPath, body, { authorization: `Bearer ${nodeSecret}` })).toBe(200);
    await until(() => acme.posts.length === 1, "the event");
    expect(meetingIdsOf(acme)).toEqual(["bearer"]);
  });
});
