import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { callApi, fetchAnswer, tag, tags } from "./support.js";

const nodeCount = 50;
const specs = Array.from({ length: nodeCount }, (_, i) => ({ id: `node-${i}`, secret: `secret-${i}-0123456789` }));
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({ nodes: specs, requestLogSize: 10 });
});
afterAll(async () => {
  await simulator.close();
});

describe("many nodes on one server", () => {
  it("gives every node its own URLs on the same port", () => {
    const ports = new Set([...simulator.nodes.values()].map((node) => new URL(node.apiUrl).port));
    expect(ports.size).toBe(1);
    expect(simulator.node("node-7").apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/node-7\/bigbluebutton\/api\/$/);
    expect(simulator.node("node-7").loadUrl).toMatch(/\/node-7\/b3lb\/load$/);
  });

  it("keeps each node's meetings to itself", async () => {
    await callApi(simulator.node("node-1"), "secret-1-0123456789", "create", "name=Only+here&meetingID=only-1");
    const own = await callApi(simulator.node("node-1"), "secret-1-0123456789", "getMeetings", "");
    const other = await callApi(simulator.node("node-2"), "secret-2-0123456789", "getMeetings", "");
    expect(tags(own.body, "meetingID")).toEqual(["only-1"]);
    expect(tag(other.body, "messageKey")).toBe("noMeetings");
  });

  it("checks each node's checksum with its own secret", async () => {
    const answer = await callApi(simulator.node("node-3"), "secret-4-0123456789", "getMeetings", "");
    expect(tag(answer.body, "messageKey")).toBe("checksumError");
  });

  it("fails one node without touching its neighbours", async () => {
    simulator.node("node-5").setFailure("down");
    await expect(fetch(simulator.node("node-5").apiUrl)).rejects.toThrow();
    const neighbour = await fetchAnswer(simulator.node("node-6").apiUrl);
    expect(tag(neighbour.body, "returncode")).toBe("SUCCESS");
    simulator.node("node-5").setFailure("none");
  });

  it("answers getMeetings on every node at once", async () => {
    const answers = await Promise.all(specs.map((spec) => callApi(simulator.node(spec.id), spec.secret, "getMeetings", "")));
    expect(answers.every((answer) => tag(answer.body, "returncode") === "SUCCESS")).toBe(true);
  });

  it("answers 404 for a node it does not host", async () => {
    const base = simulator.node("node-0").apiUrl.replace("/node-0/", "/node-x/");
    expect((await fetchAnswer(base)).status).toBe(404);
  });

  it("throws for an unknown node id", () => {
    expect(() => simulator.node("node-x")).toThrow(/node-x/);
  });
});
