import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify, SignJWT } from "jose";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importShare } from "../../src/recordings/importer.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { get, signedUrl, tenants } from "../api/harness.js";
import { freePort } from "../support/redis.js";
import { startRecordingFleet, type RecordingFleet } from "./harness.js";

/**
 * The recording-ready and analytics callbacks, end to end: a simulated node calls them as BBB's scripts do
 * (record-and-playback/core/scripts/post_publish/post_publish_recording_ready_callback.rb: POST form
 * `signed_parameters`, HS256 JWT {meeting_id, record_id} with the node's secret;
 * record-and-playback/core/scripts/post_events/post_events_analytics_callback.rb: POST JSON, `Authorization: Bearer`
 * HS512 JWT {exp}), the balancer verifies them and calls a test tenant server signed with the tenant's secret.
 */

interface Received {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  readonly at: number;
}

/** A tenant's web server: records every request; `failFirst` answers 503 that many times per path first. */
async function startTenantServer(failFirst = 0, host = "127.0.0.1"): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const failures = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      const failed = failures.get(path) ?? 0;
      if (failed < failFirst) {
        failures.set(path, failed + 1);
        res.writeHead(503).end();
        return;
      }
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
      res.writeHead(200).end("ok");
    });
  });
  server.listen(0, host);
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close: () => new Promise((done) => server.close(() => done())) };
}

const key = (secret: string): Uint8Array => new TextEncoder().encode(secret);

async function until<T>(what: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let rf: RecordingFleet;
let tenant: Awaited<ReturnType<typeof startTenantServer>>;
let flaky: Awaited<ReturnType<typeof startTenantServer>>;

beforeAll(async () => {
  const port = await freePort();
  rf = await startRecordingFleet({
    port,
    publicUrl: `http://127.0.0.1:${port}`,
    callbackDeliveries: { attempts: 3, firstDelayMs: 50, maxDelayMs: 200, timeoutMs: 1_000, maxPending: 100 },
    // The tenants' test servers listen on loopback, an internal network only an operator can open to callbacks.
    configure: (config) => ({ ...config, webhooks: { allowedCallbackNetworks: ["127.0.0.1/32"] } }),
  });
  tenant = await startTenantServer();
  flaky = await startTenantServer(2);
}, 60_000);
afterAll(async () => {
  await rf.close();
  await tenant.close();
  await flaky.close();
});

const callbacks = (base: string, name: string): Record<string, string> => ({
  "meta_bbb-recording-ready-url": `${base}/ready/${name}`,
  "meta_analytics-callback-url": `${base}/analytics/${name}`,
});

describe("recording ready and analytics callbacks", () => {
  it("reach the tenant signed with the tenant's secret, with the tenant's meeting ID", async () => {
    const recording = (await rf.record("acme", "lecture", { params: callbacks(tenant.url, "lecture") }))!;
    const ready = await until(() => tenant.received.find((entry) => entry.path === "/ready/lecture"));
    expect(ready.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const token = new URLSearchParams(ready.body).get("signed_parameters") ?? "";
    const { payload, protectedHeader } = await jwtVerify(token, key(tenants.acme.secret), { algorithms: ["HS256"] });
    expect(protectedHeader.alg).toBe("HS256");
    expect(payload).toEqual({ meeting_id: "lecture", record_id: recording.recordId });

    const analytics = await until(() => tenant.received.find((entry) => entry.path === "/analytics/lecture"));
    const bearer = (analytics.headers.authorization ?? "").replace(/^Bearer /, "");
    const verified = await jwtVerify(bearer, key(tenants.acme.secret), { algorithms: ["HS512"], requiredClaims: ["exp"] });
    expect(verified.protectedHeader.alg).toBe("HS512");
    const document = JSON.parse(analytics.body) as { meeting_id: string; internal_meeting_id: string; data: { metadata: Record<string, string> } };
    expect(document.meeting_id).toBe("lecture");
    expect(document.internal_meeting_id).toBe(recording.recordId);
    expect(document.data.metadata["analytics_callback_url"]).toBe(`${tenant.url}/analytics/lecture`);
    expect(document.data.metadata["bbb_recording_ready_url"]).toBe(`${tenant.url}/ready/lecture`);
    expect(analytics.body).not.toMatch(/acme~|mediaplane|_mediaplane/);
  });

  it("give the node the balancer's URLs and show the tenant its own in getRecordings", async () => {
    const recording = (await rf.record("acme", "seminar", { params: callbacks(tenant.url, "seminar") }))!;
    const node = [...rf.fleet.simulator.nodes.values()].find((candidate) => candidate.recordings.some((entry) => entry.recordId === recording.recordId));
    const sent = node?.recordingCallbacks.filter((entry) => entry.meetingId === nodeMeetingId("acme", "seminar")) ?? [];
    expect(sent.map((entry) => new URL(entry.url).pathname).sort()).toEqual(["/t/_mediaplane/analytics", "/t/_mediaplane/recording-ready"]);
    expect(sent.every((entry) => entry.status === 200)).toBe(true);
    await importShare(rf.context(), rf.importSettings);
    const answer = await get(signedUrl(rf.fleet.balancers[0]!, tenants.acme, "getRecordings", { recordID: recording.recordId }));
    expect(answer.body).toContain(`<bbb-recording-ready-url>${tenant.url}/ready/seminar</bbb-recording-ready-url>`);
    expect(answer.body).not.toContain("_mediaplane");
  });

  it("refuse a callback not signed by the node the meeting is on, and deliver nothing for it", async () => {
    const recording = (await rf.record("globex", "exam", { params: callbacks(tenant.url, "exam") }))!;
    const node = [...rf.fleet.simulator.nodes.values()].find((candidate) => candidate.recordings.some((entry) => entry.recordId === recording.recordId))!;
    const ourUrl = node.recordingCallbacks.find((entry) => entry.kind === "recordingReady" && entry.meetingId === nodeMeetingId("globex", "exam"))!.url;
    await until(() => tenant.received.find((entry) => entry.path === "/ready/exam"));
    const deliveredBefore = tenant.received.length;
    const otherNode = rf.fleet.config.nodes.find((entry) => entry.id !== node.id)!;
    const nodeSecret = rf.fleet.config.nodes.find((entry) => entry.id === node.id)!.secret;
    const claims = { meeting_id: nodeMeetingId("globex", "exam"), record_id: recording.recordId };
    const forgeries: Array<[string, string]> = [
      ["signed by another node", await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(key(otherNode.secret))],
      ["signed by the tenant", await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(key(tenants.globex.secret))],
      ["another meeting's ID", await new SignJWT({ ...claims, meeting_id: nodeMeetingId("acme", "exam") }).setProtectedHeader({ alg: "HS256" }).sign(key(nodeSecret))],
      ["unsigned", `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`],
    ];
    for (const [, token] of forgeries) {
      const answer = await request(ourUrl, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ signed_parameters: token }).toString() });
      await answer.body.dump();
      expect(answer.statusCode).toBe(404);
    }
    const tampered = new URL(ourUrl);
    tampered.searchParams.set("u", `${tenant.url}/stolen`);
    const genuine = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(key(nodeSecret));
    const answer = await request(tampered.toString(), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ signed_parameters: genuine }).toString() });
    await answer.body.dump();
    expect(answer.statusCode).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tenant.received.length).toBe(deliveredBefore);
  });

  it("retry a tenant URL that fails with backoff until it answers", async () => {
    await rf.record("acme", "retried", { params: callbacks(flaky.url, "retried") });
    const ready = await until(() => flaky.received.find((entry) => entry.path === "/ready/retried"));
    expect(new URLSearchParams(ready.body).has("signed_parameters")).toBe(true);
  });

  it("never call a tenant URL on an internal address the operator did not open to callbacks", async () => {
    // On every loopback address, so only the policy can keep 127.0.0.2 from reaching it.
    const internal = await startTenantServer(0, "0.0.0.0");
    const port = new URL(internal.url).port;
    try {
      await rf.record("acme", "internal", { params: callbacks(`http://127.0.0.2:${port}`, "internal") });
      await rf.record("acme", "named", { params: callbacks(`http://localhost:${port}`, "named") });
      await rf.fleet.balancers[0]!.callbackDeliveries.settled();
      expect(internal.received).toEqual([]);
    } finally {
      await internal.close();
    }
  });

  it("never let a dead tenant URL hold up the node or another tenant's callback", async () => {
    const deadPort = await freePort();
    const started = Date.now();
    await rf.record("globex", "dead", { params: callbacks(`http://127.0.0.1:${deadPort}`, "dead") });
    await rf.record("acme", "alive", { params: callbacks(tenant.url, "alive") });
    const alive = await until(() => tenant.received.find((entry) => entry.path === "/ready/alive"));
    expect(alive.at - started).toBeLessThan(5_000);
    const node = [...rf.fleet.simulator.nodes.values()].find((candidate) => candidate.recordingCallbacks.some((entry) => entry.meetingId === nodeMeetingId("globex", "dead")))!;
    expect(node.recordingCallbacks.filter((entry) => entry.meetingId === nodeMeetingId("globex", "dead")).map((entry) => entry.status)).toEqual([200, 200]);
    await rf.fleet.balancers[0]!.callbackDeliveries.settled();
    expect(rf.fleet.balancers[0]!.callbackDeliveries.size).toBe(0);
  });
});
