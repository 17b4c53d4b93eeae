import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSimulatedNode, type StandaloneSimulatedNode } from "../../src/simulator/index.js";
import { eventsOf, startReceiver, until, type Receiver } from "../webhooks/support.js";
import { callApi, tag } from "./support.js";

/**
 * The simulated node's bbb-webhooks, as v3.4.0 behaves: its API (src/out/webhooks/api/api.js, responses.js), the
 * mapped events (src/process/event.js, example/events/mapped-events.json) and the signed posts
 * (src/out/webhooks/callback-emitter.js: body `domain&event&timestamp`, checksum sha1(callbackURL + body + secret)).
 */

const secret = "node-secret-0123456789";
let node: StandaloneSimulatedNode;
let receiver: Receiver;

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb1", secret, webhooks: { retryIntervalsMs: [20, 40] } });
});
afterAll(async () => node.close());
afterEach(async () => {
  for (const hook of node.hooks) await callApi(node, secret, "hooks/destroy", `hookID=${hook.hookID}`);
  node.forgetAllMeetings();
  await receiver.close();
});

async function register(params: Record<string, string>): Promise<string> {
  const answer = await callApi(node, secret, "hooks/create", new URLSearchParams(params).toString(), "sha1");
  return tag(answer.body, "hookID") ?? "";
}

describe("simulated bbb-webhooks", () => {
  it("answers hooks calls with a wrong checksum in bbb-webhooks' wording", async () => {
    receiver = await startReceiver();
    const answer = await callApi(node, "another-secret-012345", "hooks/list", "");
    expect(answer.body).toContain("<messageKey>checksumError</messageKey><message>You did not pass the checksum security check.</message>");
  });

  it("posts meeting-created, user-joined, user-left and meeting-ended in order, shaped as bbb-webhooks maps them", async () => {
    receiver = await startReceiver();
    await register({ callbackURL: receiver.url });
    await callApi(node, secret, "create", "name=Room&meetingID=room-1&meta_course=math&moderatorPW=mp&attendeePW=ap");
    node.addAttendees("room-1", 1, "MODERATOR");
    node.removeAttendees("room-1", 1);
    node.addAttendees("room-1", 1);
    await node.endMeeting("room-1");
    await until(() => receiver.posts.length === 6, "six posts");
    const events = eventsOf(receiver.posts);
    expect(events.map((event) => event.data.id)).toEqual(["meeting-created", "user-joined", "user-left", "user-joined", "user-left", "meeting-ended"]);
    const created = events[0]!.data;
    expect(created).toMatchObject({ type: "event", attributes: { meeting: { "external-meeting-id": "room-1", name: "Room", "is-breakout": false, "parent-id": "bbb-none", "moderator-pass": "mp", "viewer-pass": "ap", metadata: { course: "math" } } } });
    expect(created.attributes.meeting["internal-meeting-id"]).toMatch(/^[0-9a-f]{40}-\d+$/);
    expect(events[1]!.data.attributes.user).toMatchObject({ role: "MODERATOR", presenter: true, guest: false, name: "Simulated moderator 1" });
    expect(Object.keys(events[2]!.data.attributes.user ?? {}).sort()).toEqual(["external-user-id", "guest", "internal-user-id"]);
    expect(Object.keys(events[5]!.data.attributes)).toEqual(["meeting"]);
  });

  it("signs each post with sha1 over the callback URL, the body and the node's secret", async () => {
    receiver = await startReceiver("ok", "/hook?tenant=x");
    await register({ callbackURL: receiver.url });
    await callApi(node, secret, "create", "name=Room&meetingID=room-2");
    await until(() => receiver.posts.length === 1, "one post");
    const [post] = receiver.posts;
    const query = new URLSearchParams(post!.url.slice(post!.url.indexOf("?") + 1));
    expect(query.get("tenant")).toBe("x");
    expect(query.get("checksum")).toBe(createHash("sha1").update(`${receiver.url}${post!.body}${secret}`).digest("hex"));
    expect([...new URLSearchParams(post!.body).keys()]).toEqual(["domain", "event", "timestamp"]);
  });

  it("posts to a meeting's hook only that meeting's events", async () => {
    receiver = await startReceiver();
    await register({ callbackURL: receiver.url, meetingID: "room-3" });
    await callApi(node, secret, "create", "name=Other&meetingID=room-other");
    await callApi(node, secret, "create", "name=Room&meetingID=room-3");
    await until(() => receiver.posts.length === 1, "one post");
    expect(eventsOf(receiver.posts)[0]!.data.attributes.meeting["external-meeting-id"]).toBe("room-3");
  });

  it("retries a failing hook after each interval, then removes it", async () => {
    receiver = await startReceiver("fail");
    const hookID = await register({ callbackURL: receiver.url });
    await callApi(node, secret, "create", "name=Room&meetingID=room-4");
    await until(() => node.hooks.length === 0, "the hook removed");
    expect(receiver.posts).toHaveLength(3);
    expect(node.webhookAttempts.filter((attempt) => attempt.hookID === hookID).map((attempt) => attempt.outcome)).toEqual([500, 500, 500]);
  });
});
