import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signQuery } from "../../src/bbb/checksum.js";
import { startSimulatedNode, type StandaloneSimulatedNode } from "../../src/simulator/index.js";
import { callApi, fetchAnswer, tag } from "./support.js";

const secret = "other-calls-secret-0123456789";
let node: StandaloneSimulatedNode;

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb-other", secret });
  await callApi(node, secret, "create", "name=Live&meetingID=live-1");
});
afterAll(async () => {
  await node.close();
});

const modules = '<modules><module name="presentation"><document url="https://files.example/extra.pdf" filename="extra.pdf"/></module></modules>';

describe("insertDocument", () => {
  it("records the documents posted to a live meeting", async () => {
    const query = signQuery("insertDocument", "meetingID=live-1", secret, "sha256");
    const answer = await fetchAnswer(`${node.apiUrl}insertDocument?${query}`, { method: "POST", headers: { "Content-Type": "application/xml" }, body: modules });
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
    expect(node.meeting("live-1")?.presentations).toContainEqual({ via: "insertDocument", inline: false, url: "https://files.example/extra.pdf", filename: "extra.pdf" });
  });

  it("answers notFound for an unknown meeting", async () => {
    const query = signQuery("insertDocument", "meetingID=gone-1", secret, "sha256");
    const answer = await fetchAnswer(`${node.apiUrl}insertDocument?${query}`, { method: "POST", headers: { "Content-Type": "application/xml" }, body: modules });
    expect(tag(answer.body, "messageKey")).toBe("notFound");
  });
});

describe("sendChatMessage", () => {
  it("accepts a message for a live meeting", async () => {
    const answer = await callApi(node, secret, "sendChatMessage", "meetingID=live-1&message=Hello+all&userName=Bot");
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
  });

  it("answers validationError for a message longer than 500 characters", async () => {
    const answer = await callApi(node, secret, "sendChatMessage", `meetingID=live-1&message=${"x".repeat(501)}`);
    expect(tag(answer.body, "messageKey")).toBe("validationError");
  });

  it("answers validationError without a message", async () => {
    const answer = await callApi(node, secret, "sendChatMessage", "meetingID=live-1");
    expect(tag(answer.body, "messageKey")).toBe("validationError");
  });
});

describe("recordings", () => {
  it("answers noRecordings to getRecordings", async () => {
    const answer = await callApi(node, secret, "getRecordings", "meetingID=live-1");
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
    expect(tag(answer.body, "messageKey")).toBe("noRecordings");
  });

  it.each(["publishRecordings", "updateRecordings", "deleteRecordings"])("answers notFound to %s", async (call) => {
    const answer = await callApi(node, secret, call, "recordID=abc-123&publish=true");
    expect(tag(answer.body, "messageKey")).toBe("notFound");
  });

  it("answers missingParamRecordID without a recordID", async () => {
    const answer = await callApi(node, secret, "deleteRecordings", "");
    expect(tag(answer.body, "messageKey")).toBe("missingParamRecordID");
  });
});
