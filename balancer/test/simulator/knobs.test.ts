import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSimulatedNode, startSimulator, type StandaloneSimulatedNode } from "../../src/simulator/index.js";
import { callApi, fetchAnswer, tag } from "./support.js";

const secret = "knobs-secret-0123456789";
let node: StandaloneSimulatedNode;

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb-knobs", secret });
});
afterEach(() => {
  node.setFailure("none");
  node.setLatency(0);
});
afterAll(async () => {
  await node.close();
});

describe("knobs", () => {
  it("delays answers by the latency set, so a client with a shorter timeout gives up", async () => {
    node.setLatency(400);
    await expect(fetch(`${node.apiUrl}`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    const started = Date.now();
    const answer = await fetchAnswer(node.apiUrl);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
  });

  it("resets the connection when down", async () => {
    node.setFailure("down");
    await expect(fetch(node.apiUrl)).rejects.toThrow(TypeError);
    await expect(fetch(node.loadUrl)).rejects.toThrow(TypeError);
  });

  it("never answers when hanging, until the client times out", async () => {
    node.setFailure("hang");
    await expect(fetch(node.apiUrl, { signal: AbortSignal.timeout(150) })).rejects.toThrow(/abort|timeout/i);
  });

  it("answers HTTP 500 in error500 mode", async () => {
    node.setFailure("error500");
    const answer = await callApi(node, secret, "getMeetings", "");
    expect(answer.status).toBe(500);
  });

  it("answers a body that is not a BBB response in garbage mode", async () => {
    node.setFailure("garbage");
    const answer = await callApi(node, secret, "getMeetings", "");
    expect(answer.status).toBe(200);
    expect(tag(answer.body, "returncode")).toBeUndefined();
  });

  it("comes back once the failure is cleared", async () => {
    node.setFailure("down");
    await expect(fetch(node.apiUrl)).rejects.toThrow();
    node.setFailure("none");
    const answer = await callApi(node, secret, "getMeetings", "");
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
  });

  it("serves the CPU figure as text at the load URL", async () => {
    node.setCpu(4321);
    const answer = await fetchAnswer(node.loadUrl);
    expect(answer.contentType).toBe("text/plain;charset=utf-8");
    expect(answer.body).toBe("4321");
  });

  it("refuses a CPU figure outside 0..10000", () => {
    expect(() => node.setCpu(10_001)).toThrow(RangeError);
    expect(() => node.setCpu(-1)).toThrow(RangeError);
  });

  it("keeps the API requests it received, with their parameters", async () => {
    await callApi(node, secret, "getMeetingInfo", "meetingID=logged-1");
    const last = node.requests.at(-1);
    expect(last).toMatchObject({ call: "getMeetingInfo", method: "GET", params: { meetingID: "logged-1" } });
    expect(last?.rawQuery).toMatch(/^meetingID=logged-1&checksum=[0-9a-f]{64}$/);
  });

  it("keeps only the last requests, as many as requestLogSize", async () => {
    const small = await startSimulator({ nodes: [{ id: "small-log", secret }], requestLogSize: 3 });
    try {
      const smallNode = small.node("small-log");
      for (const meetingId of ["r-1", "r-2", "r-3", "r-4", "r-5"]) await callApi(smallNode, secret, "isMeetingRunning", `meetingID=${meetingId}`);
      expect(smallNode.requests.map((r) => r.params["meetingID"])).toEqual(["r-3", "r-4", "r-5"]);
    } finally {
      await small.close();
    }
  });
});
